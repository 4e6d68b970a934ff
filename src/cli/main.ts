/** The `keel` command line: each command is registered from a file of its own and hands over to the engine. */
import { Command, CommanderError } from 'commander';
import { EXIT } from '../engine/events.js';
import { compiledValidatorCache, keelCacheDirectory } from '../engine/recipeCache.js';
import { packageVersion } from '../engine/version.js';
import { cacheCompiledValidators } from '../schema/index.js';
import { cacheSsh2Code } from '../transport/ssh/ssh2Module.js';
import { registerAdhocCommand } from './adhoc.js';
import { registerAuthorCommands } from './author.js';
import { registerDoctorCommand } from './doctor.js';
import { registerFactsCommand } from './facts.js';
import { EXAMPLES, EXIT_CODES } from './help.js';
import { registerInventoryCommands } from './inventory.js';
import { registerReportCommands } from './report.js';
import { registerRunCommands } from './run.js';
import { registerShowCommand } from './savedPlans.js';

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

export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Agentless configuration management: typed recipes, check-then-change resources, over SSH.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .addHelpText('after', `${EXAMPLES}\n${EXIT_CODES}`);
  program.exitOverride();

  registerRunCommands(program);
  registerAdhocCommand(program);
  registerInventoryCommands(program);
  registerDoctorCommand(program);
  registerAuthorCommands(program);
  registerReportCommands(program);
  registerShowCommand(program);
  registerFactsCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  cacheCompiledValidators(compiledValidatorCache());
  cacheSsh2Code(() => keelCacheDirectory('code'));
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
