/** The lineInFile resource against a real host over SSH: one line kept, the rest of the file and its mode untouched. */
import { describe, expect, it } from 'vitest';
import { lineInFile } from '../../src/resources/lineInFile.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-lineinfile');

describe('lineInFile on a real host', () => {
  it('replaces the line its regexp finds and repairs a hand edit, leaving the rest of the file alone', async () => {
    const { transport, sh } = host();
    await sh("printf 'first\\n#PermitRootLogin yes\\nlast\\n' > /etc/example.conf && chmod 600 /etc/example.conf");
    const line = lineInFile({ path: '/etc/example.conf', line: 'PermitRootLogin prohibit-password', regexp: '^#?PermitRootLogin ' });
    const report = await testResource(line, transport, {
      drift: async () => void (await sh("sed -i 's/^PermitRootLogin .*/PermitRootLogin yes/' /etc/example.conf")),
    });
    expect(report.firstPlan[0]!.changes).toMatchObject([
      { field: 'line', from: '#PermitRootLogin yes', to: 'PermitRootLogin prohibit-password' },
    ]);
    expect(report.driftPlan[0]!.changes[0]!.patch).toContain('-PermitRootLogin yes\n+PermitRootLogin prohibit-password\n');
    expect(await sh('cat /etc/example.conf; stat -c %a /etc/example.conf')).toBe('first\nPermitRootLogin prohibit-password\nlast\n600\n');
  });

  it('inserts after an anchor in a file it creates, and removes the line again', async () => {
    const { transport, sh } = host();
    const header = lineInFile({ path: '/etc/keel-hosts.allow', line: '# keel', create: true });
    const entry = lineInFile({ path: '/etc/keel-hosts.allow', line: 'sshd: 10.0.0.0/8', after: '^# keel$' });
    await testResource([header, entry], transport, {
      drift: async () => void (await sh("sed -i '/^sshd:/d' /etc/keel-hosts.allow && echo 'ALL: ALL' >> /etc/keel-hosts.allow")),
    });
    expect(await sh('cat /etc/keel-hosts.allow')).toBe('# keel\nsshd: 10.0.0.0/8\nALL: ALL\n');
    const removed = await runOnce('apply', [lineInFile({ path: '/etc/keel-hosts.allow', regexp: '^sshd:', state: 'absent' })], transport);
    expect(removed.resources[0]!.outcome).toBe('changed');
    expect(await sh('cat /etc/keel-hosts.allow')).toBe('# keel\nALL: ALL\n');
  });
});
