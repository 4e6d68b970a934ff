/**
 * Faults on real SSH test hosts (nspawn containers with systemd and sshd), through the real CLI. Each fault gives
 * one line for its host that names the host and, where a change was under way, the resource, the command, the exit
 * code and the end of stderr; the other hosts finish; the exit code says what happened; and the next run converges.
 * Every round changes the recipe's vars, so every host has changes to make.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { loadInventory } from '../../src/inventory/load.js';
import { connectHost } from '../../src/planner/connect.js';
import { file } from '../../src/resources/file.js';
import { runOnce } from '../../src/testing.js';
import { type CliResult, keel, recipeProject } from '../support/cli.js';
import { holdDpkgLock } from '../support/dpkgLock.js';
import { startKeel } from '../support/keelProcess.js';
import { type LabInventoryOptions, writeLabInventory } from '../support/labInventory.js';
import { generateKey } from '../support/sshd.js';

const GATE = '/run/keel-gate';
const REACHED = '/run/keel-gate-reached';
const BECOME_ENV = 'KEEL_FAULTS_BECOME_PASSWORD';
const BECOME_PASSWORD = 'right horse battery';

const RECIPE = `
import { recipe, file, command, Vars, Type } from 'keel';

export default recipe({
  name: 'faults',
  vars: Vars({ round: Type.String() }),
  resources: ({ vars }) => [
    file({ path: '/etc/keel-faults/round.conf', content: \`round \${vars.round}\\n\`, makeParents: true }),
    command({
      name: 'gated step',
      run: \`touch ${REACHED}; while [ -e ${GATE} ]; do sleep 0.2; done; touch /run/keel-passed-\${vars.round}\`,
      creates: \`/run/keel-passed-\${vars.round}\`,
    }),
    file({ path: '/etc/keel-faults/after.conf', content: \`after \${vars.round}\\n\` }),
  ],
});
`;

const PACKAGE_RECIPE = `
import { recipe, pkg, Vars } from 'keel';

export default recipe({ name: 'package', vars: Vars({}), resources: () => [pkg({ name: 'ipvsadm', lockWaitSeconds: 2 })] });
`;

let lab: Lab;
let project: string;
let home: string;
let round = 0;
let inventories = 0;

async function inHost(host: string, command: string): Promise<string> {
  const result = await lab.exec(host, command);
  if (result.code !== 0) throw new Error(`${host}: ${command}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

async function waitInHost(host: string, test: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if ((await lab.exec(host, test)).code === 0) return;
    await sleep(100);
  }
  throw new Error(`${host}: ${test} never held`);
}

/** A fresh round: new vars, so every host has three changes to make. */
function nextRound(options: LabInventoryOptions = {}): string {
  round += 1;
  return inventory(options);
}

function inventory(options: LabInventoryOptions = {}): string {
  inventories += 1;
  return writeLabInventory(join(project, `inventory-${inventories}.yaml`), lab, { vars: { round: String(round) }, ...options });
}

const apply = (file: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): CliResult =>
  keel(['apply', 'recipes/faults.ts', '-i', file, ...extra], { cwd: project, env: { HOME: home, ...env } });

