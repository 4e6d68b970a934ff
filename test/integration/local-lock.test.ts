/** Two overlapping runs against the same inventory: the second waits a bounded time, or says why it stops. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockPathFor } from '../../src/cli/localLock.js';
import { KEEL, keel, recipeProject } from '../support/cli.js';

const project = recipeProject({
  'slow.ts': `
import { defineResource, recipe, sh, Type, Vars } from 'keel';

const pause = defineResource({
  type: 'pause',
  schema: Type.Object({ seconds: Type.Number() }),
  key: () => 'pause',
  read: (params) => ({ command: sh\`sleep \${params.seconds}; echo done\`, parse: ({ stdout }) => ({ done: stdout.trim() === 'done' }) }),
  desired: () => ({ done: true }),
  apply: () => [],
});

export default recipe({ name: 'slow', vars: Vars({}), resources: () => [pause({ seconds: 3 })] });
`,
  'inventory.yaml': 'hosts:\n  self: {}\n',
});

function startSlowCheck(): Promise<number> {
  const child = spawn(process.execPath, [KEEL, 'check', 'slow.ts', '-i', 'inventory.yaml', '-c', 'local'], {
    cwd: project,
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
}

const waitUntilLocked = async (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1500));

describe('the local lock', () => {
  it('stops a second run with a clear message while the first holds the lock', async () => {
    const first = startSlowCheck();
    await waitUntilLocked();
    const second = keel(['check', 'slow.ts', '-i', 'inventory.yaml', '-c', 'local'], { cwd: project });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another keel run \(pid \d+\) holds the lock for inventory\.yaml/);
    expect(await first).toBe(0);
  });

  it('lets the second run proceed once the first is done, when told to wait', async () => {
    const first = startSlowCheck();
    await waitUntilLocked();
    const second = keel(['check', 'slow.ts', '-i', 'inventory.yaml', '-c', 'local', '--lock-wait', '20'], { cwd: project });
    expect(await first).toBe(0);
    expect(second).toMatchObject({ code: 0, stderr: '' });
  });

  it('takes over a lock left by a process that died', () => {
    const dead = spawnSync('true');
    process.env.KEEL_LOCK_DIR = project;
    const lockFile = lockPathFor(join(project, 'inventory.yaml'));
    delete process.env.KEEL_LOCK_DIR;
    writeFileSync(lockFile, `${dead.pid}\n`);
    const run = keel(['check', 'slow.ts', '-i', 'inventory.yaml', '-c', 'local'], { cwd: project, env: { KEEL_LOCK_DIR: project } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(lockFile)).toBe(false);
  });
});
