import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceParamsError, Unknowable } from '../../src/engine/resource.js';
import { CONTENT_READ_LIMIT, type FileState, file, parseFileRead, template } from '../../src/resources/file.js';
import { runOnce } from '../../src/testing.js';
import { LocalTransport } from '../../src/transport/local.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

const SITE = 'server {\n    listen 80;\n    root /var/www/html;\n}\n';

function state(name: string): FileState {
  return parseFileRead(fixture('file', name));
}

function plan(params: Parameters<typeof file>[0], current: FileState) {
  return planChange(file(params), current);
}

describe('file: parsing the read output', () => {
  it('reads content, owner, group and mode of a regular file', () => {
    expect(state('regular')).toEqual({
      type: 'file',
      parentExists: true,
      content: SITE,
      sha256: '43f31ada611980f7170dd15e91ddc856317895e522681c7ec24f78c6eb8e49db',
      owner: 'daemon',
      uid: 1,
      group: 'adm',
      gid: 4,
      mode: '0640',
    });
  });

  it('reads an empty file as empty content', () => {
    expect(state('empty')).toMatchObject({ type: 'file', content: '', mode: '0644' });
  });

  it('keeps only a checksum of a file above the read limit', () => {
    const large = state('large');
    expect(large.content).toBeNull();
    expect(large.sha256).toBe('6932fd31e5daf4739b9fa78ff777b2831b0995cc1d0b0093cac80601902013bc');
    expect(CONTENT_READ_LIMIT).toBe(1024 * 1024);
  });

  it('names owners without an account by their id, and keeps setuid bits', () => {
    expect(state('setuid-unknown-owner')).toMatchObject({
      owner: '12345',
      uid: 12345,
      group: '23456',
      gid: 23456,
      mode: '4755',
      content: 'x',
    });
  });

  it('checksums the exact bytes of content that is not UTF-8', () => {
    const bytes = state('non-utf8');
    expect(bytes.sha256).toBe('48bb7b9cc3cc1a7d4223d8d7a6aa3693abbf66dd26fa64c1f43337d3075fb9f7');
    expect(bytes.content).toContain('café\nbinary ');
  });

  it('tells symlinks, directories, other files and missing parents apart', () => {
    expect(state('symlink').type).toBe('symlink');
    expect(state('directory').type).toBe('directory');
    expect(state('fifo').type).toBe('other');
    expect(state('absent')).toMatchObject({ type: 'absent', parentExists: true });
    expect(state('absent-parent')).toMatchObject({ type: 'absent', parentExists: false });
  });

  it('refuses output it does not understand', () => {
    expect(() => parseFileRead('bash: stat: not found\n')).toThrow(/unexpected output/);
  });

  it('is unknowable when the parent directory is missing, unless makeParents is set', () => {
    const read = (params: Parameters<typeof file>[0]) =>
      file(params)
        .definition.read(file(params).params)
        .parse({ stdout: fixture('file', 'absent-parent'), stderr: '', code: 0 });
    expect(read({ path: '/etc/nginx/sites-enabled/site', content: SITE })).toEqual(
      new Unknowable('the directory /etc/nginx/sites-enabled does not exist (set makeParents to create it)'),
    );
    expect(read({ path: '/etc/nginx/sites-enabled/site', content: SITE, makeParents: true })).toMatchObject({
      type: 'absent',
      parentExists: false,
    });
    expect(read({ path: '/etc/nginx/sites-enabled/site', state: 'absent' })).toMatchObject({ type: 'absent' });
  });
});

