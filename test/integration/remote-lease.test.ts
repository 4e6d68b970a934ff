/** Two controllers applying to one host over SSH: the second is refused while the first holds the host's lease. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEEL, keel, recipeProject } from '../support/cli.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('lease', 'light');

const recipeTouching = (file: string, seconds: number): string => `
import { command, recipe, Vars } from 'keel';
export default recipe({
  name: 'slow',
  vars: Vars({}),
  resources: () => [command({ name: 'slow install', run: 'sleep ${seconds} && touch /root/${file}', creates: '/root/${file}' })],
});
`;

describe('the apply lease over SSH', () => {
  it('refuses a second controller while the first applies, then lets it in', async () => {
    const { lab, sh } = host();
    // Two controllers: separate projects, so the local per-inventory lock does not serialise them first.
    const first = recipeProject({ 'slow.ts': recipeTouching('first', 12) });
    const second = recipeProject({ 'slow.ts': recipeTouching('second', 0) });
    for (const project of [first, second]) writeFileSync(join(project, 'inventory.yaml'), readFileSync(lab.inventoryPath));
    const running = spawn(process.execPath, [KEEL, 'apply', 'slow.ts', '-i', 'inventory.yaml'], {
      cwd: first,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const firstDone = new Promise<number>((resolve) => running.on('exit', (code) => resolve(code ?? -1)));
    await expect
      .poll(() => sh('cat /var/lib/keel/apply.lease 2>/dev/null || true'), { timeout: 20_000, interval: 250 })
      .toMatch(/ pid \d+/);

    const refused = keel(['apply', 'slow.ts', '-i', 'inventory.yaml'], { cwd: second });
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(
      /h1: command\[slow install\] failed: take the apply lease failed \(exit 75\).*another keel run \(.* pid \d+\) is applying to this host/,
    );
    expect(await sh('ls /root')).not.toContain('second');

    expect(await firstDone).toBe(0);
    expect(await sh('cat /var/lib/keel/apply.lease 2>/dev/null || echo none')).toBe('none\n');
    expect(keel(['apply', 'slow.ts', '-i', 'inventory.yaml'], { cwd: second })).toMatchObject({ code: 0 });
  });
});
