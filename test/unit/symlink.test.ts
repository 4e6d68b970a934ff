/** symlink's parser, on its read command's output captured over SSH from a lab host by test/fixtures/symlink/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource } from '../../src/engine/resource.js';
import { parseSymlinkRead, symlink } from '../../src/resources/symlink.js';
import { fixture } from '../support/fixtures.js';

const read = (name: string) => parseSymlinkRead(fixture('symlink', name));

describe('symlink', () => {
  it('reads a link target as written, relative or ending in a space', () => {
    expect(read('link')).toEqual({ type: 'symlink', target: 'releases/2', parentExists: true });
    expect(read('dangling-with-spaces')).toEqual({ type: 'symlink', target: '/nowhere/a target ', parentExists: true });
  });

  it('names what else stands at the path', () => {
    expect(['file', 'directory', 'fifo', 'absent'].map((name) => read(name).type)).toEqual(['file', 'directory', 'other', 'absent']);
    expect(read('absent-parent')).toEqual({ type: 'absent', target: null, parentExists: false });
  });

  it('diffs a link pointing elsewhere as its target only, replaced with ln -sfn', () => {
    const current = symlink({ path: '/srv/app/current', target: 'releases/3' });
    const changes = diffResource(current, read('link'));
    expect(changes).toEqual([{ field: 'target', from: 'releases/2', to: 'releases/3' }]);
    expect(current.definition.apply(current.params, read('link'), changes).map(String)).toEqual(['ln -sfn -- releases/3 /srv/app/current']);
  });

  it('refuses to replace a file or a directory unless forced, and then removes a directory first', () => {
    const link = symlink({ path: '/srv/app/releases', target: '/opt/releases' });
    expect(() => diffResource(link, read('directory'))).toThrow(
      '/srv/app/releases is a directory; keel will not replace it with a link unless force is set',
    );
    expect(() => diffResource(link, read('file'))).toThrow(/is a file; keel will not replace it/);
    const forced = symlink({ path: '/srv/app/releases', target: '/opt/releases', force: true });
    const changes = diffResource(forced, read('directory'));
    expect(changes.map((change) => change.field)).toEqual(['type', 'target']);
    expect(forced.definition.apply(forced.params, read('directory'), changes).map(String)).toEqual([
      'rm -rf -- /srv/app/releases',
      'ln -sfn -- /opt/releases /srv/app/releases',
    ]);
  });

  it('removes only a link when absent', () => {
    const gone = symlink({ path: '/srv/app/plain', target: 'x', state: 'absent' });
    expect(() => diffResource(gone, read('file'))).toThrow(/not a link; keel removes only links/);
    expect(diffResource(gone, read('absent'))).toEqual([]);
    expect(diffResource(gone, read('link'))).toEqual([{ field: 'type', from: 'symlink', to: 'absent' }]);
  });
});