describe('file: diff', () => {
  it('shows new content of a missing file as a unified diff', () => {
    const { changes } = plan({ path: '/srv/site.conf', content: SITE, mode: '644' }, state('absent'));
    expect(changes.map((c) => c.field)).toEqual(['type', 'content', 'mode']);
    expect(changes[1]!.patch).toContain('+    listen 80;');
    expect(changes[2]).toMatchObject({ from: null, to: '0644' });
  });

  it('shows a content change as a unified diff with context', () => {
    const { changes } = plan({ path: '/srv/site.conf', content: SITE.replace('80', '8080') }, state('regular'));
    expect(changes).toHaveLength(1);
    expect(changes[0]!.patch).toMatch(/- {4}listen 80;\n\+ {4}listen 8080;/);
  });

  it('is in sync when owner and group are named by id or by name', () => {
    expect(plan({ path: '/srv/site.conf', content: SITE, owner: 'daemon', group: '4', mode: '0640' }, state('regular')).changes).toEqual(
      [],
    );
    expect(plan({ path: '/srv/site.conf', owner: '1', group: 'adm' }, state('regular')).changes).toEqual([]);
  });

  it('does not manage what the parameters leave out', () => {
    expect(plan({ path: '/srv/site.conf' }, state('regular')).changes).toEqual([]);
  });

  it('shows checksums instead of text for sensitive files and files above the read limit', () => {
    const secret = plan({ path: '/srv/site.conf', content: 'password=hunter2\n', sensitive: true }, state('regular')).changes[0]!;
    expect(secret.patch).toBeUndefined();
    expect(JSON.stringify(secret)).not.toContain('hunter2');
    expect(secret.to).toMatch(/^sha256:[0-9a-f]{64}$/);
    const large = plan({ path: '/srv/large', content: 'small now\n' }, state('large')).changes[0]!;
    expect(large).toMatchObject({ field: 'content', from: 'sha256:6932fd31e5daf4739b9fa78ff777b2831b0995cc1d0b0093cac80601902013bc' });
  });

  it('hides sensitive content from the desired state reported too', () => {
    const instance = file({ path: '/srv/secret', content: 'password=hunter2\n', sensitive: true });
    expect(JSON.stringify(instance.definition.desired!(instance.params))).not.toContain('hunter2');
  });

  it('replaces a symlink with a regular file, and refuses to replace a directory', () => {
    expect(plan({ path: '/srv/link', content: 'x' }, state('symlink')).changes.map((c) => c.field)).toEqual(['type', 'content']);
    expect(() => plan({ path: '/srv/dir', content: 'x' }, state('directory'))).toThrow(/is a directory/);
  });

  it('removes a file that should be absent, and nothing when it is', () => {
    expect(plan({ path: '/srv/site.conf', state: 'absent' }, state('regular'))).toEqual({
      changes: [{ field: 'type', from: 'file', to: 'absent' }],
      steps: ['rm -f -- /srv/site.conf'],
    });
    expect(plan({ path: '/srv/site.conf', state: 'absent' }, state('absent')).changes).toEqual([]);
  });
});

describe('file: apply', () => {
  it('changes only the mode, in place, when only the mode differs', () => {
    expect(plan({ path: '/srv/site.conf', content: SITE, mode: '0600' }, state('regular')).steps).toEqual(['chmod -- 0600 /srv/site.conf']);
  });

  it('changes owner and group together without rewriting the content', () => {
    expect(plan({ path: '/srv/site.conf', owner: 'root', group: 'root' }, state('regular')).steps).toEqual([
      'chown -- root:root /srv/site.conf',
    ]);
    expect(plan({ path: '/srv/site.conf', group: 'root' }, state('regular')).steps).toEqual(['chgrp -- root /srv/site.conf']);
  });

  it('rewrites content atomically and keeps the current owner and mode it does not manage', () => {
    const [write] = plan({ path: '/srv/site.conf', content: 'new\n' }, state('regular')).steps;
    expect(write).toMatch(/^__keel_tmp=\/srv\/\.keel\.[0-9a-f]{12}$/m);
    expect(write).toContain('( umask 137; set -C; exec >"$__keel_tmp" || exit 1;');
    expect(write).toContain(
      '{ [ ! -e /srv/site.conf ] || { [ -O /srv/site.conf ] && [ -G /srv/site.conf ] && [ ! -g /srv ]; } || chown "$(stat -L -c %u:%g -- /srv/site.conf)" "$__keel_tmp"; }',
    );
    expect(write).not.toContain('chmod');
    expect(write).toContain('mv -f -- "$__keel_tmp" /srv/site.conf');
  });

  it('creates missing parents only with makeParents', () => {
    const steps = plan({ path: '/srv/new/dir/site.conf', content: SITE, makeParents: true }, state('absent-parent')).steps;
    expect(steps[0]).toBe('mkdir -p -- /srv/new/dir');
  });

  it('rejects hostile owners, modes and relative paths in the schema', () => {
    expect(() => file({ path: '/srv/x', owner: 'root; touch /tmp/canary' })).toThrow(ResourceParamsError);
    expect(() => file({ path: '/srv/x', mode: '$(touch /tmp/canary)' })).toThrow(/mode must be an octal file mode/);
    expect(() => file({ path: 'srv/x' })).toThrow(/must be an absolute path/);
    expect(() => file({ path: '/srv/x\n; touch /tmp/canary' })).toThrow(ResourceParamsError);
    expect(() => file({ path: '/srv/../etc/shadow' })).toThrow(ResourceParamsError);
  });
});

