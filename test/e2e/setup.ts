/**
 * One LVS-DR lab for every end-to-end test file: booted once before the first, taken down after the last.
 * Each file reattaches with `openLvsLab()` and converges the lab itself before it looks, so files may run in
 * any order; a file that breaks something by hand repairs it before it ends.
 */
import { existsSync } from 'node:fs';
import { imageDir } from '../../lab/image.js';
import { downLvsLab, openLvsLab, upLvsLab } from '../../lab/lvsLab.js';

/** KEEL_E2E_REUSE_LAB=1: a developer's lab that is already up is used as it is, and left up. */
const reuse = process.env.KEEL_E2E_REUSE_LAB === '1';

function labIsUp(): boolean {
  try {
    openLvsLab();
    return true;
  } catch {
    return false;
  }
}

export async function setup(): Promise<void> {
  if (reuse && labIsUp()) {
    console.log('[e2e] reusing the lab that is up (KEEL_E2E_REUSE_LAB=1)');
    return;
  }
  const cold = !existsSync(imageDir());
  const started = Date.now();
  const { timings } = await upLvsLab({ log: (line) => console.log(`[lab] ${line}`) });
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  console.log(
    `[e2e] lab up in ${seconds(Date.now() - started)} s (${cold ? 'cold: image built' : 'cached image'}): images ready ${seconds(timings.buildMs)} s, containers at ${seconds(timings.containersMs)} s, director booted in ${seconds(timings.guestsMs)} s`,
  );
}

export async function teardown(): Promise<void> {
  if (reuse || process.env.KEEL_E2E_KEEP_LAB === '1') console.log('[e2e] lab left up; npm run lab -- down removes it');
  else await downLvsLab();
}
