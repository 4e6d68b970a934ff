/**
 * `keel report merge`: the reports of the shards of one run, as one report. The shards must have run the same
 * mode and recipes, and no host may appear in two of them.
 */
import { formatPath, validate } from '../schema/index.js';
import { type Report, ReportSchema } from './json.js';

export class ReportMergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportMergeError';
  }
}

export interface ReportFile {
  file: string;
  document: unknown;
}

/** The document, when it is a keel report; a ReportMergeError naming the file and the first problem otherwise. */
export function asReport({ file, document }: ReportFile): Report {
  const issues = validate(ReportSchema, document);
  if (issues.length > 0) {
    const [first] = issues;
    throw new ReportMergeError(
      `${file}: not a keel report (schema/report.v1.json): ${formatPath(first!.path) || 'the document'} ${first!.message}`,
    );
  }
  return document as Report;
}

/**
 * One report with every shard's hosts, in `hostOrder` (the inventory's names) when given, or in the order of the
 * files; it starts with the earliest shard and lasts until the last one ended. Its exit code is the OR of theirs.
 */
export function mergeReports(files: readonly ReportFile[], hostOrder?: readonly string[]): Report {
  if (files.length === 0) throw new ReportMergeError('no report to merge');
  const reports = files.map(asReport);
  const [first] = reports;
  const owner = new Map<string, string>();
  reports.forEach((report, index) => {
    const { file } = files[index]!;
    if (report.mode !== first!.mode)
      throw new ReportMergeError(`${file} is a ${report.mode} report, ${files[0]!.file} a ${first!.mode} report`);
    if (report.recipes.join('\n') !== first!.recipes.join('\n'))
      throw new ReportMergeError(`${file} ran ${report.recipes.join(', ')}, ${files[0]!.file} ran ${first!.recipes.join(', ')}`);
    for (const host of report.hosts) {
      const earlier = owner.get(host.host);
      if (earlier) throw new ReportMergeError(`host ${host.host} is in both ${earlier} and ${file}: the shards overlap`);
      owner.set(host.host, file);
    }
  });
  const hosts = reports.flatMap((report) => report.hosts);
  if (hostOrder) {
    const position = new Map(hostOrder.map((name, index) => [name, index]));
    hosts.sort((a, b) => (position.get(a.host) ?? Number.MAX_SAFE_INTEGER) - (position.get(b.host) ?? Number.MAX_SAFE_INTEGER));
  }
  const starts = reports.map((report) => Date.parse(report.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...reports.map((report, index) => starts[index]! + report.durationMs));
  return {
    version: first!.version,
    mode: first!.mode,
    recipes: first!.recipes,
    startedAt: new Date(start).toISOString(),
    durationMs: end - start,
    hosts,
    interrupted: reports.some((report) => report.interrupted),
    exitCode: reports.reduce((code, report) => code | report.exitCode, 0),
  };
}
