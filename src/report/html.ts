/**
 * One self-contained HTML file for a run: the summary, a sortable and filterable table of hosts, every changed,
 * drifted or failed resource with its field changes and diffs, and the LVS cluster drawn when the run read IPVS
 * tables. Inline CSS and script, no fetch of any kind (a Content-Security-Policy forbids them too), and every
 * string from a report is escaped: it is the JSON report, already redacted, drawn.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { html as diffHtml } from 'diff2html';
import { type ClusterService, clusterOf, hostState, type NodeState } from './cluster.js';
import { fleetLine, formatValue } from './format.js';
import type { Report } from './json.js';

type HostReport = Report['hosts'][number];
type ResourceReport = HostReport['resources'][number];

export interface HtmlOptions {
  /** Inventory addresses by host name: they match a director's real servers to the hosts of the run. */
  addresses?: ReadonlyMap<string, string>;
}

/** Real servers drawn one by one up to this many per service; beyond, they are counted by state. */
const MAX_DRAWN_SERVERS = 24;
const SHOWN_OUTCOMES = new Set(['changed', 'drifted', 'failed', 'pending']);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const EXIT_BITS: [number, string][] = [
  [2, 'drift found or changes pending'],
  [4, 'a resource failed'],
  [8, 'a host was unreachable'],
];

export function exitMeaning(code: number): string {
  if (code === 0) return 'ok: applied, or in sync';
  if (code === 1) return 'usage, inventory or recipe error';
  if (code === 130) return 'interrupted';
  return EXIT_BITS.filter(([bit]) => (code & bit) !== 0)
    .map(([, meaning]) => meaning)
    .join('; ');
}

function diffCss(): string {
  return readFileSync(createRequire(import.meta.url).resolve('diff2html/bundles/css/diff2html.min.css'), 'utf8');
}

export function anchor(host: string): string {
  return `host-${host.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

function hostRow(host: HostReport): string {
  const state = hostState(host);
  const c = host.counts;
  return `<tr data-status="${escapeHtml(state)}"><td><a href="#${anchor(host.host)}">${escapeHtml(host.host)}</a></td><td class="state ${state.replace(/ /g, '-')}">${escapeHtml(state)}</td><td>${c.changed}</td><td>${c.drifted + c.pending}</td><td>${c.failed}</td><td>${c.unchanged}</td><td data-sort="${host.durationMs}">${(host.durationMs / 1000).toFixed(1)} s</td></tr>`;
}

function changeRows(resource: ResourceReport): string {
  const rows = resource.changes
    .filter((change) => change.patch === undefined)
    .map(
      (change) =>
        `<tr class="change"><td>${escapeHtml(change.field)}</td><td><code>${escapeHtml(formatValue(change.from))}</code></td><td><code>${escapeHtml(formatValue(change.to))}</code></td></tr>`,
    );
  return rows.length ? `<table class="changes"><tr><th>field</th><th>from</th><th>to</th></tr>${rows.join('')}</table>` : '';
}

function patches(resource: ResourceReport): string {
  return resource.changes
    .filter((change) => change.patch !== undefined)
    .map(
      (change) =>
        `<div class="patch">${diffHtml(change.patch!, { drawFileList: false, outputFormat: 'line-by-line', matching: 'lines' })}</div>`,
    )
    .join('');
}

function failure(resource: ResourceReport): string {
  const error = resource.error;
  if (!error) return '';
  const parts = [`<p class="error">${escapeHtml(error.phase)}: ${escapeHtml(error.message)}</p>`];
  if (error.command !== undefined) parts.push(`<pre class="command">$ ${escapeHtml(error.command)}</pre>`);
  if (error.exitCode !== undefined) parts.push(`<p>exit code ${error.exitCode}</p>`);
  if (error.stderr) parts.push(`<pre class="stderr">${escapeHtml(error.stderr)}</pre>`);
  return parts.join('');
}

function hostSection(host: HostReport): string {
  const shown = host.resources.filter((resource) => SHOWN_OUTCOMES.has(resource.outcome));
  if (shown.length === 0 && !host.error) return '';
  const resources = shown.map(
    (resource) =>
      `<div class="resource ${resource.outcome}" data-id="${escapeHtml(resource.id)}"><h3><span class="outcome">${escapeHtml(resource.outcome)}</span> ${escapeHtml(resource.id)}</h3>${changeRows(resource)}${patches(resource)}${failure(resource)}</div>`,
  );
  const error = host.error ? `<p class="error">${escapeHtml(host.error)}</p>` : '';
  return `<section class="host" id="${anchor(host.host)}"><h2>${escapeHtml(host.host)}</h2>${error}${resources.join('')}</section>`;
}

const BOX = { width: 150, height: 46, gap: 14 };
const PROTOCOLS: Record<string, string> = { '-t': 'TCP', '-u': 'UDP', '-f': 'firewall mark' };

function box(x: number, y: number, kind: string, label: string, detail: string, state: NodeState, host?: string): string {
  const data = host ? ` data-host="${escapeHtml(host)}" data-target="${anchor(host)}"` : '';
  return `<g class="node ${kind} ${state.replace(/ /g, '-')}"${data} data-state="${escapeHtml(state)}" transform="translate(${x},${y})"><rect width="${BOX.width}" height="${BOX.height}" rx="6"/><text x="8" y="18" class="label">${escapeHtml(label)}</text><text x="8" y="36" class="detail">${escapeHtml(detail)}</text></g>`;
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`;
}

