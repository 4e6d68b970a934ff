import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx';
import { buildOnce, cacheRoot, shortHash } from './cache.js';

/** Bump whenever the image configuration below changes, so cached images are rebuilt. */
export const IMAGE_RECIPE_VERSION = 1;

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** Hosts resolve this name (via their /etc/hosts) to the lab's gateway, which serves the lab apt repository. */
export const APT_REPO_HOSTNAME = 'keel-apt';
export const APT_REPO_PORT = 8080;

export interface ImageSpec {
  suite: string;
  mirror: string;
  packages: string[];
}

export const DEFAULT_IMAGE: ImageSpec = {
  suite: 'bookworm',
  mirror: DEBIAN_MIRROR,
  packages: [
    'systemd',
    'systemd-sysv',
    'dbus',
    'openssh-server',
    'iproute2',
    'procps',
    'sudo',
    'python3',
    'ca-certificates',
    'curl',
    'iputils-ping',
    'arping',
    'netcat-openbsd',
    'kmod',
    'less',
  ],
};

/** Units that only make sense on a machine with consoles, disks or a real clock. */
const MASKED_UNITS = [
  'console-getty.service',
  'getty@.service',
  'serial-getty@.service',
  'getty-static.service',
  'getty.target',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'fstrim.timer',
  'systemd-timesyncd.service',
];

const SSHD_CONFIG = `# keel lab host: key-only root login
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
`;

const APT_CONFIG = `APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
`;

export function imageKey(spec: ImageSpec): string {
  return shortHash({
    recipe: IMAGE_RECIPE_VERSION,
    suite: spec.suite,
    mirror: spec.mirror,
    packages: [...spec.packages].sort(),
  });
}

export function imageDir(spec: ImageSpec = DEFAULT_IMAGE): string {
  return join(cacheRoot(), 'images', imageKey(spec));
}

/** Callers in one process (the lab's containers and its guests) share one build, and one line about it. */
const imagesInProgress = new Map<string, Promise<string>>();

/** Returns the rootfs of the image, building and caching it first if needed. */
export function ensureImage(spec: ImageSpec = DEFAULT_IMAGE, log: (line: string) => void = () => {}): Promise<string> {
  const dir = imageDir(spec);
  let image = imagesInProgress.get(dir);
  if (image === undefined) {
    image = buildImage(spec, dir, log).finally(() => imagesInProgress.delete(dir));
    imagesInProgress.set(dir, image);
  }
  return image;
}

async function buildImage(spec: ImageSpec, dir: string, log: (line: string) => void): Promise<string> {
  if (!existsSync(dir)) log(`building ${spec.suite} image ${imageKey(spec)} with debootstrap (a few minutes)`);
  await buildOnce(dir, async (scratch) => {
    const rootfs = join(scratch, 'rootfs');
    const debs = join(cacheRoot(), 'debootstrap-debs');
    await mkdir(debs, { recursive: true });
    await $`debootstrap --variant=minbase --components=main --cache-dir=${debs} --include=${spec.packages.join(',')} ${spec.suite} ${rootfs} ${spec.mirror}`.quiet();
    await configureImage(rootfs);
    await writeFile(join(scratch, 'spec.json'), `${JSON.stringify({ ...spec, recipe: IMAGE_RECIPE_VERSION }, null, 2)}\n`);
  });
  return join(dir, 'rootfs');
}

async function configureImage(rootfs: string): Promise<void> {
  const at = (path: string) => join(rootfs, path);

  for (const key of await readdir(at('etc/ssh'))) {
    if (key.startsWith('ssh_host_')) await rm(at(`etc/ssh/${key}`));
  }
  await writeFile(at('etc/ssh/sshd_config.d/keel.conf'), SSHD_CONFIG);
  await mkdir(at('root/.ssh'), { recursive: true, mode: 0o700 });

  // nspawn hands the container a machine id when this file is empty.
  await writeFile(at('etc/machine-id'), '');
  await rm(at('var/lib/dbus/machine-id'), { force: true });
  await symlink('/etc/machine-id', at('var/lib/dbus/machine-id'));

  await rm(at('etc/hostname'), { force: true });
  await writeFile(at('etc/resolv.conf'), '');

  await writeFile(at('etc/apt/sources.list'), `deb [trusted=yes] http://${APT_REPO_HOSTNAME}:${APT_REPO_PORT}/ ./\n`);
  await rm(at('etc/apt/sources.list.d'), { recursive: true, force: true });
  await mkdir(at('etc/apt/sources.list.d'));
  await writeFile(at('etc/apt/apt.conf.d/90keel'), APT_CONFIG);
  await rm(at('var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(at('var/lib/apt/lists/partial'), { recursive: true });
  await $`find ${at('var/cache/apt')} -name *.deb -delete`;

  for (const unit of MASKED_UNITS) {
    const link = at(`etc/systemd/system/${unit}`);
    await rm(link, { force: true });
    await symlink('/dev/null', link);
  }
}
