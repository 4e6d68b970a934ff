import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, unmountUnder } from './system.js';

export function cacheRoot(): string {
  return process.env.KEEL_CACHE_DIR ?? join(homedir(), '.cache', 'keel');
}

export function shortHash(inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 12);
}

/**
 * Produces `target` once: `build` fills a scratch directory that is renamed to
 * `target` only when complete, under a lock file so that concurrent callers
 * (other test workers, a hand-run CLI) wait for one builder instead of racing.
 */
export async function buildOnce(target: string, build: (scratch: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  await mkdir(dirname(target), { recursive: true });
  const lockPath = `${target}.lock`;
  if (!(await acquireLock(lockPath, target))) return target;
  try {
    if (existsSync(target)) return target;
    const scratch = `${target}.build-${process.pid}`;
    await discard(scratch);
    await mkdir(scratch, { recursive: true });
    try {
      await build(scratch);
      await rename(scratch, target);
    } catch (error) {
      await discard(scratch);
      throw error;
    }
    return target;
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Resolves true once this process holds the lock, false if another builder finished meanwhile. */
async function acquireLock(lockPath: string, target: string): Promise<boolean> {
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (existsSync(target)) return false;
    const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (holder > 0 && !isAlive(holder)) {
      await discard(`${target}.build-${holder}`);
      await rm(lockPath, { force: true });
      continue;
    }
    await sleep(500);
  }
}

/** A crashed debootstrap can leave proc/sys mounted inside its scratch tree. */
async function discard(scratch: string): Promise<void> {
  await unmountUnder(scratch);
  await rm(scratch, { recursive: true, force: true });
}