function serviceDrawing(service: ClusterService): string {
  const servers = service.realServers;
  const grouped = servers.length > MAX_DRAWN_SERVERS;
  const counts = new Map<NodeState, number>();
  for (const rs of servers) counts.set(rs.state, (counts.get(rs.state) ?? 0) + 1);
  const bottom = grouped ? [...counts] : servers;
  const columns = Math.max(bottom.length, service.directors.length, 1);
  const width = columns * (BOX.width + BOX.gap) + BOX.gap;
  const centre = (count: number, index: number) => (width - count * (BOX.width + BOX.gap) + BOX.gap) / 2 + index * (BOX.width + BOX.gap);
  const rows = { vip: 10, director: 100, servers: 190 };
  const parts: string[] = [
    box(
      centre(1, 0),
      rows.vip,
      'vip',
      service.key.replace(/^-[tuf] /, ''),
      `virtual service, ${PROTOCOLS[service.key.slice(0, 2)] ?? service.key}`,
      'in sync',
    ),
  ];
  service.directors.forEach((director, index) => {
    const x = centre(service.directors.length, index);
    parts.push(line(centre(1, 0) + BOX.width / 2, rows.vip + BOX.height, x + BOX.width / 2, rows.director));
    parts.push(box(x, rows.director, 'director', director.host, `director · ${director.state}`, director.state, director.host));
  });
  const drawnCount = bottom.length;
  bottom.forEach((entry, index) => {
    const x = centre(drawnCount, index);
    for (let d = 0; d < service.directors.length; d++)
      parts.push(line(centre(service.directors.length, d) + BOX.width / 2, rows.director + BOX.height, x + BOX.width / 2, rows.servers));
    if (grouped) {
      const [state, count] = entry as [NodeState, number];
      parts.push(box(x, rows.servers, 'realserver group', `${count} real server${count === 1 ? '' : 's'}`, state, state));
    } else {
      const rs = entry as ClusterService['realServers'][number];
      const conns = rs.activeConnections !== undefined ? ` · ${rs.activeConnections} conns` : '';
      parts.push(box(x, rows.servers, 'realserver', rs.host ?? rs.server, `weight ${rs.weight}${conns} · ${rs.state}`, rs.state, rs.host));
    }
  });
  const height = rows.servers + BOX.height + 10;
  return `<svg class="cluster" role="img" aria-label="LVS service ${escapeHtml(service.key)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;border-bottom:1px solid #ccd;padding-bottom:.2em}h3{font-size:1em;margin:.6em 0 .3em}
.summary p{margin:.2em 0}.exit{font-weight:600}
table{border-collapse:collapse}th,td{padding:.25em .6em;border-bottom:1px solid #e3e6ee;text-align:left}
#hosts th{cursor:pointer;user-select:none;background:#f4f6fa}
.state.in-sync{color:#2a7a3b}.state.changed{color:#1f5fbf}.state.drifted{color:#b26b00}.state.failed,.state.unreachable{color:#b3261e}
.resource{margin:.5em 0 1em;padding:.4em .8em;border-left:4px solid #ccd}.resource.changed{border-color:#1f5fbf}
.resource.drifted,.resource.pending{border-color:#b26b00}.resource.failed{border-color:#b3261e}
.outcome{text-transform:uppercase;font-size:.8em;letter-spacing:.05em}
pre{background:#f6f7f9;padding:.5em;overflow:auto;white-space:pre-wrap}.error{color:#b3261e}
svg.cluster{display:block;margin:.5em 0 1em}svg line{stroke:#98a2b3;stroke-width:1.5}
.node rect{fill:#fff;stroke:#667085;stroke-width:1.5}.node{cursor:pointer}.node text{font-size:12px;fill:#1d2330}.node .label{font-weight:600}
.node.vip rect{fill:#eef4ff}.node.in-sync rect{stroke:#2a7a3b}.node.changed rect{stroke:#1f5fbf}
.node.drifted rect{stroke:#b26b00;fill:#fff7e6}.node.drained rect{stroke:#b26b00;stroke-dasharray:5 3;fill:#f2f2f2}
.node.failed rect,.node.unreachable rect{stroke:#b3261e;fill:#fdecea}.node.selected rect{stroke-width:3.5}
#details{border:1px solid #ccd;padding:.5em 1em;margin:.5em 0;display:none}#details.open{display:block}
`;

const SCRIPT = `
(function(){
var table=document.getElementById('hosts');
if(table){
  var body=table.tBodies[0];
  table.querySelectorAll('th').forEach(function(th,column){th.addEventListener('click',function(){
    var rows=Array.prototype.slice.call(body.rows);var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';
    rows.sort(function(a,b){var x=a.cells[column],y=b.cells[column];var p=x.dataset.sort||x.textContent,q=y.dataset.sort||y.textContent;
      var m=parseFloat(p),n=parseFloat(q);return (isNaN(m)||isNaN(n)?p.localeCompare(q):m-n)*dir;});
    rows.forEach(function(r){body.appendChild(r);});});});
  var filter=document.getElementById('status-filter');
  filter.addEventListener('change',function(){Array.prototype.forEach.call(body.rows,function(r){
    r.hidden=filter.value!=='all'&&r.dataset.status!==filter.value;});});
}
var details=document.getElementById('details');
document.querySelectorAll('.node[data-target]').forEach(function(node){node.addEventListener('click',function(){
  document.querySelectorAll('.node.selected').forEach(function(n){n.classList.remove('selected');});node.classList.add('selected');
  var section=document.getElementById(node.dataset.target);details.textContent='';
  var title=document.createElement('h3');title.textContent=node.dataset.host+': '+node.dataset.state;details.appendChild(title);
  if(section){details.appendChild(section.cloneNode(true)).removeAttribute('id');}
  else{var p=document.createElement('p');p.textContent='nothing to show: in sync, no finding';details.appendChild(p);}
  details.classList.add('open');});});
})();
`;

/** What a page holds besides its frame: the lines under the title, and the body. */
export interface PageParts {
  title: string;
  summary: string[];
  cluster: readonly ClusterService[];
  /** Column titles of the host table, and its rows (`<tr data-status=…>`), already escaped. */
  hostColumns: readonly string[];
  hostRows: readonly string[];
  states: readonly string[];
  /** One `<section class="host" id="host-…">` a host with anything to show, already escaped. */
  sections: string;
}

/** The frame every keel page shares: style, summary, the cluster drawn, the host table, sections and the script. */
export function page(parts: PageParts): string {
  const clusterPart = parts.cluster.length
    ? `<h2>Cluster</h2><p>Click a director or real server for its details.</p>${parts.cluster.map(serviceDrawing).join('')}<div id="details"></div>`
    : '';
  const filter = `<label>Show <select id="status-filter"><option value="all">all hosts</option>${parts.states.map((s) => `<option value="${escapeHtml(s)}">${escapeHtml(s)}</option>`).join('')}</select></label>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.title)}</title><style>${diffCss()}${STYLE}</style></head>
<body>
<header class="summary"><h1>${escapeHtml(parts.title)}</h1>
${parts.summary.map((line) => `<p>${line}</p>`).join('\n')}</header>
${clusterPart}
<h2>Hosts</h2>${filter}
<table id="hosts"><thead><tr>${parts.hostColumns.map((column) => `<th>${escapeHtml(column)}</th>`).join('')}</tr></thead>
<tbody>${parts.hostRows.join('')}</tbody></table>
${parts.sections}
<script>${SCRIPT}</script>
</body></html>
`;
}

export function renderHtml(report: Report, options: HtmlOptions = {}): string {
  return page({
    title: `keel ${report.mode}: ${report.recipes.join(', ')}`,
    summary: [
      `${escapeHtml(report.startedAt)} · ${(report.durationMs / 1000).toFixed(1)} s${report.interrupted ? ' · <strong>interrupted</strong>' : ''}`,
      `<span class="fleet">${escapeHtml(fleetLine(report))}</span>`,
      `<strong class="exit">exit ${report.exitCode}: ${escapeHtml(exitMeaning(report.exitCode))}</strong>`,
    ],
    cluster: clusterOf(report, options.addresses),
    hostColumns: ['host', 'state', 'changed', 'drifted', 'failed', 'unchanged', 'time'],
    hostRows: report.hosts.map(hostRow),
    states: [...new Set(report.hosts.map(hostState))],
    sections: report.hosts.map(hostSection).join(''),
  });
}
