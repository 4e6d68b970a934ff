import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aptRepository, parseAptRepositoryRead, sourceText } from '../../src/resources/aptRepository.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

const KEY = readFileSync(new URL('../fixtures/aptRepository/fixture-key.asc', import.meta.url), 'utf8');
const LAB = { name: 'keel-fixture', uris: ['http://keel-apt:8080'], suites: ['./'], key: KEY };

describe('aptRepository: parsing the read output', () => {
  it('reads the source and its key, or their absence', () => {
    expect(parseAptRepositoryRead(fixture('aptRepository', 'present'))).toEqual({
      source: 'Types: deb\nURIs: http://keel-apt:8080\nSuites: ./\nSigned-By: /etc/apt/keyrings/keel-fixture.asc\n',
      key: KEY,
    });
    expect(parseAptRepositoryRead(fixture('aptRepository', 'absent'))).toEqual({ source: null, key: null });
  });

  it('refuses output it does not understand', () => {
    expect(() => parseAptRepositoryRead('--source--\nabsent\n')).toThrow(/unexpected output/);
  });
});

describe('aptRepository: source files', () => {
  it('writes deb822 with Components and Architectures when given', () => {
    expect(
      sourceText({
        ...LAB,
        name: 'debian',
        uris: ['https://deb.debian.org/debian'],
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main'],
        architectures: ['amd64'],
      }),
    ).toBe(
      'Types: deb\nURIs: https://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/debian.asc\n',
    );
  });

  it('writes one line per URI and suite in the .list format', () => {
    expect(sourceText({ ...LAB, suites: ['a', 'b'], components: ['main'], format: 'oneLine' })).toBe(
      'deb [signed-by=/etc/apt/keyrings/keel-fixture.asc] http://keel-apt:8080 a main\ndeb [signed-by=/etc/apt/keyrings/keel-fixture.asc] http://keel-apt:8080 b main\n',
    );
  });
});

describe('aptRepository: diff and apply', () => {
  it('is in sync with the captured host', () => {
    expect(planChange(aptRepository(LAB), parseAptRepositoryRead(fixture('aptRepository', 'present'))).changes).toEqual([]);
  });

  it('writes key and source, then updates this source alone', () => {
    const { changes, steps } = planChange(aptRepository(LAB), parseAptRepositoryRead(fixture('aptRepository', 'absent')));
    expect(changes.map((change) => change.field)).toEqual(['source', 'key']);
    expect(steps[0]).toBe('[ -d /etc/apt/keyrings ] || mkdir -p -- /etc/apt/keyrings');
    expect(steps[3]).toBe(
      'apt-get update -q --error-on=any -o DPkg::Lock::Timeout=60 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/keel-fixture.sources -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 || { status=$?; rm -f -- /etc/apt/sources.list.d/keel-fixture.sources; exit $status; }',
    );
  });

  it('shows a changed suite as a unified diff', () => {
    const { changes } = planChange(
      aptRepository({ ...LAB, suites: ['stable'], components: ['main'] }),
      parseAptRepositoryRead(fixture('aptRepository', 'present')),
    );
    expect(changes[0]!.patch).toContain('-Suites: ./\n+Suites: stable\n+Components: main');
  });

  it('removes both files with state absent', () => {
    expect(
      planChange(aptRepository({ name: 'keel-fixture', state: 'absent' }), parseAptRepositoryRead(fixture('aptRepository', 'present')))
        .steps,
    ).toEqual(['rm -f -- /etc/apt/sources.list.d/keel-fixture.sources /etc/apt/keyrings/keel-fixture.asc']);
  });
});

describe('aptRepository: refused before any host is contacted', () => {
  it('refuses a key given as a URL, naming the recipe line', () => {
    expect(() => aptRepository({ ...LAB, key: 'https://example.org/key.asc' })).toThrow(
      /^test\/unit\/aptRepository\.test\.ts:\d+: invalid aptRepository parameters: key is a URL; give the armored key itself/,
    );
  });

  it('refuses a key that is not armored, and a missing uri, suite or key', () => {
    expect(() => aptRepository({ ...LAB, key: 'mDMEaxAcpBYJKwYBBAHaRw8BAQdA' })).toThrow(/key must be an ASCII-armored public key/);
    expect(() => aptRepository({ name: 'x' })).toThrow(/uris is required unless state is "absent"; suites is required .*; key is required/);
  });
});
