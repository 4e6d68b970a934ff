// Which known_hosts files a connection trusts and records to, and what keel says when it refuses a host key.
import { join } from 'node:path';
import { quote } from '../../shell/index.js';
import type { SshTarget } from '../types.js';
import { expandHome, userSshDirectory } from './config.js';
import type { Endpoint } from './endpoint.js';
import { describeKey, fingerprint, type HostKeyVerdict } from './knownHosts.js';

const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

export interface KnownHostsPolicy {
  files: string[];
  /** Where --accept-new records keys. */
  recordTo: string;
  acceptNew: boolean;
}

/** ~/.ssh/known_hosts and the system file, plus the inventory's and the command line's; new keys go to the last named. */
export function knownHostsPolicy(target: SshTarget): KnownHostsPolicy {
  const userFile = join(userSshDirectory(), 'known_hosts');
  const named = target.knownHostsFiles.map(expandHome);
  return {
    files: [...new Set([userFile, GLOBAL_KNOWN_HOSTS, ...named])],
    recordTo: named.at(-1) ?? userFile,
    acceptNew: target.acceptNew,
  };
}

export function hostKeyRefusal(
  verdict: Exclude<HostKeyVerdict, { kind: 'trusted' }>,
  name: string,
  key: Buffer,
  policy: KnownHostsPolicy,
  endpoint: Endpoint,
): string {
  const offered = describeKey(key);
  const at = (entry: { file: string; line: number }): string => `${entry.file}:${entry.line}`;
  const removal = `ssh-keygen -R ${quote(name)} -f ${quote(policy.recordTo)}`;
  switch (verdict.kind) {
    case 'revoked':
      return `host key for ${name} is REVOKED (${offered}, @revoked at ${at(verdict.entry)}); refusing to connect`;
    case 'changed': {
      const expected = verdict.expected.map((e) => `${e.keyType} ${fingerprint(e.key)} (${at(e)})`).join(', ');
      const advice = `possible man-in-the-middle; if the host was reinstalled, remove the old key with ${removal}`;
      return `host key for ${name} has CHANGED: expected ${expected}, offered ${offered}; refusing to connect (${advice})`;
    }
    case 'other-types':
      return `host key for ${name} is known only as ${verdict.known.map((e) => `${e.keyType} ${fingerprint(e.key)} (${at(e)})`).join(', ')}, but the host offered ${offered}; refusing to connect`;
    case 'unknown': {
      const scan = `ssh-keyscan${endpoint.port === 22 ? '' : ` -p ${endpoint.port}`} ${quote(endpoint.hostName)} >> ${quote(policy.recordTo)}`;
      return `host key for ${name} is not known; run with --accept-new to trust it (${offered}), or add it with ${scan}`;
    }
  }
}
