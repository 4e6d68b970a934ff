/**
 * One keel run per inventory on this machine at a time, so overlapping cron runs do not both work.
 * The lock file holds the owner's pid; a lock whose owner has died is taken over.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class LockBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockBusyError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockPathFor(inventory: string): string {
  const digest = createHash('sha256').update(realpathSync(inventory)).digest('hex').slice(0, 16);
  return join(process.env.KEEL_LOCK_DIR ?? tmpdir(), `keel-${digest}.lock`);
}

function tryAcquire(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(owner) && alive(owner)) return false;
    rmSync(path, { force: true });
    return tryAcquire(path);
  }
}

/** Waits up to `waitMs` for the lock; returns the function that releases it. */
export async function acquireLocalLock(inventory: string, waitMs: number): Promise<() => void> {
  const path = lockPathFor(inventory);
  const deadline = Date.now() + waitMs;
  while (!tryAcquire(path)) {
    if (Date.now() >= deadline) {
      const owner = readFileSync(path, 'utf8').trim();
      throw new LockBusyError(
        `keel: another keel run (pid ${owner}) holds the lock for ${inventory} (${path}); waited ${Math.round(waitMs / 1000)} s. Use --lock-wait SECONDS to wait longer.`,
      );
    }
    await sleep(200);
  }
  const release = (): void => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}
