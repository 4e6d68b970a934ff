/** The file resource against a real host over SSH: content and mode drift are each seen exactly and repaired. */
import { describe, expect, it } from 'vitest';
import { file } from '../../src/resources/file.js';
import { testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-file');

const PAGE = '<!doctype html>\n<title>rs1</title>\n<h1>served by rs1</h1>\n';

describe('file on a real host', () => {
  it('repairs a content drift, showing it as a unified diff', async () => {
    const { transport, sh } = host();
    const page = file({ path: '/srv/keel/www/index.html', content: PAGE, owner: 'root', group: 'root', mode: '0644', makeParents: true });
    const report = await testResource(page, transport, {
      drift: async () => void (await sh(`sed -i 's/served by rs1/served by rs2/' /srv/keel/www/index.html`)),
    });
    expect(report.firstPlan[0]!.changes.map((change) => change.field)).toEqual(['type', 'content', 'owner', 'group', 'mode']);
    const drift = report.driftPlan[0]!.changes;
    expect(drift.map((change) => change.field)).toEqual(['content']);
    expect(drift[0]!.patch).toContain('-<h1>served by rs2</h1>\n+<h1>served by rs1</h1>');
    expect(await sh('cat /srv/keel/www/index.html')).toBe(PAGE);
  });

  it('repairs a mode drift in place, without rewriting the content', async () => {
    const { transport, sh } = host();
    const secret = file({ path: '/etc/keel-test.conf', content: 'token = abc\n', mode: '0600', sensitive: true });
    let inode = '';
    const report = await testResource(secret, transport, {
      drift: async () => {
        await sh('chmod 0644 /etc/keel-test.conf');
        inode = await sh('stat -c %i /etc/keel-test.conf');
      },
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'mode', from: '0644', to: '0600' }]);
    expect(await sh('stat -c %i:%a /etc/keel-test.conf')).toBe(`${inode.trim()}:600\n`);
    expect(JSON.stringify(report)).not.toContain('token = abc');
  });
});
