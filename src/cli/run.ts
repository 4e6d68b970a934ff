/** `keel plan|apply|check`: load the inventory and recipes, plan the hosts, run the engine, write the reports. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Mode } from '../engine/events.js';
import { EXIT } from '../engine/events.js';
import { loadRecipe, RecipeError } from '../engine/loadRecipe.js';
import type { Recipe } from '../engine/recipe.js';
import { type HostShare, parseHostShare } from '../engine/rollout.js';
import { DEFAULT_TIMEOUTS, run } from '../engine/run.js';
import { connector } from '../planner/connect.js';
import { parseExtraVars } from '../planner/extraVars.js';
import { PlanRefusedError } from '../planner/savedPlan.js';
import { hostTargets, type PlannedHost, planHosts } from '../planner/targets.js';
import { colorEnabled } from '../report/color.js';
import { INTERRUPT_NOTICE } from '../report/format.js';
import { toReport } from '../report/json.js';
import { writePrometheusFile } from '../report/prometheus.js';
import { textReporter } from '../report/text.js';
import type { LiveViewHandle } from '../ui/start.js';
import { EXAMPLES, EXIT_CODES } from './help.js';
import { openInventory } from './inventory.js';
import { loadLiveView } from './liveView.js';
import { acquireLocalLock } from './localLock.js';
import { addConnectionOptions, addHostOptions, type HostFlags, localTakesOneHost, wantsLiveView, writeJsonReport } from './options.js';
import { promptSecret } from './prompt.js';
import { writeHtmlReport } from './report.js';
import { expectPlannedReads, planForApply, planSources, reportSettled, writePlanFile } from './savedPlans.js';

export interface RunFlags extends HostFlags {
  extraVars?: string[];
  tags?: string[];
  skipTags?: string[];
  diff: boolean;
  prometheus?: string;
  html?: string;
  /** plan: write the plan to this file. */
  out?: string;
  /** apply: apply exactly this saved plan. */
  plan?: string;
  maxAge?: string;
  lockWait: number;
  /** -v, -vv */
  v: number;
  /** apply only */
  serial?: HostShare;
  maxFail?: HostShare;
}

/** With -v, a recipe's own error also shows the stack of what it threw, under its one line. */
function withRecipeStack(error: unknown, verbosity: number): never {
  if (verbosity > 0 && error instanceof RecipeError && error.recipeStack) {
    const frames = error.recipeStack.split('\n').filter((line) => line.trimStart().startsWith('at '));
    error.message = [error.message, ...frames].join('\n');
  }
  throw error;
}

/** A saved plan fixes each host's resources before any is contacted; those built from facts are known only after. */
function refuseSavedPlanWithFacts(planned: readonly PlannedHost[], flags: RunFlags): void {
  const withFacts = planned.filter((host) => host.withFacts).map((host) => host.host.name);
  const option = flags.out !== undefined ? '--out' : flags.plan !== undefined ? '--plan' : undefined;
  if (option && withFacts.length > 0)
    throw new PlanRefusedError(
      `${option}: a saved plan cannot hold resources built from facts (recipes with facts: true, on ${withFacts.join(', ')})`,
    );
}

async function runMode(mode: Mode, recipeFiles: string[], flags: RunFlags): Promise<number> {
  const inventory = openInventory(flags.inventory);
  const extraVars = flags.extraVars ? parseExtraVars(flags.extraVars) : undefined;
  const recipes: Recipe[] = [];
  const savedPlan = flags.plan ? planForApply(flags.plan, recipeFiles, inventory, flags, flags.maxAge) : undefined;
  const limit = flags.limit ?? savedPlan?.selection.limit;
  let planned: ReturnType<typeof planHosts>;
  try {
    for (const file of recipeFiles) recipes.push(await loadRecipe(file));
    planned = planHosts(inventory, recipes, {
      limit,
      shard: flags.shard,
      extraVars,
      tags: { tags: flags.tags, skipTags: flags.skipTags },
      warn: (message) => void process.stderr.write(`keel: warning: ${message}\n`),
    });
  } catch (error) {
    withRecipeStack(error, flags.v);
  }
  refuseSavedPlanWithFacts(planned, flags);
  // A shard may hold none of a small fleet's hosts: that is not a mistake, and its (empty) report still merges.
  if (planned.length === 0 && flags.shard)
    process.stderr.write(`keel: shard ${flags.shard.index}/${flags.shard.count} holds no selected host of ${flags.inventory}\n`);
  else if (planned.length === 0) {
    process.stderr.write(`keel: no selected host of ${flags.inventory} has anything to do for ${recipeFiles.join(', ')}\n`);
    return EXIT.usage;
  } else if (planned.every((host) => host.resources.length === 0 && !host.withFacts)) {
    process.stderr.write(`keel: the tags leave no resource to do on the selected hosts of ${flags.inventory}\n`);
    return EXIT.usage;
  }
  // A rolling run takes hosts in the recipes' order (the directors before the real servers they drain), then the inventory's.
  if (flags.serial || flags.maxFail) {
    const rank = (host: (typeof planned)[number]): number =>
      Math.min(...host.recipes.map((name) => recipes.findIndex((r) => r.name === name)));
    planned.sort((a, b) => rank(a) - rank(b));
  }
  if (
    !localTakesOneHost(
      flags.connection,
      planned.map((p) => p.host.name),
    )
  )
    return EXIT.usage;
  const becomePassword = flags.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  const jsonToStdout = flags.json === true || flags.json === '-';
  const output = jsonToStdout ? process.stderr : process.stdout;
  // The live view does not show invocations, so -v prints plain lines unless --ui live insists.
  const live = wantsLiveView(flags.ui, jsonToStdout) && (flags.v === 0 || flags.ui === 'live');
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
      ? (await loadLiveView()).startLiveView({
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
        verbosity: flags.v,
      });
    const targets = hostTargets(
      planned,
      connector({ kind: flags.connection, acceptNew: flags.acceptNew, knownHostsFile: flags.knownHosts, becomePassword }),
      becomePassword ? [becomePassword] : [],
    );
    const summary = await run({
      mode,
      recipes: recipeFiles,
      hosts: savedPlan ? expectPlannedReads(savedPlan, flags.plan!, targets) : targets,
      forks: flags.forks,
      timeouts: flags.timeout ? { readMs: flags.timeout * 1000, applyMs: flags.timeout * 1000 } : DEFAULT_TIMEOUTS,
      emit,
      signal: controller.signal,
      ...(flags.serial || flags.maxFail ? { rolling: { serial: flags.serial, maxFail: flags.maxFail } } : {}),
      ...(flags.v > 0 ? { trace: flags.v > 1 ? ('output' as const) : ('commands' as const) } : {}),
    });
    if (flags.out !== undefined)
      writePlanFile(flags.out, summary, planned, targets, planSources(recipeFiles, inventory, { ...flags, limit }));
    if (savedPlan) reportSettled(savedPlan, summary, (line) => void output.write(`${line}\n`));
    const report = toReport(summary, savedPlan ? { file: flags.plan!, createdAt: savedPlan.createdAt } : undefined);
    if (flags.json !== undefined) writeJsonReport(flags.json, report);
    if (flags.prometheus !== undefined) writePrometheusFile(flags.prometheus, summary);
    if (flags.html !== undefined) await writeHtmlReport(flags.html, report, inventory);
    return summary.exitCode;
  } finally {
    await view?.done();
    releaseLock();
    process.off('SIGINT', onInterrupt);
  }
}

