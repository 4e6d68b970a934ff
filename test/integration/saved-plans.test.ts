/**
 * Saved plans over real sshd on light lab hosts: plan --out, keel show, apply --plan. What apply changes is exactly
 * the plan; a host changed by hand since is refused untouched; edited recipes or inventory refuse the whole plan;
 * the file holds no secret, and the same state gives the same plan.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { SavedPlan } from '../../src/planner/savedPlan.js';
import type { Report } from '../../src/report/json.js';
import { keel, recipeProject } from '../support/cli.js';
import { writeLabInventory } from '../support/labInventory.js';
import { API_TOKEN, DB_PASSWORD, secretForms } from '../support/secretValues.js';

const RECIPE = `
import { recipe, file, sysctl, template, Vars, SecretString } from 'keel';

export default recipe({
  name: 'app',
  vars: Vars({ dbPassword: SecretString, apiToken: SecretString }),
  resources: ({ vars }) => [
    sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 }),
    file({ path: '/etc/keel-plan-db.conf', content: template('password = {{password}}\\n', { password: vars.dbPassword }), mode: '0600' }),
    file({ path: '/etc/keel-plan-token', content: vars.apiToken, mode: '0600' }),
    file({ path: '/etc/keel-plan-motd', content: 'managed by keel\\n' }),
  ],
});
`;

const ENV = { KEEL_PLAN_DB: DB_PASSWORD };
let lab: Lab;
let project: string;
let inventory: string;

const run = (args: string[]) => keel(args, { cwd: project, env: ENV });
const read = <T>(file: string): T => JSON.parse(readFileSync(join(project, file), 'utf8')) as T;
const arpIgnore = async (host: string) => (await lab.exec(host, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore')).stdout.trim();
const exists = async (host: string, path: string) => (await lab.exec(host, `test -e ${path}`)).code === 0;

beforeAll(async () => {
  lab = await startHosts({ lab: 'saved-plans', count: 3, kind: 'light' });
  project = recipeProject({ 'recipes/app.ts': RECIPE });
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'keel-token-')), 'api-token');
  writeFileSync(tokenFile, `${API_TOKEN}\n`, { mode: 0o600 });
  inventory = writeLabInventory(join(project, 'inventory.yaml'), lab, {
    vars: { dbPassword: { secret: { env: 'KEEL_PLAN_DB' } }, apiToken: { secret: { file: tokenFile } } },
  });
});

afterAll(async () => {
  await lab?.down();
});

describe('plan --out, then apply --plan', () => {
  it('writes the same plan for the same state, byte for byte apart from the time, and no secret in it', () => {
    expect(run(['plan', 'recipes/app.ts', '-i', inventory, '--out', 'first.plan']).code).toBe(2);
    expect(run(['plan', 'recipes/app.ts', '-i', inventory, '--out', 'second.plan']).code).toBe(2);
    const [first, second] = ['first.plan', 'second.plan'].map((file) => readFileSync(join(project, file), 'utf8'));
    const withoutTime = (text: string) => text.replace(/"createdAt": "[^"]+"/, '"createdAt": "…"');
    expect(withoutTime(first!)).toBe(withoutTime(second!));
    expect(first).not.toBe(second);
    const forms = [...secretForms([DB_PASSWORD, API_TOKEN]), createHash('sha256').update(`${API_TOKEN}\n`).digest('hex')];
    expect(forms.filter((form) => first!.includes(form))).toEqual([]);
    const plan = read<SavedPlan>('first.plan');
    const token = plan.hosts[0]!.resources.find((resource) => resource.id === 'file[/etc/keel-plan-token]')!;
    expect(token).toMatchObject({ holdsSecret: true, outcome: 'drifted' });
    expect(token.fingerprint).toBeUndefined();
  });

  it('keel show prints the plan as plan does', () => {
    const shown = run(['show', 'first.plan']);
    expect(shown.code).toBe(2);
    expect(shown.stdout).toContain(`${lab.hosts[0]!.name}: sysctl[net.ipv4.conf.all.arp_ignore] will change: value: "0" → "1"`);
    expect(shown.stdout).toMatch(/^\+managed by keel$/m);
    expect(shown.stdout).toMatch(/^plan: 3 hosts .*12 to change/m);
  });

  it('refuses a host changed by hand since the plan, untouched, and applies exactly the plan elsewhere', async () => {
    const [h1, h2, h3] = lab.hosts.map((host) => host.name);
    await lab.exec(h2!, 'sysctl -qw net.ipv4.conf.all.arp_ignore=2');
    const apply = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'first.plan', '--json', 'apply.json']);
    expect(apply.code).toBe(4);
    expect(apply.stdout).toContain(
      `${h2}: sysctl[net.ipv4.conf.all.arp_ignore] failed: stale: sysctl[net.ipv4.conf.all.arp_ignore]: value changed since the plan`,
    );
    expect(await arpIgnore(h2!)).toBe('2');
    expect(await exists(h2!, '/etc/keel-plan-motd')).toBe(false);
    const report = read<Report>('apply.json');
    expect(report.plan?.file).toBe('first.plan');
    const planned = read<SavedPlan>('first.plan');
    for (const host of [h1!, h3!]) {
      const changed = report.hosts.find((entry) => entry.host === host)!.resources.filter((resource) => resource.outcome === 'changed');
      const plannedHost = planned.hosts.find((entry) => entry.host === host)!;
      expect(changed.map((resource) => [resource.id, resource.changes])).toEqual(
        plannedHost.resources.filter((resource) => resource.changes.length > 0).map((resource) => [resource.id, resource.changes]),
      );
      expect(await arpIgnore(host)).toBe('1');
      expect((await lab.exec(host, 'cat /etc/keel-plan-token; echo; cat /etc/keel-plan-motd')).stdout).toBe(
        `${API_TOKEN}\nmanaged by keel\n`,
      );
    }
  });

  it('skips and names a planned change that was made by hand meanwhile', async () => {
    const h2 = lab.hosts[1]!.name;
    expect(run(['plan', 'recipes/app.ts', '-i', inventory, '--limit', h2, '--out', 'h2.plan']).code).toBe(2);
    await lab.exec(h2, "printf 'managed by keel\\n' > /etc/keel-plan-motd");
    const apply = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'h2.plan']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain(`${h2}: file[/etc/keel-plan-motd] was planned to change, and is already in sync: skipped`);
    expect(apply.stdout).toContain(`${h2}: sysctl[net.ipv4.conf.all.arp_ignore] changed`);
    expect(await arpIgnore(h2)).toBe('1');
  });

  it('applies a saved plan in rolling batches, --serial 1, one host after another', async () => {
    for (const host of lab.hosts) await lab.exec(host.name, 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
    expect(run(['plan', 'recipes/app.ts', '-i', inventory, '--out', 'rolling.plan']).code).toBe(2);
    const apply = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'rolling.plan', '--serial', '1', '--json', 'rolling.json']);
    expect(apply.code, apply.stderr).toBe(0);
    const report = read<Report & { rollout?: { batches: string[][] } }>('rolling.json');
    expect(report.plan?.file).toBe('rolling.plan');
    expect(report.rollout?.batches).toEqual(lab.hosts.map((host) => [host.name]));
    for (const host of lab.hosts) expect(await arpIgnore(host.name)).toBe('1');
  });

  it('refuses the whole plan when a recipe or the inventory changed, or it is too old, or --limit widens it', async () => {
    await lab.exec(lab.hosts[0]!.name, 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
    expect(run(['plan', 'recipes/app.ts', '-i', inventory, '--limit', lab.hosts[0]!.name, '--out', 'h1.plan']).code).toBe(2);
    const widened = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'h1.plan', '--limit', 'all']);
    expect(widened.code).toBe(1);
    expect(widened.stderr).toContain(`h1.plan does not plan ${lab.hosts[1]!.name}, ${lab.hosts[2]!.name}`);
    const old = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'h1.plan', '--max-age', '0s']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/the plan is \d+ s old, more than --max-age allows/);

    const recipe = join(project, 'recipes/app.ts');
    writeFileSync(recipe, RECIPE.replace('managed by keel', 'managed by keel, edited'));
    const edited = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'h1.plan']);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('the plan is refused: recipe recipes/app.ts changed since the plan');
    writeFileSync(recipe, RECIPE);

    writeFileSync(inventory, `${readFileSync(inventory, 'utf8')}`.replace('hosts:', 'hosts:\n  extra:\n    address: 127.0.0.1\n'));
    const inventoryEdited = run(['apply', 'recipes/app.ts', '-i', inventory, '--plan', 'h1.plan']);
    expect(inventoryEdited.code).toBe(1);
    expect(inventoryEdited.stderr).toContain(`the inventory ${inventory} changed since the plan`);
    expect(await arpIgnore(lab.hosts[0]!.name)).toBe('0');
  });
});
