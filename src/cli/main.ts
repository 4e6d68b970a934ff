/** The `keel` command line. It parses options and hands over to the engine; nothing else lives here. */

import { readFileSync, writeFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import isInCi from 'is-in-ci';
import type { Mode } from '../engine/events.js';
import { EXIT } from '../engine/events.js';
import { loadRecipe } from '../engine/loadRecipe.js';
import { DEFAULT_TIMEOUTS, run } from '../engine/run.js';
import { loadInventory } from '../inventory/load.js';
import { type ConnectionKind, connector } from '../planner/connect.js';
import { hostTargets, planHosts } from '../planner/targets.js';
import { colorEnabled } from '../report/color.js';
import { INTERRUPT_NOTICE } from '../report/format.js';
import { toReport } from '../report/json.js';
import { writePrometheusFile } from '../report/prometheus.js';
import { textReporter } from '../report/text.js';
import type { LiveViewHandle } from '../ui/start.js';
import { acquireLocalLock } from './localLock.js';
import { promptSecret } from './prompt.js';

const EXIT_CODES = `
Exit codes (OR-ed together when several apply):
  0    ok: applied, or in sync
  1    usage, inventory or recipe error, or another run holds the lock (no host was contacted)
  2    drift found / changes pending (plan, check)
  4    a resource failed (could not be read, changed or verified)
  8    a host was unreachable
  130  interrupted (Ctrl-C): no new change started after it`;

const EXAMPLES = `
Examples:
  keel plan  recipes/director.ts recipes/realserver.ts -i inventory/lab.yaml
  keel apply recipes/realserver.ts -i inventory/lab.yaml --limit rs1,rs2
  keel check recipes/*.ts -i inventory/prod.yaml --json report.json
  keel check recipes/realserver.ts -i inventory/site.yaml --connection local --limit "$(hostname)"`;

interface RunFlags {
  inventory: string;
  limit?: string;
  forks: number;
  connection: ConnectionKind;
  json?: string | true;
  acceptNew?: boolean;
  knownHosts?: string;
  askBecomePass?: boolean;
  timeout?: number;
  diff: boolean;
  prometheus?: string;
  lockWait: number;
  ui: 'auto' | 'live' | 'plain';
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return parsed;
}

/** Errors that mean "nothing was contacted": configuration, not hosts. */
const CONFIG_ERRORS = new Set([
  'InventoryError',
  'RecipeLoadError',
  'RecipeVarsError',
  'ResourceParamsError',
  'PromptError',
  'LockBusyError',
  'ScaffoldError',
]);

async function runMode(mode: Mode, recipeFiles: string[], flags: RunFlags): Promise<number> {
  const inventory = loadInventory(flags.inventory);
  const recipes = [];
  for (const file of recipeFiles) recipes.push(await loadRecipe(file));
  const planned = planHosts(inventory, recipes, flags.limit);
  if (planned.length === 0) {
    process.stderr.write(`keel: no selected host of ${flags.inventory} has anything to do for ${recipeFiles.join(', ')}\n`);
    return EXIT.usage;
  }
  if (flags.connection === 'local' && planned.length > 1) {
    process.stderr.write(
      `keel: --connection local runs on this machine, so it takes exactly one host; ${planned.length} are selected (${planned.map((p) => p.host.name).join(', ')}). Use --limit.\n`,
    );
    return EXIT.usage;
  }
  const becomePassword = flags.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  const jsonToStdout = flags.json === true || flags.json === '-';
  const output = jsonToStdout ? process.stderr : process.stdout;
  // Ink's own test: under CI it draws no frame until the end, so a live view there would show nothing.
  const live = !jsonToStdout && (flags.ui === 'live' || (flags.ui === 'auto' && process.stdout.isTTY === true && !isInCi));
  let view: LiveViewHandle | undefined;
  const controller = new AbortController();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    if (view) view.interrupted();
    else process.stderr.write(`keel: interrupted; ${INTERRUPT_NOTICE}\n`);
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const releaseLock = await acquireLocalLock(flags.inventory, flags.lockWait * 1000);
  try {
    // Ink is imported only here: a run without a terminal never pays for loading it.
    view = live
      ? (await import('../ui/start.js')).startLiveView({
          stdout: process.stdout,
          colors: colorEnabled(process.env, process.stdout.isTTY === true),
          diffs: flags.diff,
        })
      : undefined;
    const emit =
      view?.sink ??
      textReporter({
        write: (line) => void output.write(`${line}\n`),
        diffs: flags.diff,
        color: colorEnabled(process.env, output.isTTY === true),
      });
    const summary = await run({
      mode,
      recipes: recipeFiles,
      hosts: hostTargets(
        planned,
        connector({ kind: flags.connection, acceptNew: flags.acceptNew, knownHostsFile: flags.knownHosts, becomePassword }),
        becomePassword ? [becomePassword] : [],
      ),
      forks: flags.forks,
      timeouts: flags.timeout ? { readMs: flags.timeout * 1000, applyMs: flags.timeout * 1000 } : DEFAULT_TIMEOUTS,
      emit,
      signal: controller.signal,
    });
    if (flags.json !== undefined) {
      const document = `${JSON.stringify(toReport(summary), null, 2)}\n`;
      if (jsonToStdout) process.stdout.write(document);
      else writeFileSync(flags.json as string, document);
    }
    if (flags.prometheus !== undefined) writePrometheusFile(flags.prometheus, summary);
    return summary.exitCode;
  } finally {
    await view?.done();
    releaseLock();
    process.off('SIGINT', onInterrupt);
  }
}

function addRunOptions(command: Command): Command {
  return command
    .argument('<recipes...>', 'recipe files (.ts)')
    .requiredOption('-i, --inventory <file>', 'inventory file (YAML or JSON)')
    .option('-l, --limit <patterns>', 'only these hosts: names, groups or globs, comma-separated; !pattern excludes')
    .option('-f, --forks <n>', 'hosts worked on in parallel', positiveInteger, 20)
    .addOption(new Option('-c, --connection <kind>', 'how to reach hosts').choices(['ssh', 'local']).default('ssh'))
    .option('--json [file]', 'write the JSON report (schema/report.v1.json) to a file, or to stdout')
    .option('--accept-new', 'record the host keys of hosts not yet in known_hosts (trust on first use)')
    .option('--ask-become-pass', 'ask for the sudo password of hosts whose inventory says become: true')
    .option(
      '--known-hosts <file>',
      "a known_hosts file read besides ~/.ssh/known_hosts and the inventory's; --accept-new records keys in it",
    )
    .option('--timeout <seconds>', 'per remote command', positiveNumber)
    .option('--no-diff', 'do not print unified diffs of file content')
    .option('--prometheus <file>', 'write node_exporter textfile metrics (drifted resources, reachability, timing)')
    .option('--lock-wait <seconds>', 'wait this long for another keel run on the same inventory to finish', Number, 0)
    .addOption(
      new Option(
        '--ui <kind>',
        'live: the terminal view; plain: one line per change, as in pipes and cron; auto: live on a terminal, plain under CI (never with --json -)',
      )
        .choices(['auto', 'live', 'plain'])
        .default('auto'),
    );
}

/** src/cli/main.ts and its bundle dist/cli/main.js both sit two levels under the package root. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Agentless configuration management: typed recipes, check-then-change resources, over SSH.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .addHelpText('after', `${EXAMPLES}\n${EXIT_CODES}`);
  program.exitOverride();

  const modes: [Mode, string][] = [
    ['plan', 'show what apply would change; changes nothing'],
    ['apply', 'change hosts to match the recipes, then verify'],
    ['check', 'drift check for cron: silent when in sync, exit code says what is wrong'],
  ];
  for (const [mode, description] of modes) {
    addRunOptions(program.command(mode).description(description))
      .addHelpText('after', `${EXAMPLES}\n${EXIT_CODES}`)
      .action(async (recipes: string[], flags: RunFlags) => {
        process.exitCode = await runMode(mode, recipes, flags);
      });
  }

  const inventory = program.command('inventory').description('inspect an inventory');
  inventory
    .command('validate')
    .description('validate an inventory against inventory/schema.json')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .action((flags: { inventory: string }) => {
      const loaded = loadInventory(flags.inventory);
      process.stdout.write(`${flags.inventory}: ok (${loaded.hosts.length} hosts, ${loaded.groups.size} groups)\n`);
    });
  inventory
    .command('list')
    .description('list hosts with their address and groups')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .option('-l, --limit <patterns>', 'only these hosts')
    .action(async (flags: { inventory: string; limit?: string }) => {
      const { selectHosts } = await import('../inventory/select.js');
      const loaded = loadInventory(flags.inventory);
      for (const host of flags.limit ? selectHosts(loaded, flags.limit) : loaded.hosts) {
        process.stdout.write(`${host.name}\t${host.address}\t${host.groups.join(',')}\n`);
      }
    });
  program
    .command('typecheck')
    .description('type-check recipes and resources with the TypeScript compiler')
    .argument('[paths...]', 'files or directories', ['recipes'])
    .action(async (paths: string[]) => {
      const { typecheck } = await import('./typecheck.js');
      const result = await typecheck(paths);
      if (result.files.length === 0) {
        process.stderr.write(`keel typecheck: no .ts files under ${paths.join(', ')}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      if (result.errors > 0) process.stderr.write(result.report);
      process.stdout.write(`${result.files.length} files checked, ${result.errors} errors\n`);
      process.exitCode = result.errors > 0 ? EXIT.usage : EXIT.ok;
    });

  program
    .command('new')
    .description('write a starting recipe or resource that compiles and passes the idempotence harness')
    .addArgument(new Argument('<kind>', 'what to create').choices(['recipe', 'resource']))
    .argument('<name>', 'its name, e.g. webserver or hostsEntry')
    .option('-o, --output <file>', 'where to write it (default recipes/NAME.ts or resources/NAME.ts)')
    .action(async (kind: 'recipe' | 'resource', name: string, flags: { output?: string }) => {
      const { scaffold } = await import('./scaffold.js');
      const file = scaffold(kind, name, flags.output ?? `${kind === 'recipe' ? 'recipes' : 'resources'}/${name}.ts`);
      process.stdout.write(`wrote ${file}\n`);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has printed its message (and the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.usage;
    if (CONFIG_ERRORS.has((error as Error).name)) {
      process.stderr.write(`${(error as Error).message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
