/**
 * `keel doctor --html`: the doctor's findings as a keel page, the cluster drawn from the IPVS tables it read, each
 * node marked where a finding is about its host; clicking a node shows that host's findings.
 */
import { type ClusterService, clusterFromTables } from '../report/cluster.js';
import { anchor, escapeHtml, page } from '../report/html.js';
import type { Finding } from './findings.js';
import { groupByHost } from './report.js';
import type { DoctorSummary } from './run.js';

function failing(findings: readonly Finding[], host: string): boolean {
  return findings.some((finding) => finding.host === host && finding.severity !== 'info');
}

export function doctorCluster(summary: DoctorSummary): ClusterService[] {
  return clusterFromTables(
    summary.hosts.map((host) => ({ host: host.host, table: host.state?.ipvs?.table ?? [] })),
    new Map(summary.hosts.map((host) => [host.address, host.host])),
    (host) => (failing(summary.findings, host) ? 'failing a doctor check' : 'in sync'),
  );
}

function findingItem(finding: Finding): string {
  const evidence = finding.evidence.map((line) => `<pre class="evidence">${escapeHtml(line)}</pre>`).join('');
  return `<div class="resource ${finding.severity === 'info' ? 'pending' : 'failed'}" data-id="${escapeHtml(finding.id)}"><h3><span class="outcome">${escapeHtml(finding.severity)}</span> ${escapeHtml(finding.id)}</h3>${evidence}<p>${escapeHtml(finding.why)}</p><p><strong>Fix:</strong> ${escapeHtml(finding.fix)}</p></div>`;
}

export function renderDoctorHtml(summary: DoctorSummary): string {
  const grouped = new Map(groupByHost(summary.findings));
  const stateOf = (host: DoctorSummary['hosts'][number]): string =>
    host.outcome !== 'ok' ? host.outcome : failing(summary.findings, host.host) ? 'failing a doctor check' : 'in sync';
  const rows = summary.hosts.map((host) => {
    const findings = grouped.get(host.host) ?? [];
    const count = (severity: string) => findings.filter((finding) => finding.severity === severity).length;
    const state = stateOf(host);
    return `<tr data-status="${escapeHtml(state)}"><td><a href="#${anchor(host.host)}">${escapeHtml(host.host)}</a></td><td class="state ${state === 'in sync' ? 'in-sync' : 'failed'}">${escapeHtml(state)}</td><td>${count('error')}</td><td>${count('warning')}</td><td>${count('info')}</td><td data-sort="${host.durationMs}">${(host.durationMs / 1000).toFixed(1)} s</td></tr>`;
  });
  const sections = [...grouped]
    .map(
      ([host, findings]) =>
        `<section class="host" id="${anchor(host)}"><h2>${escapeHtml(host)}</h2>${findings.map(findingItem).join('')}</section>`,
    )
    .join('');
  const skipped = summary.skipped.length
    ? `<section class="host"><h2>Skipped</h2>${summary.skipped.map((entry) => `<p>${escapeHtml(entry.host)}: ${escapeHtml(entry.reason)} (${escapeHtml(entry.checks.join(', '))})</p>`).join('')}</section>`
    : '';
  const wrong = summary.findings.filter((finding) => finding.severity !== 'info').length;
  return page({
    title: 'keel doctor',
    summary: [
      `${escapeHtml(summary.startedAt)} · ${(summary.durationMs / 1000).toFixed(1)} s`,
      `${summary.hosts.length} hosts read; directors: ${escapeHtml(summary.directors.join(', ') || 'none')}; real servers: ${escapeHtml(summary.realServers.join(', ') || 'none')}`,
      `<strong class="exit">exit ${summary.exitCode}: ${wrong === 0 ? 'nothing wrong' : `${wrong} finding${wrong === 1 ? '' : 's'}`}</strong>`,
    ],
    cluster: doctorCluster(summary),
    hostColumns: ['host', 'state', 'errors', 'warnings', 'notes', 'time'],
    hostRows: rows,
    states: [...new Set(summary.hosts.map(stateOf))],
    sections: sections + skipped,
  });
}
