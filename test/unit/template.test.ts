import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceParamsError } from '../../src/engine/resource.js';
import { templateFile } from '../../src/index.js';
import { parseFileRead } from '../../src/resources/file.js';
import { renderTemplate } from '../../src/resources/template.js';
import { Secret } from '../../src/shell/index.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const SITE = write('site.conf.j2', 'server {\n    listen {{ port }};\n    root {{ root }};\n}\n');

describe('template: rendering', () => {
  it('renders Jinja2 loops and filters, without escaping', () => {
    const source = write('page.j2', '{{ title | upper }} & {{ "<b>" }}\n{% for n in ns %}{% include "part.j2" %}{% endfor %}');
    write('part.j2', 'part {{ n + 1 }}\n');
    expect(renderTemplate(source, { title: 'rs1', ns: [1, 2] })).toBe('RS1 & <b>\npart 2\npart 3\n');
  });

  it('refuses an undefined variable, naming the template file and line', () => {
    expect(() => renderTemplate(SITE, { port: 80 })).toThrow(`(${SITE}) [Line 3`);
  });

  it('makes the whole file secret when the template uses a secret, and only then', () => {
    const source = write('secret.j2', 'user = web\n{% if withToken %}token = {{ token }}\n{% endif %}');
    const used = renderTemplate(source, { withToken: true, token: new Secret('s3cret') });
    expect(used).toBeInstanceOf(Secret);
    expect((used as Secret).reveal()).toBe('user = web\ntoken = s3cret\n');
    expect(renderTemplate(source, { withToken: false, token: new Secret('s3cret') })).toBe('user = web\n');
  });
});

describe('template: declaring', () => {
  it('reports a template that does not render at the recipe line, before any host is contacted', () => {
    let error: unknown;
    try {
      templateFile({ path: '/etc/nginx/sites-enabled/default', source: SITE, vars: { port: 80 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ResourceParamsError);
    expect((error as Error).message).toMatch(
      /^test\/unit\/template\.test\.ts:\d+: invalid template parameters: source .*\[Line 3, Column \d+\] attempted to output null or undefined value$/,
    );
  });

  it('needs a source unless the file is to be absent', () => {
    expect(() => templateFile({ path: '/etc/motd' })).toThrow('source is required unless state is "absent"');
    expect(templateFile({ path: '/etc/motd', state: 'absent' }).id).toBe('template[/etc/motd]');
  });

  it('refuses a missing template file with its path', () => {
    expect(() => templateFile({ path: '/etc/motd', source: join(dir, 'nope.j2') })).toThrow(/source .*nope\.j2 does not render: ENOENT/);
  });
});

describe('template: diff and apply through the file resource', () => {
  const current = parseFileRead(fixture('file', 'regular'));

  it('diffs the rendered text as a unified diff', () => {
    const site = templateFile({ path: '/etc/nginx/sites-enabled/default', source: SITE, vars: { port: 8080, root: '/var/www/html' } });
    const { changes, steps } = planChange(site, current);
    expect(changes.map((change) => change.field)).toEqual(['content']);
    expect(changes[0]!.patch).toContain('-    listen 80;\n+    listen 8080;');
    expect(steps.join('\n')).toContain('mv');
  });

  it('is in sync when the rendering equals the file', () => {
    const site = templateFile({ path: '/etc/nginx/sites-enabled/default', source: SITE, vars: { port: 80, root: '/var/www/html' } });
    expect(planChange(site, current).changes).toEqual([]);
  });

  it('shows no part of a secret rendering', () => {
    const source = write('token.j2', 'token = {{ token }}\n');
    const secret = templateFile({ path: '/etc/app.conf', source, vars: { token: new Secret('s3cret') } });
    const { changes } = planChange(secret, current);
    expect(changes).toEqual([{ field: 'content', from: '[redacted]', to: '[redacted]' }]);
  });
});
