/**
 * keel reads a host in one remote invocation, whatever the recipe holds: on 10 light lab hosts, over real sshd,
 * `check` makes exactly one exec round trip per host, on drifted hosts and on hosts in sync, including the listing
 * of owed handler notifications. Counts, not timings: the figures of bench/ rest on them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { keel, recipeProject } from '../support/cli.js';

const HOSTS = 10;

let lab: Lab;
let project: string;
let home: string;

beforeAll(async () => {
  lab = await startHosts({ lab: 'round-trips', count: HOSTS, kind: 'light' });
  home = mkdtempSync(join(tmpdir(), 'keel-home-'));
  project = recipeProject({
    'recipes/mixed.ts': `
import { command, file, ifaceAlias, recipe, sysctl, Vars } from 'keel';

export default recipe({
  name: 'mixed',
  vars: Vars({}),
  resources: (host) => {
    const reloaded = command({ name: 'note the reload', run: 'date > /etc/round-trips.reloaded', creates: '/etc/round-trips.reloaded' });
    return [
      sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1, file: '/etc/sysctl.d/60-round-trips.conf' }),
      sysctl({ key: 'net.ipv4.conf.eth0.arp_announce', value: 2, file: '/etc/sysctl.d/60-round-trips.conf' }),
      ifaceAlias({ device: 'lo', address: '10.77.9.100', prefix: 32, label: 'lo:8', persist: false }),
      file({ path: '/etc/round-trips', content: \`host \${host.name}\\n\` }, { notify: reloaded.on('run') }),
      command({ name: 'initialise once', run: 'touch /etc/round-trips.initialised', creates: '/etc/round-trips.initialised' }),
      reloaded,
    ];
  },
});
`,
  });
  const inventory = [
    'defaults:',
    '  user: root',
    `  identityFile: ${lab.keyPath}`,
    `  knownHostsFile: ${lab.knownHostsPath}`,
    `  proxyCommand: ${lab.proxyCommand}`,
    'hosts:',
    ...lab.hosts.flatMap((host) => [`  ${host.name}:`, `    address: ${host.address}`]),
  ];
  writeFileSync(join(project, 'fleet.yaml'), `${inventory.join('\n')}\n`);
});

afterAll(async () => {
  await lab?.down();
});

function check(): { code: number; report: Report } {
  const result = keel(['check', 'recipes/mixed.ts', '-i', 'fleet.yaml', '--forks', String(HOSTS), '--json', '-'], {
    cwd: project,
    env: { HOME: home },
  });
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

const everyHost = (execs: { total: number; read: number }) => lab.hosts.map((host) => [host.name, 'ok', execs]);

describe(`exec round trips on ${HOSTS} hosts`, () => {
  it('check reads each drifted host in one invocation', () => {
    const { code, report } = check();
    expect(code).toBe(2);
    expect(report.hosts.map((host) => [host.host, host.outcome, host.execs])).toEqual(everyHost({ total: 1, read: 1 }));
    expect(report.hosts.every((host) => host.counts.drifted === 6)).toBe(true);
  });

  it('check reads each host in sync in one invocation, after an apply', () => {
    const apply = keel(['apply', 'recipes/mixed.ts', '-i', 'fleet.yaml', '--forks', String(HOSTS), '--json', '-'], {
      cwd: project,
      env: { HOME: home },
    });
    expect(apply.code).toBe(0);
    expect((JSON.parse(apply.stdout) as Report).hosts.every((host) => host.execs.read === 1)).toBe(true);
    const { code, report } = check();
    expect(code).toBe(0);
    expect(report.hosts.map((host) => [host.host, host.outcome, host.execs])).toEqual(everyHost({ total: 1, read: 1 }));
  });
});
