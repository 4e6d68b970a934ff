/**
 * known_hosts as OpenSSH reads it: plain and hashed (`|1|salt|hash`) host fields, comma-separated patterns
 * with `*`, `?` and `!negation`, `[host]:port` for ports other than 22, and `@revoked` markers.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type HostField = { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'patterns'; patterns: string[] };

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: HostField;
  /** The type named inside the key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …). */
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'trusted'; entry: KnownHostEntry }
  | { kind: 'revoked'; entry: KnownHostEntry }
  /** Entries of the offered key's type exist for this host, and none holds the offered key. */
  | { kind: 'changed'; expected: KnownHostEntry[] }
  /** Keys are known for this host, but only of other types than the one offered. */
  | { kind: 'other-types'; known: KnownHostEntry[] }
  | { kind: 'unknown' };

/** The name a host's keys are filed under: `host` on port 22, `[host]:port` otherwise; lowercased, as ssh does. */
export function knownHostName(host: string, port: number): string {
  const lowered = host.toLowerCase();
  return port === 22 ? lowered : `[${lowered}]:${port}`;
}

/** The type string at the start of an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export function describeKey(key: Buffer): string {
  return `${keyTypeOf(key)} ${fingerprint(key)}`;
}

function parseHostField(field: string): HostField | undefined {
  if (field.startsWith('|1|')) {
    const [salt, hash] = field.slice(3).split('|');
    if (!salt || !hash) return undefined;
    return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  }
  return { kind: 'patterns', patterns: field.split(',').filter((pattern) => pattern.length > 0) };
}

/** Lines that cannot be parsed are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!;
      if (name !== '@revoked' && name !== '@cert-authority') return;
      marker = name === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [hostField, declaredType, base64] = fields;
    if (!hostField || !declaredType || !base64) return;
    const hosts = parseHostField(hostField);
    const key = Buffer.from(base64, 'base64');
    const keyType = keyTypeOf(key);
    if (!hosts || keyType !== declaredType) return;
    entries.push({ file, line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

interface ParsedFile {
  /** Device, inode, size and modification time: an append or a rewrite changes at least one. */
  identity: string;
  entries: KnownHostEntry[];
}

const parsedFiles = new Map<string, ParsedFile>();
const combined = new Map<string, { identities: string; entries: KnownHostEntry[] }>();

/**
 * Every connection consults known_hosts: a file is parsed again only when it changed, not once per host of a fleet,
 * and the same files give the same array back, so that its index by host name (see entriesNaming) is built once.
 */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const parsed = files.map((file) => {
    try {
      const stat = statSync(file, { bigint: true });
      const identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
      const cached = parsedFiles.get(file);
      if (cached?.identity === identity) return cached;
      const fresh = { identity, entries: parseKnownHosts(readFileSync(file, 'utf8'), file) };
      parsedFiles.set(file, fresh);
      return fresh;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { identity: 'missing', entries: [] };
      throw error;
    }
  });
  const key = files.join('\0');
  const identities = parsed.map((file) => file.identity).join('\0');
  const cached = combined.get(key);
  if (cached?.identities === identities) return cached.entries;
  const entries = parsed.flatMap((file) => file.entries);
  combined.set(key, { identities, entries });
  return entries;
}

interface NameIndex {
  /** Positions of the entries whose host field is a list of plain names, by each name lowercased. */
  byName: Map<string, number[]>;
  /** Positions of the entries that must be matched one by one: hashed, wildcards, negations. */
  others: number[];
}

const nameIndexes = new WeakMap<readonly KnownHostEntry[], NameIndex>();

function isPlainName(pattern: string): boolean {
  return !pattern.startsWith('!') && !pattern.includes('*') && !pattern.includes('?');
}

/** The entries that name `name`, in file order: found by the index, since a fleet looks up every one of its hosts. */
function entriesNaming(entries: readonly KnownHostEntry[], name: string): KnownHostEntry[] {
  let index = nameIndexes.get(entries);
  if (index === undefined) {
    index = { byName: new Map(), others: [] };
    for (const [position, { hosts }] of entries.entries()) {
      if (hosts.kind === 'patterns' && hosts.patterns.every(isPlainName)) {
        for (const pattern of new Set(hosts.patterns.map((p) => p.toLowerCase()))) {
          index.byName.set(pattern, [...(index.byName.get(pattern) ?? []), position]);
        }
      } else index.others.push(position);
    }
    nameIndexes.set(entries, index);
  }
  const positions = [
    ...(index.byName.get(name.toLowerCase()) ?? []),
    ...index.others.filter((position) => entryMatches(entries[position]!, name)),
  ];
  return positions.sort((a, b) => a - b).map((position) => entries[position]!);
}

/** ssh's match_pattern: `*` any run of characters, `?` exactly one, the rest literally. */
export function wildcardMatch(text: string, pattern: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return text === pattern;
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(text);
}

/** OpenSSH's match_hostname: a matching negated pattern excludes the host whatever else matches. */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  const { hosts } = entry;
  if (hosts.kind === 'hashed') {
    return createHmac('sha1', hosts.salt).update(name).digest().equals(hosts.hash);
  }
  const lowered = name.toLowerCase();
  let matched = false;
  for (const pattern of hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (wildcardMatch(lowered, (negated ? pattern.slice(1) : pattern).toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Judges the key a host offered. A revoked key is refused for every host, whatever its line names; ssh2 cannot
 * check host certificates, so `@cert-authority` lines are not used.
 */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const known = entriesNaming(entries, name).filter((entry) => entry.marker === undefined);
  const trusted = known.find((entry) => entry.key.equals(key));
  if (trusted) return { kind: 'trusted', entry: trusted };
  const type = keyTypeOf(key);
  const sameType = known.filter((entry) => entry.keyType === type);
  if (sameType.length > 0) return { kind: 'changed', expected: sameType };
  if (known.length > 0) return { kind: 'other-types', known };
  return { kind: 'unknown' };
}

const SIGNATURE_ALGORITHMS: Record<string, string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

/**
 * Host key algorithms to prefer for a host, like OpenSSH: those of the keys already on file, so a host that
 * has several keys is asked for the one we know.
 */
export function preferredHostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = new Set(
    entriesNaming(entries, name)
      .filter((entry) => entry.marker === undefined)
      .map((entry) => entry.keyType),
  );
  return [...types].flatMap((type) => SIGNATURE_ALGORITHMS[type] ?? [type]);
}

const appendQueues = new Map<string, Promise<void>>();

/**
 * Appends `name keytype base64` to a known_hosts file. Appends to one file are serialized within the process,
 * the file is read again first (so two connections to one host add one line), and each line goes out in a
 * single O_APPEND write.
 */
export function recordHostKey(file: string, name: string, key: Buffer): Promise<void> {
  const previous = appendQueues.get(file) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      let existing = '';
      try {
        existing = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      }
      if (verifyHostKey(parseKnownHosts(existing, file), name, key).kind === 'trusted') return;
      const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
      await appendFile(file, `${separator}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o644 });
    });
  appendQueues.set(file, next);
  return next;
}
