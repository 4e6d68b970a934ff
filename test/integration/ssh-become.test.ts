/**
 * become over SSH with the real sudo of a lab host: a user with passwordless sudo, and one whose sudo asks for
 * a password, which keel feeds on stdin and never puts in argv or in a message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { connectHost } from '../../src/planner/connect.js';
import type { Report } from '../../src/report/json.js';
import { quote } from '../../src/shell/index.js';
import type { Transport } from '../../src/transport/types.js';
import { KEEL, keel, recipeProject } from '../support/cli.js';
import { inventoryHost } from '../support/sshd.js';
import { writeFileOver } from '../support/writeFile.js';

const PASSWORD = `pa ss'"$(touch /tmp/owned)`;
const PASSWORD_ENV = 'KEEL_TEST_BECOME_PASSWORD';

let lab: Lab;
let address: string;

async function inHost(command: string): Promise<string> {
  const result = await lab.exec(lab.hosts[0]!.name, command);
  if (result.code !== 0) throw new Error(`${command}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function asUser(user: string, become: unknown): ReturnType<typeof inventoryHost> {
  return inventoryHost({
    address,
    user,
    identityFile: lab.keyPath,
    knownHostsFile: lab.knownHostsPath,
    proxyCommand: lab.proxyCommand,
    become,
  });
}

/** A project whose recipe sets one sysctl (which takes root), and whose inventory logs in as withpass with `become`. */
function sudoUserProject(key: string, value: number, become: string): string {
  return recipeProject({
    'recipes/one.ts': `
import { recipe, sysctl, Vars } from 'keel';
export default recipe({ name: 'one', vars: Vars({}), resources: () => [sysctl({ key: '${key}', value: ${value}, file: '/etc/sysctl.d/60-${key}.conf' })] });
`,
    'inventory.yaml': [
      'hosts:',
      '  rs1:',
      `    address: ${address}`,
      '    user: withpass',
      `    identityFile: ${lab.keyPath}`,
      `    knownHostsFile: ${lab.knownHostsPath}`,
      `    proxyCommand: ${lab.proxyCommand}`,
      `    become: ${become}`,
      '',
    ].join('\n'),
  });
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'ssh-become', count: 1, kind: 'light' });
  address = lab.hosts[0]!.address;
  const publicKey = readFileSync(`${lab.keyPath}.pub`, 'utf8');
  for (const user of ['nopass', 'withpass']) {
    await inHost(
      `useradd -m -s /bin/sh ${user} && mkdir -m 700 /home/${user}/.ssh && printf '%s' '${publicKey.trim()}' > /home/${user}/.ssh/authorized_keys && chown -R ${user}: /home/${user}/.ssh`,
    );
  }
  await inHost(
    `printf '%s\\n' 'nopass ALL=(ALL) NOPASSWD: ALL' 'withpass ALL=(ALL) ALL' > /etc/sudoers.d/keel-test && chmod 440 /etc/sudoers.d/keel-test`,
  );
  await inHost(`printf '%s\\n' ${quote(`withpass:${PASSWORD}`)} | chpasswd`);
  process.env[PASSWORD_ENV] = PASSWORD;
});

afterAll(async () => {
  await lab?.down();
});

describe('become with passwordless sudo', () => {
  let transport: Transport;
  beforeAll(async () => {
    transport = await connectHost(asUser('nopass', true), { kind: 'ssh' });
  });
  afterAll(async () => {
    await transport?.close();
  });

  it('runs sudo commands as root and others as the login user', async () => {
    expect((await transport.exec('id -un', { sudo: true })).stdout.toString()).toBe('root\n');
    expect((await transport.exec('id -un')).stdout.toString()).toBe('nopass\n');
  });

  it('writes root-owned files with the atomic-write fragment', async () => {
    await writeFileOver(transport, '/etc/keel-become-test', 'written as root\n', { mode: 0o600 });
    expect(await inHost('stat -c "%U %a" /etc/keel-become-test && cat /etc/keel-become-test')).toBe('root 600\nwritten as root\n');
  });

  it('kills a timed-out command with its root-owned children', async () => {
    const token = `keel-become-timeout-${Date.now()}`;
    const result = await transport.exec(`sleep 60; echo ${token}`, { sudo: true, timeoutMs: 1_000 });
    expect(result.code).toBe(124);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await inHost(`ps -eo user,args | grep '[s]leep 60' || true`)).toBe('');
  });
});

