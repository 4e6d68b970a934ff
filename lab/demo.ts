// `npm run demo`: boots the LVS-DR lab on this machine, converges it with keel (the live view on a
// terminal), then shows from the client which real server answered each request and who answers ARP
// for the VIP. The lab stays up to be looked at; `npm run lab -- down` removes it. Missing Debian packages
// are installed first (as root), or with --no-install only named.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../src/inventory/load.js';
import { describeLab, describeTimings } from './cliLab.js';
import { upLvsLab } from './lvsLab.js';
import { preflightOrExit } from './preflight.js';
import { alternates, interfaceMac, observeTraffic } from './traffic.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const REQUESTS = 10;

preflightOrExit('lab');
if (process.getuid?.() !== 0) {
  console.error('npm run demo needs root: the lab uses network namespaces, containers and a VM');
  process.exit(1);
}

console.log('Booting the lab: a director VM (Debian kernel with IPVS), two real servers and a client…');
const started = Date.now();
const { lab, timings } = await upLvsLab({ inventory: join(root, 'inventory/lab.yaml'), log: (line) => console.log(`  ${line}`) });
console.log(`Lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${describeTimings(timings)}\n${describeLab(lab)}\n`);

const recipes = ['recipes/director.ts', 'recipes/realserver.ts'];
console.log(`$ npx keel apply ${recipes.join(' ')} -i ${lab.inventoryPath}`);
const apply = spawnSync(process.execPath, [join(root, 'bin/keel.js'), 'apply', ...recipes, '-i', lab.inventoryPath], {
  cwd: root,
  stdio: 'inherit',
});
if (apply.status !== 0) {
  console.error(`keel apply exited ${apply.status ?? apply.signal}; the lab stays up for a look (npm run lab -- down removes it)`);
  process.exit(apply.status ?? 1);
}

const inventory = loadInventory(lab.inventoryPath);
const vip = String(inventory.hosts.find((host) => host.name === 'client')?.vars.vip);
const realServers = inventory.groups.get('realservers') ?? [];
const macs = new Map<string, string>();
for (const host of lab.hosts) macs.set(await interfaceMac(lab, host.name), host.name);

console.log(`\nFrom the client, ${REQUESTS} separate requests to http://${vip}/:`);
const traffic = await observeTraffic(lab, { client: 'client', vip, requests: REQUESTS });
traffic.answers.forEach((answer, index) =>
  console.log(`  request ${String(index + 1).padStart(2)} → ${answer === '-' ? 'no answer' : answer}`),
);
const responders = traffic.arpResponders.map((mac) => `${macs.get(mac) ?? 'unknown host'} (${mac})`);
console.log(`ARP for ${vip} answered by: ${responders.join(', ') || 'nobody'}`);
console.log(`The client's neighbour entry for ${vip}: ${macs.get(traffic.neighbour) ?? 'unknown host'} (${traffic.neighbour || 'none'})`);

const directorOnly = traffic.arpResponders.length === 1 && macs.get(traffic.arpResponders[0] ?? '') === 'director';
if (alternates(traffic.answers, realServers) && directorOnly) {
  console.log(
    `\nDirect routing works: requests alternate between ${realServers.join(' and ')}, and only the director answers ARP for the VIP.`,
  );
} else {
  console.log('\nDirect routing does NOT work as it should: see the answers and ARP responders above.');
  process.exitCode = 1;
}
console.log(`\nThe lab stays up. Try: npx keel check ${recipes.join(' ')} -i ${lab.inventoryPath}\nTear it down with: npm run lab -- down`);
