/** `npm run hosts -- up|down|status`: lab hosts by hand, for trying keel against real sshd. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Lab, listLabs, openLab, startHosts, stopLab } from './hosts.js';

const DEFAULT_LAB = 'dev';

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

function describe(lab: Lab): string {
  const rows = lab.hosts.map(
    (host) => `  ${host.name.padEnd(12)} ${host.address.padEnd(15)} ${host.kind.padEnd(6)} ${host.leaderPid > 0 ? 'running' : 'stopped'}`,
  );
  const first = lab.hosts[0];
  const example = first
    ? `ssh -i ${lab.keyPath} -o UserKnownHostsFile=${lab.knownHostsPath} -o ProxyCommand='${lab.proxyCommand}' root@${first.address}`
    : '';
  return [`lab ${lab.name}: inventory ${lab.inventoryPath}`, ...rows, example && `  ${example}`].filter(Boolean).join('\n');
}

const program = new Command('hosts').description('Start and stop lab hosts: sshd in network namespaces on this machine (needs root)');

program
  .command('up')
  .description('start a lab of COUNT hosts (h1…hN), replacing any lab of the same name')
  .argument('[count]', 'number of hosts', positiveInteger, 3)
  .option('--lab <name>', 'lab name', DEFAULT_LAB)
  .addOption(new Option('--kind <kind>', 'nspawn: systemd container; light: sshd only').choices(['nspawn', 'light']).default('nspawn'))
  .option('--subnet <cidr>', 'lab subnet')
  .action(async (count: number, flags: { lab: string; kind: 'nspawn' | 'light'; subnet?: string }) => {
    const lab = await startHosts({ lab: flags.lab, count, kind: flags.kind, subnet: flags.subnet, log: (line) => console.error(line) });
    console.log(describe(lab));
  });

program
  .command('down')
  .description('stop a lab and remove everything it created')
  .option('--lab <name>', 'lab name', DEFAULT_LAB)
  .option('--all', 'stop every lab')
  .action(async (flags: { lab: string; all?: boolean }) => {
    for (const name of flags.all ? listLabs() : [flags.lab]) await stopLab(name);
  });

program
  .command('status')
  .description('list the labs and their hosts')
  .action(() => {
    const labs = listLabs();
    console.log(labs.length === 0 ? 'no lab is up' : labs.map((name) => describe(openLab(name))).join('\n\n'));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`hosts: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
