/** `keel report`: work on JSON reports written earlier, such as one per shard. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../engine/events.js';
import { mergeReports, ReportMergeError } from '../report/merge.js';
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
}
