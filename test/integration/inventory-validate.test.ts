/**
 * `keel inventory validate` with recipes checks every host's vars against every recipe that applies to it, as
 * plan would, with plan's file:line:col messages, and contacts no host.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keel, recipeProject } from '../support/cli.js';

let project: string;

beforeAll(() => {
  project = recipeProject({
    'web.ts': `
import { recipe, sysctl, Vars, Ipv4 } from 'keel';
export default recipe({
  name: 'web',
  hosts: 'web',
  vars: Vars({ vip: Ipv4 }),
  resources: () => [sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 })],
});
`,
    'pool.ts': `
import { recipe, sysctl, Type, Vars } from 'keel';
export default recipe({
  name: 'pool',
  hosts: 'lb',
  vars: Vars({ weight: Type.Integer({ minimum: 0 }) }),
  resources: () => [sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 })],
});
`,
  });
  // 192.0.2.1 (TEST-NET-1) is never contacted: validation reads files only.
  writeFileSync(
    join(project, 'site.yaml'),
    [
      'groups:',
      '  web:',
      '    hosts: [rs1, rs2]',
      '    vars:',
      '      vip: 192.168.9.300',
      '  lb:',
      '    hosts: [lb1]',
      'hosts:',
      '  rs1: { address: 192.0.2.1 }',
      '  rs2: { address: 192.0.2.1, vars: { vip: 192.168.9.100 } }',
      '  lb1: { address: 192.0.2.1, vars: { weight: -1 } }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(project, 'good.yaml'),
    'groups:\n  web: { hosts: [rs1] }\n  lb: { hosts: [lb1] }\nhosts:\n  rs1: { address: 192.0.2.1, vars: { vip: 192.168.9.100 } }\n  lb1: { address: 192.0.2.1, vars: { weight: 2 } }\n',
  );
});

describe('keel inventory validate with recipes', () => {
  it('without recipes checks only the inventory itself', () => {
    expect(keel(['inventory', 'validate', '-i', 'site.yaml'], { cwd: project })).toMatchObject({
      code: 0,
      stdout: 'site.yaml: ok (3 hosts, 2 groups)\n',
    });
  });

  it("lists every host's bad vars for every recipe that applies to it, at the value's line:col, and exits 1", () => {
    const result = keel(['inventory', 'validate', '-i', 'site.yaml', 'web.ts', 'pool.ts'], { cwd: project });
    expect(result.stderr.trim().split('\n')).toEqual([
      'site.yaml:5:12: vars.vip: must be an IPv4 address (recipe web, host rs1)',
      'site.yaml:11:46: vars.weight: must be at least 0 (recipe pool, host lb1)',
    ]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
  });

  it('says the same as plan for the same inventory', () => {
    const plan = keel(['plan', 'web.ts', '-i', 'site.yaml', '--limit', 'rs1'], { cwd: project });
    const validated = keel(['inventory', 'validate', '-i', 'site.yaml', 'web.ts'], { cwd: project });
    expect(plan.code).toBe(1);
    expect(validated.stderr).toBe(plan.stderr);
  });

  it('says ok, and what it checked, when every applicable recipe accepts the vars', () => {
    expect(keel(['inventory', 'validate', '-i', 'good.yaml', 'web.ts', 'pool.ts'], { cwd: project })).toMatchObject({
      code: 0,
      stdout: 'good.yaml: ok (2 hosts, 2 groups; vars checked against 2 recipes)\n',
      stderr: '',
    });
  });

  it('resolves secret vars as plan does: one that is missing is a problem of its host, the others are still checked', () => {
    writeFileSync(
      join(project, 'secret.yaml'),
      'groups:\n  web: { hosts: [rs1] }\n  lb: { hosts: [lb1] }\nhosts:\n  rs1: { address: 192.0.2.1, vars: { vip: {secret: {env: KEEL_TEST_UNSET_VIP}} } }\n  lb1: { address: 192.0.2.1, vars: { weight: -2 } }\n',
    );
    const result = keel(['inventory', 'validate', '-i', 'secret.yaml', 'web.ts', 'pool.ts'], { cwd: project });
    expect(result.stderr.trim().split('\n')).toEqual([
      'secret.yaml:5:43: vars.vip: environment variable KEEL_TEST_UNSET_VIP is not set',
      'secret.yaml:6:46: vars.weight: must be at least 0 (recipe pool, host lb1)',
    ]);
    expect(result.code).toBe(1);
  });

  it('a recipe that cannot be loaded is a usage error', () => {
    expect(keel(['inventory', 'validate', '-i', 'good.yaml', 'nope.ts'], { cwd: project })).toMatchObject({
      code: 1,
      stderr: 'nope.ts: no such recipe file\n',
    });
  });
});
