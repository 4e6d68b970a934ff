/** The versioned JSON report: one document per run. Its schema is schema/report.v1.json. */
import type { RunSummary } from '../engine/events.js';

export const REPORT_VERSION = 'keel.report/v1';

export interface Report extends RunSummary {
  version: typeof REPORT_VERSION;
}

export function toReport(summary: RunSummary): Report {
  return { version: REPORT_VERSION, ...summary };
}
