/**
 * keel reads a host in one remote invocation, whatever the recipe holds: on 10 light lab hosts, over real sshd,
 * `check` makes exactly one exec round trip per host, on drifted hosts and on hosts in sync, including the listing
 * of owed handler notifications; and a first apply, with its changes, verifies, re-reads and handler, takes one
 * exec session per host, as the hosts' sshd counts them. Counts, not timings: the figures of bench/ rest on them.
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

const SESSIONS = '/root/keel-round-trips.sessions';

async function sessionsOn(host: string): Promise<number> {
  const { stdout } = await lab.exec(host, `cat ${SESSIONS} 2>/dev/null || true`);
  return stdout.split('\n').filter((line) => line === 'session').length;
}

const everyHost = (execs: { total: number; read: number }) => lab.hosts.map((host) => [host.name, 'ok', execs]);

describe(`exec round trips on ${HOSTS} hosts`, () => {
  it('check reads each drifted host in one invocation', () => {
    const { code, report } = check();
    expect(code).toBe(2);
    expect(report.hosts.map((host) => [host.host, host.outcome, host.execs])).toEqual(everyHost({ total: 1, read: 1 }));
    expect(report.hosts.every((host) => host.counts.drifted === 6)).toBe(true);
  });

  it('a first apply of 6 changes and a handler takes one exec session per host, as sshd counts them', async () => {
    // sshd runs ~/.ssh/rc once for every session it opens, before the session's command.
    await Promise.all(
      lab.hosts.map((host) => lab.exec(host.name, `printf 'echo session >> ${SESSIONS}\\n' > /root/.ssh/rc; rm -f ${SESSIONS}`)),
    );
    const apply = keel(['apply', 'recipes/mixed.ts', '-i', 'fleet.yaml', '--forks', String(HOSTS), '--json', '-'], {
      cwd: project,
      env: { HOME: home },
    });
    expect(apply.code).toBe(0);
    const report = JSON.parse(apply.stdout) as Report;
    expect(report.hosts.every((host) => host.counts.changed === 6 && host.handlers.length === 1)).toBe(true);
    expect(report.hosts.map((host) => [host.host, host.outcome, host.execs])).toEqual(everyHost({ total: 1, read: 1 }));
    expect(await Promise.all(lab.hosts.map((host) => sessionsOn(host.name)))).toEqual(lab.hosts.map(() => 1));
  });

  it('check reads each host in sync in one invocation, after an apply', async () => {
    const { code, report } = check();
    expect(code).toBe(0);
    expect(report.hosts.map((host) => [host.host, host.outcome, host.execs])).toEqual(everyHost({ total: 1, read: 1 }));
    expect(await Promise.all(lab.hosts.map((host) => sessionsOn(host.name)))).toEqual(lab.hosts.map(() => 2));
  });
});