describe('file: templates', () => {
  it('fills {{name}} placeholders', () => {
    expect(template('<h1>{{ host }}</h1> on {{port}} {{host}}', { host: 'rs1', port: 80 })).toBe('<h1>rs1</h1> on 80 rs1');
  });

  it('refuses a placeholder without a value', () => {
    expect(() => template('{{host}} {{missing}}', { host: 'rs1' })).toThrow('the template uses {{missing}}, which its vars do not define');
  });

  it('leaves shell and JavaScript syntax alone', () => {
    expect(template('${HOME} $(id) `id` {{x}}', { x: '{{y}}' })).toBe('${HOME} $(id) `id` {{y}}');
  });
});

describe('file: through a real shell on this machine', () => {
  const directory = mkdtempSync(join(tmpdir(), 'keel-file-'));
  const transport = new LocalTransport();
  /** A relative name, so the hostile file names below stay inside one directory; commands run in the process's cwd. */
  const canary = `keel-canary-${process.pid}`;
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes and reads back hostile names and content literally', async () => {
    const hostileName = join(directory, `a '$(touch ${canary})' \`touch ${canary}\` "; touch ${canary}`);
    const content = `line with $(touch ${canary}) and \`backticks\`\n'quotes' "double"\n__KEEL_CONTENT__\nno trailing newline`;
    const resource = file({ path: hostileName, content, mode: '0600' });
    const applied = await runOnce('apply', [resource], transport);
    expect(applied.resources[0]).toMatchObject({ outcome: 'changed' });
    expect(readFileSync(hostileName, 'utf8')).toBe(content);
    expect(statSync(hostileName).mode & 0o7777).toBe(0o600);
    expect((await runOnce('plan', [resource], transport)).resources[0]!.outcome).toBe('unchanged');
    expect(existsSync(canary)).toBe(false);
  });

  it('repairs a mode drift without touching the content', async () => {
    const path = join(directory, 'mode');
    writeFileSync(path, 'kept\n', { mode: 0o644 });
    const before = statSync(path).ino;
    const applied = await runOnce('apply', [file({ path, content: 'kept\n', mode: '0640' })], transport);
    expect(applied.resources[0]!.changes.map((c) => c.field)).toEqual(['mode']);
    expect(statSync(path).ino).toBe(before);
    expect(statSync(path).mode & 0o7777).toBe(0o640);
  });

  it('fails clearly when the parent directory is missing', async () => {
    const result = await runOnce('plan', [file({ path: join(directory, 'missing', 'x'), content: 'x' })], transport);
    expect(result.resources[0]!.outcome).toBe('failed');
    expect(result.resources[0]!.error!.message).toMatch(/missing does not exist \(set makeParents to create it\)/);
  });
});
