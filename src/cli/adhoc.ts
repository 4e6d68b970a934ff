/** `keel run -- COMMAND…`: one shell command on every selected host, in parallel. Not a resource, never idempotent. */
import { type Command, Option } from 'commander';
import { runAdhoc } from '../engine/adhoc.js';
import { EXIT } from '../engine/events.js';
import { adhocReporter, toAdhocReport } from '../report/adhoc.js';
import { colorEnabled } from '../report/color.js';
import type { AdhocProgressHandle } from '../ui/adhocProgress.js';
import { addConnectionOptions, addHostOptions, type HostFlags, wantsLiveView, writeJsonReport } from './options.js';
import { selectedTargets } from './targets.js';

interface AdhocFlags extends HostFlags {
  become?: boolean;
}

const ADHOC_HELP = `
The command is sent as written, to each host's login shell (or to sh through sudo, with --become or the inventory's
become); put it after -- when it has options of its own. Each host's exit code, stdout and stderr are printed
together as it finishes, then one line for the fleet. It is not a resource: nothing is checked first, running it
twice does it twice, and plan and check know nothing of it.

Examples:
  keel run -i inventory/lab.yaml -- hostname
  keel run -i inventory/lab.yaml -l realservers -- systemctl is-active nginx
  keel run -i inventory/prod.yaml -l 'web*' --become -f 50 -- 'apt-get -qq update && apt-get -s upgrade | grep ^Inst'
  keel run -i inventory/lab.yaml --json - -- uname -r | jq -r '.hosts[] | "\\(.host) \\(.stdout)"'

Exit codes (OR-ed together when several apply):
  0    the command exited 0 on every host
  1    usage or inventory error (no host was contacted)
  4    the command exited otherwise (or timed out) on a host
  8    a host was unreachable
  130  interrupted (Ctrl-C): no host started after it`;

async function runOnHosts(words: string[], flags: AdhocFlags): Promise<number> {
  const hosts = await selectedTargets(flags, 'run the command on', flags.become === true);
  if (!hosts) return EXIT.usage;
  const jsonToStdout = flags.json === true || flags.json === '-';
  const output = jsonToStdout ? process.stderr : process.stdout;
  let progress: AdhocProgressHandle | undefined;
  if (wantsLiveView(flags.ui, jsonToStdout)) {
    const { adhocProgress } = await import('../ui/adhocProgress.js');
    progress = adhocProgress({ stdout: process.stdout, color: colorEnabled(process.env, true) });
  }
  const emit =
    progress?.sink ??
    adhocReporter({ write: (line) => void output.write(`${line}\n`), color: colorEnabled(process.env, output.isTTY === true) });
  const controller = new AbortController();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('keel: interrupted; commands running finish, no host starts (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    const summary = await runAdhoc({
      command: words.join(' '),
      hosts,
      forks: flags.forks,
      ...(flags.timeout ? { timeoutMs: flags.timeout * 1000 } : {}),
      emit,
      signal: controller.signal,
    });
    if (flags.json !== undefined) writeJsonReport(flags.json, toAdhocReport(summary));
    return summary.exitCode;
  } finally {
    progress?.done();
    process.off('SIGINT', onInterrupt);
  }
}

export function registerAdhocCommand(program: Command): void {
  const command = program
    .command('run')
    .description('run one shell command on every selected host, in parallel (ad hoc: not a resource, nothing checked first)')
    .argument('<command...>', 'the shell command, sent as written (after --)');
  addConnectionOptions(
    addHostOptions(command).option('-b, --become', 'run it through sudo on every host, also where the inventory does not say become'),
  )
    .option('--json [file]', 'write the JSON report (schema/adhoc.v1.json) to a file, or to stdout')
    .addOption(
      new Option('--ui <kind>', 'live: a status line under the output; plain: the output alone; auto: live on a terminal, plain under CI')
        .choices(['auto', 'live', 'plain'])
        .default('auto'),
    )
    .addHelpText('after', ADHOC_HELP)
    .action(async (words: string[], flags: AdhocFlags) => {
      process.exitCode = await runOnHosts(words, flags);
    });
}
