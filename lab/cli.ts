/** `npm run lab -- up|down|status`: the LVS-DR lab on this machine, a developer tool beside keel. */
import { Argument, Command } from 'commander';
import { type LabAction, runLab } from './cliLab.js';
import { DEFAULT_LAB_INVENTORY } from './lvsLab.js';
import { preflightOrExit } from './preflight.js';

const program = new Command('lab')
  .description('the LVS-DR lab on this machine: a director VM, real servers and a client on one bridge (needs root)')
  .addArgument(
    new Argument('<action>', 'up: boot it and write its inventory; down: tear it down; status: what runs').choices([
      'up',
      'down',
      'status',
    ]),
  )
  .option('-i, --inventory <file>', 'the hosts, groups and vars to build the lab from', DEFAULT_LAB_INVENTORY)
  .option('--no-install', 'up: only name the missing Debian packages, do not apt-get install them')
  .action(async (action: LabAction, flags: { inventory: string; install: boolean }) => {
    if (action === 'up') preflightOrExit('lab', flags.install ? [] : ['--no-install']);
    process.exitCode = await runLab(action, flags);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
