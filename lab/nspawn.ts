import { $ } from 'zx';
import type { HostDirs } from './hostRoot.js';
import { netnsPath } from './netns.js';
import { launchDetached, type ProcessRef, signal, unmountUnder, waitForExit, waitForNamespaceInit } from './system.js';

/** Re-exported for the VM host kind, which imports it from here. */
export { launchDetached };

/** The processes behind a running host: the one this side started, and the host's own pid 1. */
export interface HostProcesses {
  supervisor: ProcessRef;
  leader: ProcessRef;
}

export interface HostLaunch {
  machine: string;
  hostname: string;
  lower: string;
  dirs: HostDirs;
  netns: string;
}

export async function mountOverlay(lower: string, dirs: HostDirs): Promise<void> {
  await $`mount -t overlay overlay -o ${`lowerdir=${lower},upperdir=${dirs.upper},workdir=${dirs.work}`} ${dirs.merged}`;
}

/**
 * Boots the overlay root with systemd as pid 1 in the host's network namespace. nspawn joins the
 * namespace itself (running it under `ip netns exec` breaks its /sys handling); the network API
 * filesystems stay writable so that sysctls such as arp_ignore can be set inside.
 */
export async function startNspawnHost(launch: HostLaunch): Promise<HostProcesses> {
  await mountOverlay(launch.lower, launch.dirs);
  const supervisor = launchDetached(
    'systemd-nspawn',
    [
      '--quiet',
      '--boot',
      `--directory=${launch.dirs.merged}`,
      `--machine=${launch.machine}`,
      `--hostname=${launch.hostname}`,
      '--register=no',
      '--keep-unit',
      `--network-namespace-path=${netnsPath(launch.netns)}`,
      '--capability=CAP_NET_ADMIN',
      '--resolv-conf=off',
      '--timezone=off',
      '--link-journal=no',
      '--console=read-only',
    ],
    launch.dirs.consoleLog,
    // The lab owns each overlay exclusively; nspawn's image lock would only leave lock files behind after a kill.
    { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network', SYSTEMD_NSPAWN_LOCK: '0' },
  );
  try {
    return { supervisor, leader: await waitForNamespaceInit(supervisor, 30_000) };
  } catch (error) {
    signal(supervisor, 'SIGKILL');
    throw new Error(`systemd-nspawn did not boot ${launch.machine}, see ${launch.dirs.consoleLog}`, { cause: error });
  }
}

/** Asks systemd inside to power off (nspawn turns SIGTERM into that), and kills the container if it takes too long. */
export async function stopNspawnHost(processes: HostProcesses, dirs: HostDirs): Promise<void> {
  const all = [processes.supervisor, processes.leader];
  signal(processes.supervisor, 'SIGTERM');
  if (!(await waitForExit(all, 15_000))) {
    signal(processes.leader, 'SIGKILL');
    signal(processes.supervisor, 'SIGKILL');
    await waitForExit(all, 5_000);
  }
  await unmountUnder(dirs.merged);
}
