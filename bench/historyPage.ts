/**
 * bench/report.html: the bench's history drawn, one chart per fleet size and phase, keel, Ansible and `ssh true`
 * over the recorded runs. Self-contained, like keel's own HTML report.
 */
import { escapeHtml } from '../src/report/html.js';
import type { BenchHistory } from './history.js';

const TOOLS = [
  { tool: 'keel', colour: '#1f5fbf' },
  { tool: 'ansible', colour: '#b3261e' },
  { tool: 'ssh true', colour: '#2a7a3b' },
];
const CHART = { width: 640, height: 220, left: 56, right: 16, top: 16, bottom: 40 };

interface Point {
  run: number;
  seconds: number;
}

function chart(title: string, labels: string[], series: { tool: string; colour: string; points: Point[] }[]): string {
  const max = Math.max(0.1, ...series.flatMap((s) => s.points.map((p) => p.seconds)));
  const innerWidth = CHART.width - CHART.left - CHART.right;
  const innerHeight = CHART.height - CHART.top - CHART.bottom;
  const x = (run: number) => CHART.left + (labels.length === 1 ? innerWidth / 2 : (run / (labels.length - 1)) * innerWidth);
  const y = (seconds: number) => CHART.top + innerHeight - (seconds / max) * innerHeight;
  const ticks = [0, max / 2, max].map(
    (value) => `<text x="${CHART.left - 6}" y="${y(value) + 4}" text-anchor="end">${value.toFixed(value < 10 ? 2 : 0)} s</text>`,
  );
  const axis = labels.map((label, run) => `<text x="${x(run)}" y="${CHART.height - 22}" text-anchor="middle">${escapeHtml(label)}</text>`);
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const path = s.points.map((p) => `${x(p.run).toFixed(1)},${y(p.seconds).toFixed(1)}`).join(' ');
      const dots = s.points
        .map(
          (p) =>
            `<circle class="point" data-tool="${escapeHtml(s.tool)}" cx="${x(p.run).toFixed(1)}" cy="${y(p.seconds).toFixed(1)}" r="3.5" fill="${s.colour}"><title>${escapeHtml(`${s.tool}: ${p.seconds.toFixed(2)} s`)}</title></circle>`,
        )
        .join('');
      return `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${path}"/>${dots}`;
    });
  const legend = series.map(
    (s, index) => `<text x="${CHART.left + index * 110}" y="${CHART.height - 4}" style="fill:${s.colour}">■ ${escapeHtml(s.tool)}</text>`,
  );
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg width="${CHART.width}" height="${CHART.height}" viewBox="0 0 ${CHART.width} ${CHART.height}" xmlns="http://www.w3.org/2000/svg"><line x1="${CHART.left}" y1="${CHART.top}" x2="${CHART.left}" y2="${CHART.top + innerHeight}" stroke="#98a2b3"/><line x1="${CHART.left}" y1="${CHART.top + innerHeight}" x2="${CHART.width - CHART.right}" y2="${CHART.top + innerHeight}" stroke="#98a2b3"/>${ticks.join('')}${axis.join('')}${lines.join('')}${legend.join('')}</svg></figure>`;
}

export function historyPage(history: BenchHistory): string {
  const labels = history.runs.map((run) => `${run.date} ${run.commit}`);
  const sizes = [...new Set(history.runs.flatMap((run) => run.sizes.map((size) => size.hosts)))].sort((a, b) => a - b);
  const charts = sizes.flatMap((hosts) =>
    ['check', 'first apply'].map((phase) =>
      chart(
        `${hosts} hosts, ${phase}: median wall time`,
        labels,
        TOOLS.map(({ tool, colour }) => ({
          tool,
          colour,
          points: history.runs.flatMap((run, index) => {
            const summary = run.sizes.find((size) => size.hosts === hosts)?.summaries.find((s) => s.tool === tool && s.phase === phase);
            return summary ? [{ run: index, seconds: summary.wallMs / 1000 }] : [];
          }),
        })),
      ),
    ),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>keel bench history</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}figure{margin:1em 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#475467}</style>
</head><body><h1>keel against Ansible, over time</h1>
<p>${history.runs.length} recorded run(s) from bench/results.json; each point is the median of its rounds.</p>
${charts.join('\n')}
</body></html>
`;
}
