/** directory's parser, on its read command's output captured over SSH from a lab host by test/fixtures/directory/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource } from '../../src/engine/resource.js';
import { directory, parseDirectoryRead } from '../../src/resources/directory.js';
import { fixture } from '../support/fixtures.js';

const read = (name: string) => parseDirectoryRead(fixture('directory', name));

describe('directory', () => {
  it('reads owner, group, mode, emptiness and, when recursive, the entries beneath that differ', () => {
    expect(read('recursive-differs')).toEqual({
      type: 'directory',
      owner: 'www-data',
      uid: 33,
      group: 'www-data',
      gid: 33,
      mode: '0755',
      empty: false,
      differingBeneath: 2,
    });
    expect(read('empty-unknown-owner')).toMatchObject({ owner: '4242', group: '4343', mode: '2770', empty: true, differingBeneath: null });
    expect(['symlink', 'file', 'absent'].map((name) => read(name).type)).toEqual(['symlink', 'other', 'absent']);
  });

  it('fixes what is beneath with chown -R and chmod -R only when recursive is asked', () => {
    const www = directory({ path: '/srv/www', owner: 'www-data', group: 'www-data', mode: '0755', recursive: true });
    const changes = diffResource(www, read('recursive-differs'));
    expect(changes).toEqual([{ field: 'differingBeneath', from: 2, to: 0 }]);
    expect(www.definition.apply(www.params, read('recursive-differs'), changes).map(String)).toEqual([
      'chown -R -- www-data:www-data /srv/www',
      'chmod -R -- 00755 /srv/www',
    ]);
    const top = directory({ path: '/srv/www', owner: 'root', mode: '0750' });
    const topChanges = diffResource(top, read('recursive-differs'));
    expect(topChanges.map((change) => change.field)).toEqual(['owner', 'mode']);
    expect(top.definition.apply(top.params, read('recursive-differs'), topChanges).map(String)).toEqual([
      'chown -- root /srv/www',
      'chmod -- 00750 /srv/www',
    ]);
  });

  it('takes an owner given by id as the same owner', () => {
    expect(diffResource(directory({ path: '/srv/drop', owner: '4242', group: '4343', mode: '2770' }), read('empty-unknown-owner'))).toEqual(
      [],
    );
  });

  it('creates a missing directory with its parents, and refuses a link or a file in its place', () => {
    const deeper = directory({ path: '/srv/none/deeper', mode: '0700' });
    const changes = diffResource(deeper, read('absent'));
    expect(deeper.definition.apply(deeper.params, read('absent'), changes).map(String)).toEqual([
      'mkdir -p -- /srv/none/deeper',
      'chmod -- 00700 /srv/none/deeper',
    ]);
    expect(() => diffResource(directory({ path: '/srv/link' }), read('symlink'))).toThrow(
      '/srv/link is a symlink; keel will not replace it',
    );
    expect(() => diffResource(directory({ path: '/srv/plain' }), read('file'))).toThrow(
      '/srv/plain is not a directory; keel will not replace it',
    );
  });

  it('removes only an empty directory', () => {
    expect(() => diffResource(directory({ path: '/srv/www', state: 'absent' }), read('recursive-differs'))).toThrow(
      '/srv/www is not empty; keel removes only empty directories',
    );
    expect(diffResource(directory({ path: '/srv/drop', state: 'absent' }), read('empty-unknown-owner'))).toEqual([
      { field: 'type', from: 'directory', to: 'absent' },
    ]);
  });
});