describe('become with a sudo password', () => {
  it("feeds the password on stdin, before the command's own stdin, and never in argv", async () => {
    const transport = await connectHost(asUser('withpass', { password: { env: PASSWORD_ENV } }), { kind: 'ssh' });
    try {
      expect((await transport.exec('id -un', { sudo: true })).stdout.toString()).toBe('root\n');
      expect((await transport.exec('cat', { sudo: true, stdin: 'the command input\n' })).stdout.toString()).toBe('the command input\n');
      const running = transport.exec('sleep 2', { sudo: true });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const processes = await inHost('ps -eo args');
      expect(processes).toContain('sleep 2');
      expect(processes).not.toContain('pa ss');
      expect((await running).code).toBe(0);
      expect(await inHost('ls /tmp/owned 2>/dev/null || true')).toBe('');
    } finally {
      await transport.close();
    }
  });

  it('without the password, sudo -n refuses rather than waiting for one', async () => {
    const transport = await connectHost(asUser('withpass', true), { kind: 'ssh' });
    try {
      const result = await transport.exec('id -un', { sudo: true, timeoutMs: 10_000 });
      expect(result.code).toBe(1);
      expect(result.stderr.toString()).toContain('a password is required');
    } finally {
      await transport.close();
    }
  });

  it('through the CLI: apply as the sudo user with the password from the environment; a missing variable stops before any host', async () => {
    const project = sudoUserProject('net.ipv4.ip_forward', 1, `{ password: { env: ${PASSWORD_ENV} } }`);
    const home = mkdtempSync(join(tmpdir(), 'keel-home-'));
    const apply = keel(['apply', 'recipes/one.ts', '-i', 'inventory.yaml', '--json', 'report.json'], {
      cwd: project,
      env: { HOME: home, [PASSWORD_ENV]: PASSWORD },
    });
    expect(apply.stderr).toBe('');
    expect(apply).toMatchObject({ code: 0 });
    // The read, the change with its verify, and the lease all went to one shell under one sudo: one password.
    const report = JSON.parse(readFileSync(join(project, 'report.json'), 'utf8')) as Report;
    expect(report.hosts.map((host) => [host.counts.changed, host.execs.total])).toEqual([[1, 1]]);
    expect(await inHost('sysctl -n net.ipv4.ip_forward; cat /etc/sysctl.d/60-net.ipv4.ip_forward.conf')).toBe(
      '1\nnet.ipv4.ip_forward = 1\n',
    );
    const missing = keel(['plan', 'recipes/one.ts', '-i', 'inventory.yaml'], {
      cwd: project,
      env: { HOME: home, [PASSWORD_ENV]: undefined },
    });
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr.trim()).toBe(`rs1: become.password: environment variable ${PASSWORD_ENV} is not set`);
  });

  it('--ask-become-pass asks at the terminal without echo, for hosts with become: true; without a terminal it stops', async () => {
    const project = sudoUserProject('net.ipv4.conf.default.rp_filter', 2, 'true');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: mkdtempSync(join(tmpdir(), 'keel-home-')),
      NO_COLOR: '1',
      [PASSWORD_ENV]: undefined,
    };
    const command = `${quote(process.execPath)} ${quote(KEEL)} apply recipes/one.ts -i inventory.yaml --ui plain --ask-become-pass`;
    // script(1) runs keel on a pseudo-terminal, as a person would; the password is typed once the prompt shows.
    const terminal = spawn('script', ['-qec', command, '/dev/null'], { cwd: project, env });
    let transcript = '';
    terminal.stdout.on('data', (chunk: Buffer) => {
      const before = transcript;
      transcript += chunk.toString();
      if (!before.includes('BECOME password: ') && transcript.includes('BECOME password: ')) terminal.stdin.write(`${PASSWORD}\n`);
    });
    const code = await new Promise((resolve) => terminal.on('exit', resolve));
    expect(transcript).toContain('BECOME password: ');
    expect(transcript).not.toContain('pa ss');
    expect(code).toBe(0);
    expect(await inHost('sysctl -n net.ipv4.conf.default.rp_filter; cat /etc/sysctl.d/60-net.ipv4.conf.default.rp_filter.conf')).toBe(
      '2\nnet.ipv4.conf.default.rp_filter = 2\n',
    );

    const piped = keel(['plan', 'recipes/one.ts', '-i', 'inventory.yaml', '--ask-become-pass'], { cwd: project, env: { HOME: env.HOME } });
    expect(piped).toMatchObject({ code: 1, stdout: '' });
    expect(piped.stderr).toContain('cannot ask "BECOME password:": standard input is not a terminal');
  });
});
