import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { netnsPath } from './netns.js';
import type { HostLaunch, HostProcesses } from './nspawn.js';
import { launchDetached, signal, waitForExit, waitForNamespaceInit } from './system.js';

/**
 * Runs as pid 1 of the light host's fresh mount/pid/uts/ipc namespaces: mounts the host's fstab
 * (one process for nearly every mount), pivots into the overlay and drops the machine's mounts
 * (a copy of them would pin other labs' namespaces and overlays), then becomes sshd. The image's
 * /dev already holds the basic device nodes. Every mount is private to the host, so the kernel
 * drops them all when its last process dies.
 */
const LIGHT_INIT = `set -e
mount --all --fstab "$1"
mount -o remount,bind,rw "$2/proc/sys/net"
cd "$2"
pivot_root . mnt
umount --lazy /mnt
mkdir -m 755 /run/sshd
hostname "$3"
exec /usr/sbin/sshd -D -e
`;

function lightFstab(launch: HostLaunch): string {
  const { merged, upper, work } = launch.dirs;
  return [
    `overlay ${merged} overlay lowerdir=${launch.lower},upperdir=${upper},workdir=${work} 0 0`,
    `proc ${merged}/proc proc defaults 0 0`,
    // Like nspawn: this host runs as the machine's root, so only its own namespace's net.* sysctls may be writable.
    `${merged}/proc/sys ${merged}/proc/sys none bind,ro 0 0`,
    `${merged}/proc/sys/net ${merged}/proc/sys/net none bind 0 0`,
    `sysfs ${merged}/sys sysfs ro 0 0`,
    `devpts ${merged}/dev/pts devpts newinstance,ptmxmode=0666,mode=620,gid=5 0 0`,
    `tmpfs ${merged}/dev/shm tmpfs mode=1777 0 0`,
    `tmpfs ${merged}/run tmpfs mode=755 0 0`,
    '',
  ].join('\n');
}

/** A host that is only sshd (no systemd) in its own namespaces: cheap enough for fleets of hundreds. */
export async function startLightHost(launch: HostLaunch): Promise<HostProcesses> {
  const { dirs } = launch;
  const fstab = join(dirs.dir, 'fstab');
  await writeFile(fstab, lightFstab(launch));
  const supervisor = launchDetached(
    'nsenter',
    [
      `--net=${netnsPath(launch.netns)}`,
      'unshare',
      '--mount',
      '--uts',
      '--ipc',
      '--pid',
      '--fork',
      '--propagation',
      'private',
      'sh',
      '-c',
      LIGHT_INIT,
      launch.machine,
      fstab,
      dirs.merged,
      launch.hostname,
    ],
    dirs.consoleLog,
  );
  try {
    return { supervisor, leader: await waitForNamespaceInit(supervisor, 10_000) };
  } catch (error) {
    signal(supervisor, 'SIGKILL');
    throw new Error(`light host ${launch.machine} did not start, see ${dirs.consoleLog}`, { cause: error });
  }
}

/** SIGKILL to pid 1 of the host's pid namespace takes every process of the host with it; SIGTERM does not stop `unshare --fork`. */
export async function stopLightHost(processes: HostProcesses): Promise<void> {
  signal(processes.leader, 'SIGKILL');
  signal(processes.supervisor, 'SIGKILL');
  await waitForExit([processes.supervisor, processes.leader], 10_000);
}
