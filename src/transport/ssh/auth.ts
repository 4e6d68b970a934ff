// The authentication methods offered to a server: key files (named, or the default ones), ssh-agent, password.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware } from 'ssh2';
import { userSshDirectory } from './config.js';
import type { Endpoint } from './endpoint.js';
import { ssh2 } from './ssh2Module.js';

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_rsa', 'id_ecdsa'];

/** The authentication methods to offer, in order, and what was actually tried (for the failure message). */
interface AuthPlan {
  handler: AuthHandlerMiddleware;
  summary(): string;
}

export function authPlan(endpoint: Endpoint): AuthPlan {
  const username = endpoint.user;
  const methods: { type: 'publickey' | 'password'; label: string; method: AnyAuthMethod }[] = [];
  const skipped: string[] = [];
  const explicit = endpoint.identityFiles.length > 0;
  const files = explicit
    ? endpoint.identityFiles
    : DEFAULT_IDENTITIES.map((name) => join(userSshDirectory(), name)).filter((file) => existsSync(file));
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (error) {
      skipped.push(`${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    const parsed = ssh2().utils.parseKey(data, endpoint.passphrase?.reveal());
    if (parsed instanceof Error) {
      const encrypted = /no passphrase/i.test(parsed.message);
      skipped.push(
        `${file} (${encrypted ? 'encrypted, and no passphrase was given' : endpoint.passphrase ? 'cannot decrypt it with the given passphrase' : parsed.message})`,
      );
      continue;
    }
    methods.push({ type: 'publickey', label: `publickey with ${file}`, method: { type: 'publickey', username, key: parsed } });
  }
  const agent = process.env['SSH_AUTH_SOCK'];
  if (agent) methods.push({ type: 'publickey', label: `ssh-agent keys (${agent})`, method: { type: 'agent', username, agent } });
  if (endpoint.password)
    methods.push({ type: 'password', label: 'password', method: { type: 'password', username, password: endpoint.password.reveal() } });

  const tried: string[] = [];
  let next = 0;
  return {
    handler(methodsLeft, _partialSuccess, callback) {
      while (next < methods.length) {
        const candidate = methods[next]!;
        next += 1;
        if (methodsLeft && !methodsLeft.includes(candidate.type)) continue;
        tried.push(candidate.label);
        callback(candidate.method);
        return;
      }
      // ssh2 takes `false` for "no more methods"; its type definitions leave that out.
      callback(false as unknown as AnyAuthMethod);
    },
    summary() {
      const parts = [
        tried.length > 0 ? `tried ${tried.join(', ')}` : 'nothing to offer: no key file, no ssh-agent, no password',
        ...(skipped.length > 0 ? [`skipped ${skipped.join(', ')}`] : []),
      ];
      return parts.join('; ');
    },
  };
}
