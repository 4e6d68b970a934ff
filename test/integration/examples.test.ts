/**
 * The documented extension examples run for real: a freshly scaffolded resource passes the idempotence harness on
 * a real host over SSH, and the composed recipe converges through the CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testResource } from '../../src/testing.js';
import { keel, recipeProject } from '../support/cli.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('examples');

describe('the documented examples', () => {
  it('type-check as a user would check them', () => {
    expect(keel(['typecheck', 'docs/examples'])).toMatchObject({ code: 0, stdout: '3 files checked, 0 errors\n' });
  });

  it('a resource written by keel new passes the harness unchanged', async () => {
    const project = recipeProject({});
    expect(keel(['new', 'resource', 'motdLine'], { cwd: project }).code).toBe(0);
    const { motdLine } = (await import(join(project, 'resources/motdLine.ts'))) as typeof import('../support/scaffoldShape.js');
    const { transport, sh } = host();
    await testResource(motdLine({ path: '/etc/keel-scaffold', value: 'hello' }), transport, {
      drift: async () => void (await sh('echo changed > /etc/keel-scaffold')),
    });
    expect(await sh('cat /etc/keel-scaffold')).toBe('hello');
  });

  it('the composed recipe converges: the real server, plus rp_filter and a banner line', () => {
    const { lab } = host();
    const name = lab.hosts[0]!.name;
    const inventory = join(lab.stateDir, 'examples.yaml');
    writeFileSync(
      inventory,
      `${readFileSync(lab.inventoryPath, 'utf8')}groups:\n  realservers:\n    hosts: [${name}]\nvars:\n  vip: 10.77.0.100\n  lanInterface: eth0\n`,
    );
    const apply = keel(['apply', 'docs/examples/recipes/hardenedRealserver.ts', '-i', inventory]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain(`${name}: sysctl[net.ipv4.conf.all.rp_filter] changed`);
    expect(apply.stdout).toContain(`${name}: package[nginx] changed`);
    expect(apply.stdout).toMatch(new RegExp(`${name}: lineInFile\\[/etc/motd:.*\\] changed`));
    expect(keel(['check', 'docs/examples/recipes/hardenedRealserver.ts', '-i', inventory])).toMatchObject({ code: 0, stdout: '' });
  });
});
