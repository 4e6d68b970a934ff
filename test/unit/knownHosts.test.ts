/**
 * known_hosts parsing and matching against files written by OpenSSH's own tools: `plain` was written by hand,
 * `hashed` is `ssh-keygen -H` of it, and `lookups.txt` records which lines `ssh-keygen -F NAME` found.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeKey,
  entryMatches,
  fingerprint,
  knownHostName,
  loadKnownHosts,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  recordHostKey,
  verifyHostKey,
} from '../../src/transport/ssh/knownHosts.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/known_hosts');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const entriesOf = (name: string) => parseKnownHosts(fixture(name), name);
const publicKey = (name: string): Buffer => Buffer.from(fixture(`${name}.pub`).split(' ')[1]!, 'base64');

const alpha = publicKey('alpha');
const beta = publicKey('beta');
const gamma = publicKey('gamma');
const delta = publicKey('delta');

describe('parseKnownHosts', () => {
  it('reads every valid line with its marker and key type, and skips comments, blanks and malformed lines', () => {
    const entries = entriesOf('plain');
    expect(entries.map((e) => [e.line, e.marker ?? '', e.keyType])).toEqual([
      [3, '', 'ssh-ed25519'],
      [4, '', 'ssh-ed25519'],
      [5, '', 'ssh-rsa'],
      [6, '', 'ecdsa-sha2-nistp256'],
      [7, 'revoked', 'ssh-ed25519'],
      [8, 'cert-authority', 'ssh-ed25519'],
      [9, '', 'ecdsa-sha2-nistp256'],
      [10, '', 'ssh-ed25519'],
    ]);
    expect(entries[0]!.hosts).toEqual({ kind: 'patterns', patterns: ['web1.example.org', '192.0.2.10'] });
    expect(entries[0]!.key.equals(alpha)).toBe(true);
  });

  it('reads hashed host fields', () => {
    const hashed = entriesOf('hashed').filter((e) => e.hosts.kind === 'hashed');
    expect(hashed.map((e) => e.line)).toEqual([3, 4, 5, 10, 11, 12]);
  });

  it('skips a line whose key blob does not match its declared type', () => {
    const line = `host.example.org ssh-rsa ${alpha.toString('base64')}`;
    expect(parseKnownHosts(line, 'x')).toEqual([]);
  });
});

describe('entryMatches agrees with ssh-keygen -F', () => {
  const lookups = fixture('lookups.txt')
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([file, name, ...lines]) => ({ file: file!, name: name!, lines: lines.map(Number) }))
    // ssh lowercases the host name before it looks it up; ssh-keygen -F does not, so mixed-case queries differ.
    .filter(({ name }) => name === name.toLowerCase());

  for (const { file, name, lines } of lookups) {
    it(`${file}: ${name} → lines ${lines.join(', ') || 'none'}`, () => {
      const matched = entriesOf(file)
        .filter((entry) => entryMatches(entry, name))
        .map((entry) => entry.line);
      expect(matched).toEqual(lines);
    });
  }
});

describe('knownHostName', () => {
  it('brackets the host with its port unless the port is 22, and lowercases it as ssh does', () => {
    expect(knownHostName('Web1.Example.ORG', 22)).toBe('web1.example.org');
    expect(knownHostName('192.0.2.10', 2222)).toBe('[192.0.2.10]:2222');
  });
});

describe('verifyHostKey', () => {
  const plain = entriesOf('plain');
  const hashed = entriesOf('hashed');

  it('trusts the key on file, in plain and hashed form', () => {
    for (const entries of [plain, hashed]) {
      expect(verifyHostKey(entries, 'web1.example.org', alpha)).toMatchObject({ kind: 'trusted', entry: { line: 3 } });
      expect(verifyHostKey(entries, 'a.lab.example.org', gamma).kind).toBe('trusted');
      expect(verifyHostKey(entries, '[web2.example.org]:2200', delta).kind).toBe('trusted');
    }
  });

  it('does not use a port-22 entry for another port, nor the other way round', () => {
    expect(verifyHostKey(plain, '[web1.example.org]:2222', alpha).kind).toBe('unknown');
    expect(verifyHostKey(plain, '192.0.2.10', beta).kind).toBe('revoked');
    expect(verifyHostKey(plain, '[192.0.2.10]:2200', alpha).kind).toBe('unknown');
  });

  it('reports a changed key of the same type with the expected entries', () => {
    const otherEcdsa = Buffer.from(delta);
    otherEcdsa.writeUInt8(otherEcdsa.readUInt8(otherEcdsa.length - 1) ^ 1, otherEcdsa.length - 1);
    expect(verifyHostKey(plain, 'db1.example.org', otherEcdsa)).toMatchObject({ kind: 'changed', expected: [{ line: 6 }] });
  });

  it('tells apart a host known only by keys of other types', () => {
    expect(verifyHostKey(plain, 'db1.example.org', alpha)).toMatchObject({ kind: 'other-types', known: [{ line: 6 }] });
  });

  it('refuses a revoked key for every host, and excludes a negated pattern', () => {
    expect(verifyHostKey(plain, 'anything.example.org', beta).kind).toBe('revoked');
    expect(verifyHostKey(plain, 'evil.lab.example.org', gamma).kind).toBe('unknown');
  });

  it('finds any host of a fleet-sized file, with wildcard lines, in file order', () => {
    const lines = [
      `*.fleet.example.org ssh-ed25519 ${beta.toString('base64')}`,
      ...Array.from(
        { length: 5000 },
        (_, index) => `h${index}.fleet.example.org,10.0.${index >> 8}.${index & 255} ssh-ed25519 ${alpha.toString('base64')}`,
      ),
      `H4999.FLEET.example.org ssh-rsa ${gamma.toString('base64')}`,
    ];
    const entries = parseKnownHosts(`${lines.join('\n')}\n`, 'fleet');
    expect(verifyHostKey(entries, 'h4999.fleet.example.org', alpha)).toMatchObject({ kind: 'trusted', entry: { line: 5001 } });
    expect(verifyHostKey(entries, '10.0.19.135', alpha)).toMatchObject({ kind: 'trusted', entry: { line: 5001 } });
    expect(verifyHostKey(entries, 'h4999.fleet.example.org', beta)).toMatchObject({ kind: 'trusted', entry: { line: 1 } });
    expect(verifyHostKey(entries, 'h4999.fleet.example.org', gamma)).toMatchObject({ kind: 'trusted', entry: { line: 5002 } });
    const other = verifyHostKey(entries, 'h4999.fleet.example.org', delta);
    expect(other.kind === 'other-types' && other.known.map((entry) => entry.line)).toEqual([1, 5001, 5002]);
    const changed = Buffer.from(alpha);
    changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
    const verdict = verifyHostKey(entries, 'h4999.fleet.example.org', changed);
    expect(verdict.kind === 'changed' && verdict.expected.map((entry) => entry.line)).toEqual([1, 5001]);
  });

  it('does not trust keys from @cert-authority lines', () => {
    expect(verifyHostKey(plain, 'x.ca.example.org', alpha).kind).toBe('unknown');
  });
});

describe('fingerprint', () => {
  it('matches ssh-keygen -l', () => {
    const printed = new Map(
      fixture('fingerprints.txt')
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .map(([, print, comment]) => [comment!, print!]),
    );
    for (const [name, key] of Object.entries({ alpha, beta, gamma, delta })) expect(fingerprint(key)).toBe(printed.get(name));
    expect(describeKey(gamma)).toBe(`ssh-rsa ${printed.get('gamma')}`);
  });
});

describe('preferredHostKeyAlgorithms', () => {
  it('lists the algorithms of the key types on file for the host', () => {
    expect(preferredHostKeyAlgorithms(entriesOf('plain'), 'web1.example.org')).toEqual(['ssh-ed25519']);
    expect(preferredHostKeyAlgorithms(entriesOf('plain'), 'a.lab.example.org')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms(entriesOf('plain'), 'unknown.example.org')).toEqual([]);
  });
});

describe('recordHostKey', () => {
  it('appends one line per new host even when many are recorded at once, and ssh-keygen can read the result', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-known-hosts-'));
    const file = join(directory, 'sub/known_hosts');
    const names = Array.from({ length: 40 }, (_, index) => knownHostName(`10.0.0.${index}`, index % 2 === 0 ? 22 : 2222));
    await Promise.all([...names, ...names].map((name) => recordHostKey(file, name, name.startsWith('[') ? alpha : delta)));
    const entries = loadKnownHosts([file]);
    expect(entries).toHaveLength(40);
    for (const name of names) expect(verifyHostKey(entries, name, name.startsWith('[') ? alpha : delta).kind).toBe('trusted');
    expect(execFileSync('ssh-keygen', ['-F', '[10.0.0.1]:2222', '-f', file], { encoding: 'utf8' })).toContain(alpha.toString('base64'));
  });

  it('starts a new line when the file does not end with one', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-known-hosts-'));
    const file = join(directory, 'known_hosts');
    writeFileSync(file, `web1.example.org ssh-ed25519 ${alpha.toString('base64')}`);
    await recordHostKey(file, 'web2.example.org', beta);
    expect(loadKnownHosts([file]).map((e) => e.line)).toEqual([1, 2]);
  });

  it('ignores a known_hosts file that does not exist', () => {
    expect(loadKnownHosts([join(tmpdir(), 'keel-no-such-dir/known_hosts')])).toEqual([]);
  });

  it('sees a key recorded after the file was last loaded', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keel-known-hosts-')), 'known_hosts');
    writeFileSync(file, `web1.example.org ssh-ed25519 ${alpha.toString('base64')}\n`);
    expect(verifyHostKey(loadKnownHosts([file]), 'web2.example.org', beta).kind).toBe('unknown');
    await recordHostKey(file, 'web2.example.org', beta);
    expect(verifyHostKey(loadKnownHosts([file]), 'web2.example.org', beta).kind).toBe('trusted');
  });
});
