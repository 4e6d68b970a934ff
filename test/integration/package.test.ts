/**
 * The package resource against a real host over SSH, with the lab's own apt repository: install several
 * packages in one transaction, see a removal by hand, remove, and live with a dpkg lock held by someone else.
 */
import { describe, expect, it } from 'vitest';
import { pkg } from '../../src/resources/package.js';
import { runOnce, testResource } from '../../src/testing.js';
import { holdDpkgLock } from '../support/dpkgLock.js';
import { type LabHostSession, useLabHost } from '../support/labHost.js';

const host = useLabHost('res-package');

const installed = (session: LabHostSession, name: string) => session.sh(`dpkg-query -W -f '\${Status}' ${name} 2>/dev/null || true`);

describe('package on a real host', () => {
  it('installs several packages in one transaction and reinstalls one removed by hand', async () => {
    const session = host();
    const packages = pkg({ name: ['nginx', 'ipvsadm'] });
    const report = await testResource(packages, session.transport, {
      drift: async () => void (await session.sh('DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ipvsadm')),
    });
    expect(report.firstPlan[0]!.changes.map((change) => change.field)).toEqual(['nginx', 'ipvsadm']);
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'ipvsadm', from: null, to: expect.any(String) }]);
    expect(await installed(session, 'ipvsadm')).toBe('install ok installed');
  });

  it('removes a package and then leaves it alone', async () => {
    const session = host();
    const absent = pkg({ name: 'ipvsadm', state: 'absent' });
    expect((await runOnce('apply', [absent], session.transport)).resources[0]).toMatchObject({ outcome: 'changed' });
    expect((await runOnce('plan', [absent], session.transport)).resources[0]!.outcome).toBe('unchanged');
    expect(await installed(session, 'ipvsadm')).not.toBe('install ok installed');
  });

  it('waits for a dpkg lock that is released in time', async () => {
    const session = host();
    await holdDpkgLock(session.lab, session.lab.hosts[0]!.name, 6);
    const started = Date.now();
    const result = await runOnce('apply', [pkg({ name: 'ipvsadm', lockWaitSeconds: 60 })], session.transport);
    expect(result.resources[0]).toMatchObject({ outcome: 'changed' });
    expect(Date.now() - started).toBeGreaterThan(3000);
  });

  it('fails naming the process that holds the dpkg lock too long', async () => {
    const session = host();
    const holder = await holdDpkgLock(session.lab, session.lab.hosts[0]!.name, 120);
    try {
      const result = await runOnce('apply', [pkg({ name: 'ipvsadm', state: 'absent', lockWaitSeconds: 2 })], session.transport);
      expect(result.resources[0]).toMatchObject({ outcome: 'failed', error: { phase: 'apply', exitCode: 100 } });
      expect(result.resources[0]!.error!.stderr).toContain(
        `keel: the dpkg lock /var/lib/dpkg/lock-frontend is held by process ${holder} (perl)`,
      );
    } finally {
      await session.sh(`kill ${holder}`);
    }
    expect(await installed(session, 'ipvsadm')).toBe('install ok installed');
  });
});
