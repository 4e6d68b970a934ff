/** The lab's containers and its guests ask for the image at once: they share one build, told in at most one line. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, ensureImage } from '../../lab/image.js';

describe('ensureImage', () => {
  it('hands concurrent callers one build and logs it once', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const first = ensureImage(DEFAULT_IMAGE, log);
    const second = ensureImage(DEFAULT_IMAGE, log);
    expect(second).toBe(first);
    const [rootfs, again] = await Promise.all([first, second]);
    expect(again).toBe(rootfs);
    expect(existsSync(join(rootfs, 'usr/sbin/sshd'))).toBe(true);
    expect(lines.filter((line) => line.includes('with debootstrap')).length).toBeLessThanOrEqual(1);
    // Once built, a later caller starts afresh and finds it cached: no line at all.
    lines.length = 0;
    expect(await ensureImage(DEFAULT_IMAGE, log)).toBe(rootfs);
    expect(lines).toEqual([]);
  });
});
