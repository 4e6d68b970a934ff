/** The `keel` command line: each command is registered from a file of its own and hands over to the engine. */
import { Command, CommanderError } from 'commander';
import { EXIT } from '../engine/events.js';
import { compiledCodeCache, compiledValidatorCache } from '../engine/recipeCache.js';
import { packageVersion } from '../engine/version.js';
import { cacheCompiledValidators } from '../schema/validate.js';
import { cacheSsh2Code } from '../transport/ssh/ssh2Module.js';
import { EXAMPLES, EXIT_CODES } from './help.js';

/** Errors that mean "nothing was contacted": configuration, not hosts. */
const CONFIG_ERRORS = new Set([
  'InventoryError',
  'ExtraVarsError',
  'TagSelectionError',
  'RecipeLoadError',
  'RecipeError',
  'RecipeVarsError',
  'RolloutRefused',
  'ResourceParamsError',
  'PromptError',
  'LockBusyError',
  'ScaffoldError',
  'PlanRefusedError',
]);

type Register = (program: Command) => void;

/**
 * The modules that define the commands, in the order `keel --help` lists them, each loaded only when one of its
 * commands is asked for: `keel check` does not evaluate doctor's code, and `keel --version` none of them.
 */
const COMMAND_MODULES: { commands: readonly string[]; load: () => Promise<Register> }[] = [
  { commands: ['plan', 'apply', 'check'], load: async () => (await import('./run.js')).registerRunCommands },
  { commands: ['run'], load: async () => (await import('./adhoc.js')).registerAdhocCommand },
  { commands: ['inventory'], load: async () => (await import('./inventory.js')).registerInventoryCommands },
  { commands: ['doctor'], load: async () => (await import('./doctor.js')).registerDoctorCommand },
  { commands: ['typecheck', 'new'], load: async () => (await import('./author.js')).registerAuthorCommands },
  { commands: ['report'], load: async () => (await import('./report.js')).registerReportCommands },
  { commands: ['show'], load: async () => (await import('./savedPlans.js')).registerShowCommand },
  { commands: ['facts'], load: async () => (await import('./facts.js')).registerFactsCommand },
];

/** The command modules `argv` needs: its command's, none for the version alone, every one for help or a mistake. */
function modulesFor(argv: readonly string[]): typeof COMMAND_MODULES {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const named = words[0] === 'help' ? words[1] : words[0];
  if (named === undefined && (argv.includes('-V') || argv.includes('--version'))) return [];
  const owning = COMMAND_MODULES.filter((module) => module.commands.includes(named ?? ''));
  return owning.length > 0 ? owning : COMMAND_MODULES;
}

/** The command line with the commands `argv` needs (every one when it is left out). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('keel')
    .description('Agentless configuration management: typed recipes, check-then-change resources, over SSH.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .addHelpText('after', `${EXAMPLES}\n${EXIT_CODES}`);
  program.exitOverride();
  const modules = argv === undefined ? COMMAND_MODULES : modulesFor(argv);
  for (const register of await Promise.all(modules.map((module) => module.load()))) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  cacheCompiledValidators(compiledValidatorCache());
  cacheSsh2Code(compiledCodeCache());
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
