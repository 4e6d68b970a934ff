/** The template resource against a real host over SSH: a rendered config, its drift shown as a unified diff and repaired. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { templateFile } from '../../src/index.js';
import { Secret } from '../../src/shell/index.js';
import { testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-template');
const dir = mkdtempSync(join(tmpdir(), 'keel-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('template on a real host', () => {
  it('renders, repairs a hand edit shown as a unified diff of the rendered text', async () => {
    const { transport, sh } = host();
    const source = join(dir, 'site.conf.j2');
    writeFileSync(source, 'server {\n    listen {{ port }};\n{% for name in names %}    server_name {{ name }};\n{% endfor %}}\n');
    const site = templateFile({ path: '/etc/keel-site.conf', source, vars: { port: 80, names: ['rs1', 'rs1.lab'] }, mode: '0644' });
    const report = await testResource(site, transport, {
      drift: async () => void (await sh(`sed -i 's/listen 80/listen 81/' /etc/keel-site.conf`)),
    });
    expect(report.firstPlan[0]!.id).toBe('template[/etc/keel-site.conf]');
    const drift = report.driftPlan[0]!.changes;
    expect(drift.map((change) => change.field)).toEqual(['content']);
    expect(drift[0]!.patch).toContain('-    listen 81;\n+    listen 80;');
    expect(await sh('cat /etc/keel-site.conf')).toBe('server {\n    listen 80;\n    server_name rs1;\n    server_name rs1.lab;\n}\n');
  });

  it('keeps a file rendered with a secret out of every report', async () => {
    const { transport, sh } = host();
    const source = join(dir, 'app.conf.j2');
    writeFileSync(source, 'user = {{ user }}\ntoken = {{ token }}\n');
    const app = templateFile({ path: '/etc/keel-app.conf', source, vars: { user: 'web', token: new Secret('tok-93f1') }, mode: '0600' });
    const report = await testResource(app, transport, {
      drift: async () => void (await sh(`sed -i 's/tok-93f1/tok-0000/' /etc/keel-app.conf`)),
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'content', from: '[redacted]', to: '[redacted]' }]);
    expect(JSON.stringify(report)).not.toContain('tok-');
    expect(await sh('cat /etc/keel-app.conf')).toBe('user = web\ntoken = tok-93f1\n');
  });
});
