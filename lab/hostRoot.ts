import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { $ } from 'zx';
import { APT_REPO_HOSTNAME } from './image.js';

/** Per-host overlay directories: the image is the lower layer, `upper` holds everything the host writes. */
export interface HostDirs {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  consoleLog: string;
}

export function hostDirs(dir: string): HostDirs {
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    consoleLog: join(dir, 'console.log'),
  };
}

export interface HostIdentity {
  name: string;
  gateway: string;
  authorizedKey: string;
}

const HOST_KEY = 'etc/ssh/ssh_host_ed25519_key';

/**
 * Writes the host's own files straight into its upper layer, before anything is mounted:
 * hostname, hosts (which resolves the lab apt repository), ssh host key and the lab's client key.
 * A host key that already exists is kept, so a restarted host keeps its identity.
 * Returns the host public key as `ssh-ed25519 AAAA…`.
 */
export async function prepareHostRoot(lower: string, dirs: HostDirs, identity: HostIdentity): Promise<string> {
  await mkdir(dirs.upper, { recursive: true });
  await mkdir(dirs.work, { recursive: true });
  await mkdir(dirs.merged, { recursive: true });
  const write = async (path: string, content: string, mode: number) => {
    await mirrorDirectories(lower, dirs.upper, dirname(path));
    await writeFile(join(dirs.upper, path), content, { mode });
    await chmod(join(dirs.upper, path), mode);
  };
  await write('etc/hostname', `${identity.name}\n`, 0o644);
  await write(
    'etc/hosts',
    `127.0.0.1\tlocalhost\n127.0.1.1\t${identity.name}\n${identity.gateway}\t${APT_REPO_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    0o644,
  );
  await write('root/.ssh/authorized_keys', `${identity.authorizedKey.trim()}\n`, 0o600);

  const hostKey = join(dirs.upper, HOST_KEY);
  if (!existsSync(hostKey)) {
    await mirrorDirectories(lower, dirs.upper, dirname(HOST_KEY));
    await $`ssh-keygen -q -t ed25519 -N ${''} -C ${`root@${identity.name}`} -f ${hostKey}`;
  }
  const [type, key] = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/);
  return `${type} ${key}`;
}

/** Creates `relative` and its parents in `upper` with the owner and mode they have in `lower` (sshd checks /root's mode). */
async function mirrorDirectories(lower: string, upper: string, relative: string): Promise<void> {
  let path = '';
  for (const part of relative.split('/').filter(Boolean)) {
    path = join(path, part);
    const target = join(upper, path);
    if (existsSync(target)) continue;
    const source = await stat(join(lower, path));
    await mkdir(target);
    await chown(target, source.uid, source.gid);
    await chmod(target, source.mode & 0o7777);
  }
}
