/**
 * Secrets through a whole run on a real host: a sudo password (become), a secret var from the environment and one
 * from a file, written into files by the file resource (one of them through a template, one whose write fails).
 * Every output stream is searched for them: stdout and stderr of the plain and the live view, the JSON report, the
 * Prometheus file, and the host's process list sampled while keel works there. None holds a secret, plain or base64.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { quote } from '../../src/shell/index.js';
import { type CliResult, keel, recipeProject } from '../support/cli.js';
import { startKeel } from '../support/keelProcess.js';
import { writeLabInventory } from '../support/labInventory.js';

const BECOME_PASSWORD = `sudo-Pa55 '"$(id)`;
const DB_PASSWORD = 'db-S3cret;`rm -rf /`';
const API_TOKEN = 'tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ENV = { KEEL_SECRETS_BECOME: BECOME_PASSWORD, KEEL_SECRETS_DB: DB_PASSWORD };

const RECIPE = `
import { recipe, file, template, Vars, SecretString } from 'keel';

export default recipe({
  name: 'app',
  vars: Vars({ dbPassword: SecretString, apiToken: SecretString }),
  resources: ({ vars }) => [
    file({ path: '/etc/keel-app/db.conf', content: template('user = app\\npassword = {{password}}\\n', { password: vars.dbPassword }), mode: '0600', makeParents: true }),
    file({ path: '/etc/keel-app/token', content: vars.apiToken, mode: '0600' }),
  ],
});
`;

/** A write that fails (no temporary file can be made under /proc), so its command lands in the error report. */
const FAILING_RECIPE = `
import { recipe, file, Vars, SecretString } from 'keel';

export default recipe({
  name: 'blocked',
  vars: Vars({ apiToken: SecretString }),
  resources: ({ vars }) => [file({ path: '/proc/keel-token', content: vars.apiToken })],
});
`;

/** A command handed the token in its environment; it sleeps so the process list can be sampled while it runs. */
const ENV_RECIPE = `
import { recipe, command, Vars, SecretString } from 'keel';

export default recipe({
  name: 'deploy',
  vars: Vars({ apiToken: SecretString }),
  resources: ({ vars }) => [
    command({
      name: 'register with the token',
      run: 'printf %s "$TOKEN" | sha256sum | cut -c1-64 > /var/tmp/keel-token.sha256; sleep 3',
      env: { TOKEN: vars.apiToken, REGION: 'eu' },
    }),
  ],
});
`;

let lab: Lab;
let project: string;
let inventoryFile: string;

const SECRETS = [BECOME_PASSWORD, DB_PASSWORD, API_TOKEN];
/** Each secret as it is, and base64-encoded as it travels inside a write. */
const FORMS = SECRETS.flatMap((secret) => [
  secret,
  Buffer.from(secret).toString('base64'),
  Buffer.from(secret).toString('base64').slice(0, 16),
]);

function leaks(text: string): string[] {
  return FORMS.filter((form) => text.includes(form));
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'secrets', count: 1 });
  await lab.exec(
    'h1',
    `useradd -m -s /bin/sh -G sudo deploy && printf '%s\\n' ${quote(`deploy:${BECOME_PASSWORD}`)} | chpasswd && mkdir -m 700 /home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/ && chown -R deploy: /home/deploy/.ssh`,
  );
  project = recipeProject({ 'recipes/app.ts': RECIPE, 'recipes/blocked.ts': FAILING_RECIPE, 'recipes/deploy.ts': ENV_RECIPE });
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'keel-token-')), 'api-token');
  writeFileSync(tokenFile, `${API_TOKEN}\n`, { mode: 0o600 });
  inventoryFile = writeLabInventory(join(project, 'inventory.yaml'), lab, {
    vars: { dbPassword: { secret: { env: 'KEEL_SECRETS_DB' } }, apiToken: { secret: { file: tokenFile } } },
    hosts: { h1: { user: 'deploy', become: { password: { env: 'KEEL_SECRETS_BECOME' } } } },
  });
});

afterAll(async () => {
  await lab?.down();
});

