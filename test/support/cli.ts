/** Running the real `keel` CLI from tests, and writing recipe projects the way a user would. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const KEEL = join(REPO, 'bin/keel.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `keel ARGS`, optionally inside a network namespace (`ip netns exec`). */
export function keel(
  args: string[],
  options: { cwd?: string; netns?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult {
  const command = options.netns
    ? ['ip', ['netns', 'exec', options.netns, process.execPath, KEEL, ...args]]
    : [process.execPath, [KEEL, ...args]];
  const result = spawnSync(command[0] as string, command[1] as string[], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A directory laid out like a user's project: package.json, node_modules/keel, and the given files. */
export function recipeProject(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'keel-project-'));
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(directory, 'node_modules'));
  symlinkSync(REPO, join(directory, 'node_modules/keel'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), content);
  }
  return directory;
}

/** A recipe of three DR sysctls on the host's `lanInterface`, persisted to its `sysctlFile`: real kernel state, per network namespace. */
export const DR_SYSCTLS_RECIPE = `
import { recipe, sysctl, Type, Vars, InterfaceName } from 'keel';

export default recipe({
  name: 'dr-sysctls',
  vars: Vars({ lanInterface: InterfaceName, sysctlFile: Type.String() }),
  resources: ({ vars }) => [
    sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1, file: vars.sysctlFile }),
    sysctl({ key: 'net.ipv4.conf.all.arp_announce', value: 2, file: vars.sysctlFile }),
    sysctl({ key: \`net.ipv4.conf.\${vars.lanInterface}.arp_ignore\`, value: 1, file: vars.sysctlFile }),
  ],
});
`;
