import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLease, LEASE_BUSY_EXIT } from '../../src/engine/hostLock.js';

const runSection = (text: string) => spawnSync('/bin/sh', ['-c', `set -e\n${text}`], { encoding: 'utf8' });

describe('the apply lease on a host', () => {
  it('keeps a second controller out until the first drops it', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-lease-'));
    const first = applyLease(600, { directory, who: 'ops@ctl-a pid 1' });
    const second = applyLease(600, { directory, who: 'ops@ctl-b pid 2' });
    expect(runSection(first.acquire.command.text).status).toBe(0);
    expect(runSection(first.acquire.command.text).status).toBe(0);
    const refused = runSection(second.acquire.command.text);
    expect(refused.status).toBe(LEASE_BUSY_EXIT);
    expect(refused.stderr).toMatch(/^keel: another keel run \(ops@ctl-a pid 1\) is applying to this host; its lease ends in (599|600) s$/m);
    expect(runSection(second.release.command.text).status).toBe(0);
    expect(runSection(second.acquire.command.text).status).toBe(LEASE_BUSY_EXIT);
    expect(runSection(first.release.command.text).status).toBe(0);
    expect(runSection(second.acquire.command.text).status).toBe(0);
  });

  it('lets a lease left by a dead controller expire', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-lease-'));
    writeFileSync(join(directory, 'apply.lease'), `deadbeef ${Math.floor(Date.now() / 1000) - 5} ops@gone pid 9\n`);
    expect(runSection(applyLease(600, { directory }).acquire.command.text).status).toBe(0);
  });
});
