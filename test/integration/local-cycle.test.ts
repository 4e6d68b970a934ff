/**
 * The whole cycle on real kernel state through the real CLI, with --connection local, inside a throwaway
 * network namespace (sysctls under net.* are per namespace, so the machine's own settings are never touched).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DR_SYSCTLS_RECIPE, keel, recipeProject } from '../support/cli.js';

const NETNS = `keel-local-${process.pid}`;
const inNetns = (...command: string[]): string => execFileSync('ip', ['netns', 'exec', NETNS, ...command], { encoding: 'utf8' });

let project: string;

function snapshot(): string {
  const values = inNetns('sh', '-c', 'sysctl -a 2>/dev/null | grep -e "^net.ipv4.conf" -e "^net.ipv4.ip_forward" | sort');
  const files = readdirSync(join(project, 'sysctl.d')).map((name) => `${name}:${readFileSync(join(project, 'sysctl.d', name), 'utf8')}`);
  return `${values}\n${files.join('\n')}`;
}

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', NETNS]);
  project = recipeProject({
    'recipes/dr.ts': DR_SYSCTLS_RECIPE,
    'sysctl.d/.keep': '',
  });
  writeFileSync(
    join(project, 'inventory.yaml'),
    `hosts:\n  self:\n    vars:\n      lanInterface: lo\n      sysctlFile: ${join(project, 'sysctl.d/60-dr.conf')}\n`,
  );
});

afterAll(() => {
  execFileSync('ip', ['netns', 'delete', NETNS]);
});

const run = (mode: string) =>
  keel([mode, 'recipes/dr.ts', '-i', 'inventory.yaml', '--connection', 'local'], { cwd: project, netns: NETNS });

describe('keel with --connection local in a network namespace', () => {
  it('plan lists exactly the sysctl changes, exits 2 and changes nothing', () => {
    const before = snapshot();
    const plan = run('plan');
    expect(plan.code).toBe(2);
    const lines = plan.stdout.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual([
      'self: sysctl[net.ipv4.conf.all.arp_ignore] will change: value: "0" → "1", persisted: absent → "1"',
      'self: sysctl[net.ipv4.conf.all.arp_announce] will change: value: "0" → "2", persisted: absent → "2"',
      'self: sysctl[net.ipv4.conf.lo.arp_ignore] will change: value: "0" → "1", persisted: absent → "1"',
    ]);
    expect(lines.at(-1)).toMatch(/^plan: 1 host .*3 to change.*exit 2$/);
    expect(snapshot()).toBe(before);
  });

  it('apply makes them, live and persisted', () => {
    const apply = run('apply');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('3 changed');
    expect(inNetns('sysctl', '-n', 'net.ipv4.conf.all.arp_ignore').trim()).toBe('1');
    expect(inNetns('sysctl', '-n', 'net.ipv4.conf.lo.arp_ignore').trim()).toBe('1');
    expect(execFileSync('sysctl', ['-n', 'net.ipv4.conf.lo.arp_ignore'], { encoding: 'utf8' }).trim()).toBe('0');
    expect(readFileSync(join(project, 'sysctl.d/60-dr.conf'), 'utf8')).toBe(
      'net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\nnet.ipv4.conf.lo.arp_ignore = 1\n',
    );
  });

  it('a second plan shows nothing and exits 0', () => {
    const plan = run('plan');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^plan: 1 host \(1 ok\); resources: 3 unchanged, 0 to change, 0 failed/);
  });

  it('a value changed by hand makes check exit 2 and name that resource; apply repairs it', () => {
    inNetns('sysctl', '-w', 'net.ipv4.conf.all.arp_announce=0');
    const check = run('check');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('self: sysctl[net.ipv4.conf.all.arp_announce] drifted: value: "0" → "2"');
    expect(check.stdout).not.toContain('arp_ignore');
    expect(run('apply').code).toBe(0);
    const quiet = run('check');
    expect(quiet).toMatchObject({ code: 0, stdout: '' });
  });
});
