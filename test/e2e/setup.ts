/**
 * One LVS-DR lab for every end-to-end test file: booted once before the first, taken down after the last.
 * Each file reattaches with `openLvsLab()` and converges the lab itself before it looks, so files may run in
 * any order; a file that breaks something by hand repairs it before it ends.
 */
import { existsSync } from 'node:fs';
import { imageDir } from '../../lab/image.js';
import { downLvsLab, upLvsLab } from '../../lab/lvsLab.js';

export async function setup(): Promise<void> {
  const cold = !existsSync(imageDir());
  const started = Date.now();
  const { timings } = await upLvsLab({ log: (line) => console.log(`[lab] ${line}`) });
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  console.log(
    `[e2e] lab up in ${seconds(Date.now() - started)} s (${cold ? 'cold: image built' : 'cached image'}): images ready ${seconds(timings.buildMs)} s, containers at ${seconds(timings.containersMs)} s, director booted in ${seconds(timings.guestsMs)} s`,
  );
}

export async function teardown(): Promise<void> {
  if (process.env.KEEL_E2E_KEEP_LAB === '1') console.log('[e2e] lab left up (KEEL_E2E_KEEP_LAB=1); npm run lab -- down removes it');
  else await downLvsLab();
}
