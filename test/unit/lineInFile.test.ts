/** lineInFile's rewriting and parser, on its read command's output captured over SSH from a lab host by test/fixtures/lineInFile/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource, ResourceParamsError } from '../../src/engine/resource.js';
import { type LineInFileParams, lineInFile, parseLineInFileRead, rewrite } from '../../src/resources/lineInFile.js';
import { fixture } from '../support/fixtures.js';

const read = (name: string, path = '/etc/x') => parseLineInFileRead(fixture('lineInFile', name), path);
const sshd = read('sshd-config').content!;
const params = (extra: Partial<LineInFileParams>): LineInFileParams => ({ path: '/etc/ssh/sshd_config', ...extra });

describe('lineInFile: reading', () => {
  it('reads a file whole, an empty one, and one without a final newline (which it adds)', () => {
    expect(sshd).toContain('#PermitRootLogin prohibit-password\n');
    expect(read('empty')).toEqual({ content: '' });
    expect(read('no-final-newline')).toEqual({ content: 'first\n  indented \\ back\tslash\nlast\n' });
    expect(read('absent')).toEqual({ content: null });
    expect(() => read('directory', '/etc/ssh')).toThrow('/etc/ssh is not a regular file');
  });
});

describe('lineInFile: rewriting', () => {
  it('replaces the line its regexp finds, leaving every other line alone', () => {
    const after = rewrite(sshd, params({ line: 'PermitRootLogin no', regexp: '^#?PermitRootLogin ' }));
    expect(after).toBe(sshd.replace('#PermitRootLogin prohibit-password\n', 'PermitRootLogin no\n'));
  });

  it('inserts a new line after the last match of after, before the first of before, or at the end', () => {
    const content = 'a\nanchor 1\nb\nanchor 2\nc\n';
    expect(rewrite(content, params({ line: 'new', after: '^anchor' }))).toBe('a\nanchor 1\nb\nanchor 2\nnew\nc\n');
    expect(rewrite(content, params({ line: 'new', before: '^anchor' }))).toBe('a\nnew\nanchor 1\nb\nanchor 2\nc\n');
    expect(rewrite(content, params({ line: 'new', before: '^nowhere' }))).toBe(`${content}new\n`);
    expect(rewrite('', params({ line: 'new' }))).toBe('new\n');
  });

  it('removes every line the regexp finds, or every copy of the line', () => {
    expect(rewrite('x=1\ny\nx=2\n', params({ regexp: '^x=', state: 'absent' }))).toBe('y\n');
    expect(rewrite('y\nz\ny\n', params({ line: 'y', state: 'absent' }))).toBe('z\n');
  });
});

describe('lineInFile: diff and parameters', () => {
  it('shows the line and a unified diff of the file; nothing when it is already there', () => {
    const permit = lineInFile({ path: '/etc/ssh/sshd_config', line: 'PermitRootLogin no', regexp: '^#?PermitRootLogin ' });
    const [change] = diffResource(permit, read('sshd-config'));
    expect(change).toMatchObject({ field: 'line', from: '#PermitRootLogin prohibit-password', to: 'PermitRootLogin no' });
    expect(change!.patch).toContain('-#PermitRootLogin prohibit-password\n+PermitRootLogin no\n');
    expect(diffResource(permit, { content: rewrite(sshd, permit.params) })).toEqual([]);
  });

  it('creates a missing file only when asked, and a missing file needs no removal', () => {
    const create = lineInFile({ path: '/etc/keel-none', line: 'x', create: true });
    expect(diffResource(create, read('absent'))).toMatchObject([{ field: 'line', from: null, to: 'x' }]);
    const parse = (instance: ReturnType<typeof lineInFile>) =>
      instance.definition.read(instance.params).parse({ stdout: fixture('lineInFile', 'absent'), stderr: '', code: 0 });
    expect(parse(lineInFile({ path: '/etc/keel-none', line: 'x' }))).toMatchObject({
      reason: '/etc/keel-none does not exist (set create to create it)',
    });
    expect(diffResource(lineInFile({ path: '/etc/keel-none', line: 'x', state: 'absent' }), read('absent'))).toEqual([]);
  });

  it('refuses a bad regular expression, both anchors, or a missing line, naming the recipe line', () => {
    expect(() => lineInFile({ path: '/etc/x', line: 'a', regexp: '(' })).toThrow(
      /lineInFile\.test\.ts:\d+: invalid lineInFile parameters: regexp is not a valid regular expression/,
    );
    expect(() => lineInFile({ path: '/etc/x', line: 'a', after: 'b', before: 'c' })).toThrow(/before cannot be given with after/);
    expect(() => lineInFile({ path: '/etc/x' })).toThrow(ResourceParamsError);
    expect(() => lineInFile({ path: '/etc/x', line: 'a\nb' })).toThrow(/line must be one line/);
  });
});