/** The lines that report something wrong with a host (not the resources it then skipped). */
function problems(output: string, host: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${host}: `) && / failed: |: unreachable: /.test(line) && !/\] skipped /.test(line));
}

const afterOf = async (host: string): Promise<string> =>
  (await inHost(host, 'cat /etc/keel-faults/after.conf 2>/dev/null || echo absent')).trim();

/** The next run with the fault gone changes what the fault held back, and everything ends in sync. */
async function expectConverges(file: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = apply(file, [], env);
  expect(result.stdout).toMatch(/^apply: 4 hosts \(4 ok\); .* 0 failed.*exit 0$/m);
  expect(result.code).toBe(0);
  for (const host of lab.hosts) expect(await afterOf(host.name)).toBe(`after ${round}`);
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'faults', count: 4 });
  home = mkdtempSync(join(tmpdir(), 'keel-faults-home-'));
  project = recipeProject({ 'recipes/faults.ts': RECIPE, 'recipes/package.ts': PACKAGE_RECIPE });
  // A user whose sudo asks for a password, on h4.
  await inHost(
    'h4',
    `useradd -m -s /bin/sh -G sudo deploy && printf '%s\\n' 'deploy:${BECOME_PASSWORD}' | chpasswd && mkdir -m 700 /home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/ && chown -R deploy: /home/deploy/.ssh`,
  );
});

afterAll(async () => {
  await lab?.down();
});

describe('faults, one host at a time', () => {
  it('a changed host key, a refused key and a host that never answers: one line each, the healthy host finishes, exit 8', async () => {
    const [h1, , h3] = lab.hosts;
    const wrongKey = join(home, 'id_wrong');
    generateKey(wrongKey);
    const changedKnownHosts = join(home, 'changed_known_hosts');
    writeFileSync(changedKnownHosts, `${h1!.address} ${generateKey(join(home, 'id_impostor'))}\n`);
    await inHost('h3', 'pkill -STOP -x sshd');
    let result: CliResult;
    try {
      result = apply(
        nextRound({ hosts: { h1: { knownHostsFile: changedKnownHosts }, h2: { identityFile: wrongKey }, h3: { connectTimeout: 3 } } }),
      );
    } finally {
      await inHost('h3', 'pkill -CONT -x sshd');
    }
    expect(result.code).toBe(8);
    const [changed] = problems(result.stdout, 'h1');
    expect(changed).toContain(`h1: unreachable: h1: host key for ${h1!.address} has CHANGED: expected ssh-ed25519 SHA256:`);
    expect(changed).toContain(`(${changedKnownHosts}:1), offered ssh-ed25519 SHA256:`);
    expect(problems(result.stdout, 'h2')).toEqual([
      `h2: unreachable: h2: authentication failed as root (tried publickey with ${wrongKey})`,
    ]);
    expect(problems(result.stdout, 'h3')).toEqual([`h3: unreachable: h3 (${h3!.address}:22): connect timed out after 3 s`]);
    expect(problems(result.stdout, 'h4')).toEqual([]);
    expect(await afterOf('h4')).toBe(`after ${round}`);
    expect(await afterOf('h1')).not.toBe(`after ${round}`);
    await expectConverges(inventory());
  });

  it('the connection killed mid-apply: the interrupted change is named, the rest of that host is skipped, exit 12', async () => {
    const file = nextRound();
    await inHost('h2', `touch ${GATE}; rm -f ${REACHED}`);
    const running = startKeel(['apply', 'recipes/faults.ts', '-i', file], { cwd: project, env: { HOME: home } });
    let result: CliResult;
    try {
      await waitInHost('h2', `test -e ${REACHED}`);
      // sshd's session process for keel's connection (for root, one per connection): as if the network or the host dropped it.
      await inHost('h2', `for pid in $(ps -eo pid,args | awk '$2 == "sshd:" && $3 ~ /^root@/ { print $1 }'); do kill -9 "$pid"; done`);
      result = await running.done;
    } finally {
      await inHost('h2', `rm -f ${GATE}`);
    }
    expect(result.code).toBe(8 | 4);
    const [line, ...more] = problems(result.stdout, 'h2');
    expect(more).toEqual([]);
    expect(line).toMatch(
      new RegExp(
        `^h2: command\\[gated step\\] failed: the connection dropped during the change, so it may be incomplete: h2 \\(${lab.hosts[1]!.address.replace(/\./g, '\\.')}:22\\): .+; command: sh -c 'touch ${REACHED};`,
      ),
    );
    expect(result.stdout).toContain(
      'h2: file[/etc/keel-faults/after.conf] skipped (not attempted: the connection was lost during command[gated step])',
    );
    for (const host of ['h1', 'h3', 'h4']) expect(await afterOf(host)).toBe(`after ${round}`);
    expect(await afterOf('h2')).not.toBe(`after ${round}`);
    await expectConverges(file);
  });

  it('a remote command that hangs is ended at --timeout with its processes, exit 4', async () => {
    const file = nextRound();
    await inHost('h3', `touch ${GATE}`);
    let result: CliResult;
    try {
      result = apply(file, ['--timeout', '6']);
    } finally {
      await inHost('h3', `rm -f ${GATE}`);
    }
    expect(result.code).toBe(4);
    const [line, ...more] = problems(result.stdout, 'h3');
    expect(more).toEqual([]);
    expect(line).toContain(
      'h3: command[gated step] failed: remote script timed out after 6 s during apply command[gated step] step 1; command: sh -c ',
    );
    expect(line).toContain('; exit 124; stderr: keel: command timed out after 6000 ms');
    await sleep(2_000);
    expect(await inHost('h3', `ps -eo args | grep -c '[k]eel-gate' || true`)).toBe('0\n');
    for (const host of ['h1', 'h2', 'h4']) expect(await afterOf(host)).toBe(`after ${round}`);
    await expectConverges(file);
  });

  it('a dpkg lock held by another process fails the package on that host, naming the holder, exit 4', async () => {
    const file = inventory();
    const holder = await holdDpkgLock(lab, 'h1', 300);
    let result: CliResult;
    try {
      result = keel(['apply', 'recipes/package.ts', '-i', file, '--limit', 'h1,h2'], { cwd: project, env: { HOME: home } });
    } finally {
      await inHost('h1', `kill ${holder}`);
    }
    expect(result.code).toBe(4);
    const [line, ...more] = problems(result.stdout, 'h1');
    expect(more).toEqual([]);
    expect(line).toContain('h1: package[ipvsadm] failed: command exited 100; command: DEBIAN_FRONTEND=noninteractive apt-get install ');
    expect(line).toContain(`keel: the dpkg lock /var/lib/dpkg/lock-frontend is held by process ${holder} (perl)`);
    expect(result.stdout).toContain('h2: package[ipvsadm] changed');
    const again = keel(['apply', 'recipes/package.ts', '-i', file, '--limit', 'h1,h2'], { cwd: project, env: { HOME: home } });
    expect(again.stdout).toContain('h1: package[ipvsadm] changed');
    expect(again.code).toBe(0);
  });

  it('a wrong sudo password: the host read fails on one line, the password never shows, exit 4', async () => {
    const wrong = 'wrong horse staple';
    const file = nextRound({ hosts: { h4: { user: 'deploy', become: { password: { env: BECOME_ENV } } } } });
    const result = apply(file, [], { [BECOME_ENV]: wrong });
    expect(result.code).toBe(4);
    const [line, ...more] = problems(result.stdout, 'h4');
    expect(more).toEqual([]);
    expect(line).toMatch(
      /^h4: file\[\/etc\/keel-faults\/round\.conf\] failed: reading the host failed: remote script exited 1; command: exec sh -s; stderr: .*incorrect password attempt/,
    );
    expect(result.stdout).toContain('h4: file[/etc/keel-faults/after.conf] skipped');
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
    for (const host of ['h1', 'h2', 'h3']) expect(await afterOf(host)).toBe(`after ${round}`);
    await expectConverges(file, { [BECOME_ENV]: BECOME_PASSWORD });
  });

  it('Ctrl-C during apply: the changes in flight finish, no new one starts, the summary is printed, exit 130', async () => {
    const file = nextRound();
    await Promise.all(lab.hosts.map((host) => inHost(host.name, `touch ${GATE}; rm -f ${REACHED}`)));
    const running = startKeel(['apply', 'recipes/faults.ts', '-i', file], { cwd: project, env: { HOME: home } });
    try {
      await Promise.all(lab.hosts.map((host) => waitInHost(host.name, `test -e ${REACHED}`)));
      running.interrupt();
      await sleep(1_000);
    } finally {
      await Promise.all(lab.hosts.map((host) => inHost(host.name, `rm -f ${GATE}`)));
    }
    const result = await running.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('keel: interrupted; finishing changes in flight, starting no new ones');
    expect(result.stdout).toMatch(
      /^apply: 4 hosts \(0 ok, 4 interrupted\); resources: 0 unchanged, 8 changed, 0 failed, 4 not attempted; interrupted in [\d.]+ s; exit 130$/m,
    );
    for (const host of lab.hosts) {
      expect(result.stdout).toContain(`${host.name}: command[gated step] changed`);
      expect(result.stdout).toContain(`${host.name}: file[/etc/keel-faults/after.conf] skipped (interrupted before this resource started)`);
      expect(await afterOf(host.name)).toBe(`after ${round - 1}`);
    }
    await expectConverges(file);
  });
});