describe('secrets', () => {
  it('never appear in stdout, stderr, the JSON report, the Prometheus file or the host process list', async () => {
    const { applied, samples } = await applySampling(
      ['recipes/app.ts', '--json', 'apply.json', '--prometheus', 'apply.prom'],
      'ps -eo args',
    );
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain(
      'h1: file[/etc/keel-app/token] changed: type: "absent" → "file", content: absent → "[redacted]", mode: absent → "0600"',
    );
    // keel's own remote shells were seen at work, as root through sudo, the password on their stdin.
    expect(samples.filter((sample) => /sudo -S -p {2}-- sh -c/.test(sample)).length).toBeGreaterThan(0);
    expect((await lab.exec('h1', 'cat /etc/keel-app/db.conf /etc/keel-app/token')).stdout).toBe(
      `user = app\npassword = ${DB_PASSWORD}\n${API_TOKEN}`,
    );

    const drift = await lab.exec('h1', 'echo stale > /etc/keel-app/token');
    expect(drift.code).toBe(0);
    const plan = keel(['plan', 'recipes/app.ts', '-i', inventoryFile, '--json', 'plan.json'], { cwd: project, env: ENV });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('h1: file[/etc/keel-app/token] will change: content: "[redacted]" → "[redacted]"');
    const live = keel(['plan', 'recipes/app.ts', '-i', inventoryFile, '--ui', 'live'], { cwd: project, env: ENV });
    expect(live.code).toBe(2);
    const failed = keel(['apply', 'recipes/blocked.ts', '-i', inventoryFile, '--json', 'blocked.json'], { cwd: project, env: ENV });
    expect(failed.code).toBe(4);
    expect(failed.stdout).toMatch(
      /h1: file\[\/proc\/keel-token\] failed: command exited 1; command: __keel_tmp=\/proc\/\.keel\.[0-9a-f]{12} …/,
    );
    const blockedReport = readFileSync(join(project, 'blocked.json'), 'utf8');
    expect(blockedReport).toContain(`printf '%s' (${Buffer.byteLength(API_TOKEN)} bytes)`);

    const streams: Record<string, string> = {
      'apply stdout': applied.stdout,
      'apply stderr': applied.stderr,
      'apply.json': readFileSync(join(project, 'apply.json'), 'utf8'),
      'apply.prom': readFileSync(join(project, 'apply.prom'), 'utf8'),
      'host process list': samples.join('\n'),
      ...output('plan', plan),
      'plan.json': readFileSync(join(project, 'plan.json'), 'utf8'),
      ...output('live view', live),
      ...output('failed write', failed),
      'blocked.json': blockedReport,
    };
    expect(Object.entries(streams).flatMap(([name, text]) => leaks(text).map((form) => `${name}: ${form}`))).toEqual([]);
  });
});

describe("a secret in a command's env", () => {
  it("reaches the command's environment, never its argv, the disk, the output, the trace or the reports", async () => {
    // grep is handed the token only when keel is not at work; a file written with it on purpose shows it finds it.
    const token = `"$(printf %s ${quote(Buffer.from(API_TOKEN).toString('base64'))} | base64 -d)"`;
    const filesHoldingToken = async (): Promise<string> =>
      (await lab.exec('h1', `grep -rlsF -e ${token} /etc /home /root /tmp /var /run; echo "grep exit $?"`)).stdout.trim();
    await lab.exec('h1', `rm -rf /etc/keel-app; printf %s ${token} > /var/tmp/control`);
    expect(await filesHoldingToken()).toBe('/var/tmp/control\ngrep exit 0');
    await lab.exec('h1', 'rm /var/tmp/control');
    const { applied, samples } = await applySampling(
      ['recipes/deploy.ts', '-vv', '--json', 'deploy.json'],
      `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done`,
    );
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const digest = createHash('sha256').update(API_TOKEN).digest('hex');
    expect((await lab.exec('h1', 'cat /var/tmp/keel-token.sha256')).stdout.trim()).toBe(digest);
    // The command was seen running (its sleep), its argv holding the command text and no value of the env.
    const whileRunning = samples.filter((sample) => sample.includes('sleep 3'));
    expect(whileRunning.length).toBeGreaterThan(0);
    expect(whileRunning.join('\n')).toContain('printf %s "$TOKEN"');
    expect(applied.stdout).toContain('export TOKEN=[redacted]; export REGION=eu; sh -c \'printf %s "$TOKEN"');
    expect(applied.stdout).toContain('(output withheld: the resource holds a secret)');
    const report = readFileSync(join(project, 'deploy.json'), 'utf8');
    expect(JSON.parse(report).hosts[0].resources[0].desired.env).toEqual({ TOKEN: '[redacted]', REGION: 'eu' });

    const plan = keel(['plan', 'recipes/deploy.ts', '-i', inventoryFile, '-vv', '--json', 'deploy-plan.json'], { cwd: project, env: ENV });
    expect(plan.code).toBe(2);
    expect(await filesHoldingToken()).toBe('grep exit 1');

    const streams: Record<string, string> = {
      ...output('apply', applied),
      'deploy.json': report,
      'host process list': samples.join('\n'),
      ...output('plan', plan),
      'deploy-plan.json': readFileSync(join(project, 'deploy-plan.json'), 'utf8'),
    };
    expect(Object.entries(streams).flatMap(([name, text]) => leaks(text).map((form) => `${name}: ${form}`))).toEqual([]);
  });
});

/** `keel apply ARGS` on h1, running `sample` on the host every 50 ms while keel works: the process list, as it was. */
async function applySampling(args: string[], sample: string): Promise<{ applied: CliResult; samples: string[] }> {
  const samples: string[] = [];
  const running = startKeel(['apply', ...args, '-i', inventoryFile], { cwd: project, env: ENV });
  let finished = false;
  const done = running.done.then((result) => {
    finished = true;
    return result;
  });
  while (!finished) {
    samples.push((await lab.exec('h1', sample)).stdout);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { applied: await done, samples };
}

function output(name: string, result: CliResult): Record<string, string> {
  return { [`${name} stdout`]: result.stdout, [`${name} stderr`]: result.stderr };
}
