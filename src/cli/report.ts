/** `keel report`: work on JSON reports written earlier, such as one per shard. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../engine/events.js';
import type { Inventory } from '../inventory/load.js';
import type { Report } from '../report/json.js';
import { asReport, mergeReports, ReportMergeError } from '../report/merge.js';
import { openInventory } from './inventory.js';

const MERGE_HELP = `
Examples:
  keel report merge shard-1.json shard-2.json shard-3.json > fleet.json
  keel report merge -i inventory/prod.yaml reports/*.json -o fleet.json

Exit codes:
  the OR of the merged reports' exit codes (0 ok, 2 drift, 4 failed, 8 unreachable, 130 interrupted)
  1    a file is unreadable, not a keel report, or the reports do not belong to one run`;

function readReport(file: string): { file: string; document: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportMergeError(
      `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  try {
    return { file, document: JSON.parse(text) };
  } catch (error) {
    throw new ReportMergeError(`${file}: not JSON: ${(error as Error).message}`);
  }
}

/** Loaded only when asked for: a run without --html never pays for the diff renderer. */
async function htmlOf(report: Report, inventory: Inventory | undefined): Promise<string> {
  const { renderHtml } = await import('../report/html.js');
  return renderHtml(report, { addresses: new Map(inventory?.hosts.map((host) => [host.name, host.address]) ?? []) });
}

export async function writeHtmlReport(file: string, report: Report, inventory?: Inventory): Promise<void> {
  writeFileSync(file, await htmlOf(report, inventory));
}

const HTML_HELP = `
Examples:
  keel report html last-check.json -i inventory.yaml -o last-check.html
  keel check recipes/*.ts -i inventory.yaml --html check.html     (the same, straight from a run)

Exit codes:
  0    written
  1    the file is unreadable or not a keel report`;

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('work on JSON reports (schema/report.v1.json)');
  report
    .command('merge')
    .description("merge the reports of one run's shards (--shard K/N) into one report")
    .argument('<reports...>', 'JSON reports written with --json')
    .option('-i, --inventory <file>', "order the hosts as this inventory does (otherwise, in the files' order)")
    .option('-o, --output <file>', 'write the merged report here instead of stdout')
    .addHelpText('after', MERGE_HELP)
    .action((files: string[], flags: { inventory?: string; output?: string }) => {
      let merged: ReturnType<typeof mergeReports>;
      try {
        const order = flags.inventory ? openInventory(flags.inventory).hosts.map((host) => host.name) : undefined;
        merged = mergeReports(files.map(readReport), order);
      } catch (error) {
        if (!(error instanceof ReportMergeError)) throw error;
        process.stderr.write(`keel: report merge: ${error.message}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const document = `${JSON.stringify(merged, null, 2)}\n`;
      if (flags.output) writeFileSync(flags.output, document);
      else process.stdout.write(document);
      process.exitCode = merged.exitCode;
    });
  report
    .command('html')
    .description('draw a JSON report as one self-contained HTML page')
    .argument('<report>', 'a JSON report written with --json')
    .option('-i, --inventory <file>', "the run's inventory: its addresses match real servers in IPVS tables to hosts")
    .option('-o, --output <file>', 'write the page here instead of stdout')
    .addHelpText('after', HTML_HELP)
    .action(async (file: string, flags: { inventory?: string; output?: string }) => {
      let document: Report;
      try {
        document = asReport(readReport(file));
      } catch (error) {
        if (!(error instanceof ReportMergeError)) throw error;
        process.stderr.write(`keel: report html: ${error.message}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const page = await htmlOf(document, flags.inventory ? openInventory(flags.inventory) : undefined);
      if (flags.output) writeFileSync(flags.output, page);
      else process.stdout.write(page);
    });
}