describe('nothing half-written', () => {
  it('rewrites a big file atomically: a reader inside the host only ever sees a whole version', async () => {
    const path = '/srv/keel-big.txt';
    const versions = ['a', 'b'].map((fill) => `${fill.repeat(4 * 1024 * 1024)}\n`);
    const digests = versions.map((version) => createHash('md5').update(version).digest('hex'));
    const transport = await connectHost(loadInventory(inventory()).hosts[0]!, { kind: 'ssh' });
    try {
      expect((await runOnce('apply', [file({ path, content: versions[0]! })], transport)).outcome).toBe('ok');
      await inHost(
        'h1',
        `rm -f /run/keel-reader-stop; (while [ ! -e /run/keel-reader-stop ]; do md5sum < ${path}; done > /run/keel-reader.out 2>&1 &)`,
      );
      for (const version of [1, 0, 1, 0]) {
        const host = await runOnce('apply', [file({ path, content: versions[version]! })], transport);
        expect(host.resources[0]!.outcome).toBe('changed');
      }
      await inHost('h1', 'touch /run/keel-reader-stop; sleep 1');
    } finally {
      await transport.close();
    }
    const seen = (await inHost('h1', 'cat /run/keel-reader.out'))
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0]);
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.filter((digest) => !digests.includes(digest!))).toEqual([]);
    expect(new Set(seen).size).toBe(2);
    expect(await inHost('h1', 'ls -A /srv')).toBe('keel-big.txt\n');
  });
});