function tagList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ''),
  ];
}

function addRunOptions(command: Command): Command {
  return addConnectionOptions(addHostOptions(command))
    .argument('<recipes...>', 'recipe files (.ts)')
    .option(
      '-e, --extra-vars <vars>',
      "vars over the inventory's: key=value (a string; several, space-separated), @FILE (YAML or JSON) or a JSON object; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '-t, --tags <tags>',
      "only resources with one of these tags (comma-separated); a recipe's name is a tag of each of its resources",
      tagList,
    )
    .option('--skip-tags <tags>', 'leave out resources with one of these tags (comma-separated)', tagList)
    .option('--json [file]', 'write the JSON report (schema/report.v1.json) to a file, or to stdout')
    .option('--no-diff', 'do not print unified diffs of file content')
    .addOption(
      new Option('-v', "more output: every resource with its time, and each remote invocation's commands as sent; -vv adds their output")
        .argParser((_value: string, previous: number) => previous + 1)
        .default(0),
    )
    .option('--html <file>', 'write the run as one self-contained HTML page: summary, hosts, diffs, the LVS cluster drawn')
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

function hostShare(value: string): HostShare {
  const share = parseHostShare(value);
  if (share === undefined) throw new InvalidArgumentError('must be a number of hosts (3) or a share of them (25%, at most 100%)');
  return share;
}

function addRollingOptions(command: Command): Command {
  return command
    .option(
      '--serial <n|n%>',
      'apply hosts in batches of this many (or this share of the selected hosts), one batch after another',
      (value: string) => {
        const share = hostShare(value);
        if ('count' in share && share.count < 1) throw new InvalidArgumentError('must be at least 1 host');
        return share;
      },
    )
    .option(
      '--max-fail <n|n%>',
      'failed hosts the whole run may have (default 0 with --serial); one more and no new batch starts',
      hostShare,
    );
}

const ROLLING_EXAMPLES = `
Rolling apply:
  keel apply recipes/realserver.ts -i inventory/lab.yaml --serial 1
  keel apply recipes/web.ts -i inventory/prod.yaml --serial 25% --max-fail 10%`;

const MODES: [Mode, string][] = [
  ['plan', 'show what apply would change; changes nothing'],
  ['apply', 'change hosts to match the recipes, then verify'],
  ['check', 'drift check for cron: silent when in sync, exit code says what is wrong'],
];

export function registerRunCommands(program: Command): void {
  for (const [mode, description] of MODES) {
    const command = addRunOptions(program.command(mode).description(description));
    if (mode === 'plan') command.option('--out <file>', 'save the plan, to apply exactly it later with apply --plan (schema/plan.v1.json)');
    if (mode === 'apply')
      addRollingOptions(command)
        .option('--plan <file>', 'apply exactly this saved plan; a host changed since it was made is refused untouched (exit 4)')
        .option('--max-age <duration>', 'with --plan: refuse a plan older than this (90s, 30m, 4h, 1d)');
    command
      .addHelpText('after', `${EXAMPLES}${mode === 'apply' ? `\n${ROLLING_EXAMPLES}` : ''}\n${EXIT_CODES}`)
      .action(async (recipes: string[], flags: RunFlags) => {
        process.exitCode = await runMode(mode, recipes, flags);
      });
  }
}
