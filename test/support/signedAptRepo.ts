/** A flat apt repository of one probe package, signed with a key generated for the test, as a real vendor's would be. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function run(work: string, file: string, args: string[], cwd = work): string {
  return execFileSync(file, args, {
    cwd,
    env: { ...process.env, GNUPGHOME: join(work, 'gnupg') },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

/** A fresh ed25519 signing key for `email` in the keyring under `work`; returns its armored public key. */
export function generateKey(work: string, email: string): string {
  mkdirSync(join(work, 'gnupg'), { recursive: true, mode: 0o700 });
  run(work, 'gpg', ['--batch', '--passphrase', '', '--quick-gen-key', `keel test repository <${email}>`, 'ed25519', 'sign', '1d']);
  return run(work, 'gpg', ['--armor', '--export', email]);
}

/** Builds `work/repo`: one package `name` 1.0-1, its Release signed into InRelease with a fresh key. */
export function buildSignedRepository(work: string, name: string): { dir: string; key: string } {
  const key = generateKey(work, 'keel@localhost');
  const root = join(work, 'root');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `Package: ${name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: keel tests <keel@localhost>\nDescription: a package from a signed repository\n`,
  );
  const dir = join(work, 'repo');
  mkdirSync(dir);
  run(work, 'dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, join(dir, `${name}_1.0-1_all.deb`)]);
  writeFileSync(join(dir, 'Packages'), run(work, 'dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], dir));
  writeFileSync(join(dir, 'Release'), run(work, 'apt-ftparchive', ['release', '.'], dir));
  run(work, 'gpg', ['--batch', '--yes', '--local-user', 'keel@localhost', '--clearsign', '--output', 'InRelease', 'Release'], dir);
  return { dir, key };
}
