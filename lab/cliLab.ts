/** What `npm run lab -- up|down|status` does, and how a running lab is described (also by the demo). */
import { existsSync } from 'node:fs';
import { labDir } from './hosts.js';
import { DEFAULT_LAB_INVENTORY, downLvsLab, LVS_LAB, type LvsLab, type LvsTimings, openLvsLab, upLvsLab } from './lvsLab.js';

export type LabAction = 'up' | 'down' | 'status';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function describeLab(lab: LvsLab): string {
  const rows = lab.hosts.map(
    (host) => `  ${host.name.padEnd(10)} ${host.address.padEnd(15)} ${host.kind.padEnd(10)} ${host.running ? 'running' : 'stopped'}`,
  );
  return [
    ...rows,
    `inventory: ${lab.inventoryPath}`,
    `  npx keel apply recipes/director.ts recipes/realserver.ts -i ${lab.inventoryPath}`,
    `  ssh -i ${lab.keyPath} -o UserKnownHostsFile=${lab.knownHostsPath} -o ProxyCommand='${lab.proxyCommand}' root@${lab.hosts[0]?.address ?? ''}`,
    'tear down: npm run lab -- down',
  ].join('\n');
}

export function describeTimings(timings: LvsTimings): string {
  return `images ready ${seconds(timings.buildMs)} (containers up at ${seconds(timings.containersMs)}), guests booted in ${seconds(timings.guestsMs)}`;
}

export async function runLab(action: LabAction, flags: { inventory?: string }): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('npm run lab: needs root (network namespaces, containers, a VM)\n');
    return 1;
  }
  if (action === 'up') {
    const started = Date.now();
    const { lab, timings } = await upLvsLab({
      inventory: flags.inventory ?? DEFAULT_LAB_INVENTORY,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`lab up in ${seconds(Date.now() - started)}: ${describeTimings(timings)}\n${describeLab(lab)}\n`);
    return 0;
  }
  if (action === 'down') {
    await downLvsLab();
    process.stdout.write('lab down\n');
    return 0;
  }
  if (!existsSync(labDir(LVS_LAB))) {
    process.stdout.write('the lab is not up (start it with: npm run lab -- up)\n');
    return 0;
  }
  process.stdout.write(`${describeLab(openLvsLab())}\n`);
  return 0;
}
