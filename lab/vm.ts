/**
 * A lab host that is a qemu guest running Debian's own kernel, for what containers cannot give: a
 * kernel of its own (IP_VS, which the machine's kernel may lack). The guest boots the cached lab
 * image plus udev and a trimmed module tree from an ext4 disk, through a tiny busybox initramfs
 * that also carries the host's identity (hostname, ssh keys) and sets its LAN address.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { $ } from 'zx';
import { ensureAptRepo } from './aptRepo.js';
import { buildOnce, cacheRoot, shortHash } from './cache.js';
import { type HostIdentity, hostDirs, prepareHostRoot } from './hostRoot.js';
import { DEFAULT_IMAGE, ensureImage, imageKey } from './image.js';
import { BRIDGE, labNetns } from './netns.js';
import { launchDetached } from './nspawn.js';
import { isRunning, type ProcessRef, signal, waitForExit } from './system.js';

/** Bump whenever the disk or initramfs layout below changes, so cached builds are redone. */
const VM_RECIPE_VERSION = 3;

/** udev makes `sys-subsystem-net-devices-*.device` units exist, which boot units of network addresses bind to. */
const VM_PACKAGES = ['linux-image-amd64', 'busybox-static', 'udev'];

/** Module subtrees the guest keeps: its virtual hardware, ext4, and the whole network stack (IPVS, netfilter). */
const KEPT_MODULES = [
  'kernel/net',
  'kernel/lib',
  'kernel/crypto',
  'kernel/arch/x86/crypto',
  'kernel/fs/ext4',
  'kernel/fs/jbd2',
  'kernel/fs/mbcache.ko',
  'kernel/fs/autofs',
  'kernel/drivers/virtio',
  'kernel/drivers/block/virtio_blk.ko',
  'kernel/drivers/net/virtio_net.ko',
  'kernel/drivers/net/net_failover.ko',
  'kernel/drivers/char/hw_random',
];

/** What the initramfs loads before it can mount the root disk and configure the LAN interface. */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic', 'virtio_net'];

/** Units for hardware and file systems the guest does not have; each costs seconds of emulated boot. */
const MASKED_UNITS = [
  'proc-sys-fs-binfmt_misc.automount',
  'proc-sys-fs-binfmt_misc.mount',
  'systemd-binfmt.service',
  'modprobe@drm.service',
  'modprobe@fuse.service',
  'modprobe@loop.service',
  'modprobe@efi_pstore.service',
  'modprobe@dm_mod.service',
  'modprobe@configfs.service',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-kernel-config.mount',
  'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount',
  'dev-mqueue.mount',
];

/** The configuration test before every start costs seconds of emulated CPU; the image's configuration is fixed. */
const SSH_DROP_IN = `[Service]
ExecStartPre=
`;

/** Room for what the lab installs (packages, logs) on top of the image. */
const DISK_FREE_MIB = 768;

/**
 * pid 1 of the initramfs: mounts the root disk, lays the host's own files (shipped under /seed in a
 * second archive appended per boot) over it, brings the LAN up with the address from the kernel
 * command line, and hands over to systemd.
 */
const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    keel.address=*) address=\${arg#*=} ;;
    keel.gateway=*) gateway=\${arg#*=} ;;
  esac
done
for module in ${INITRAMFS_MODULES.join(' ')}; do modprobe "$module"; done
tries=0
until [ -b /dev/vda ] && [ -e /sys/class/net/eth0 ]; do
  tries=$((tries + 1))
  [ $tries -gt 100 ] && { echo "keel-initramfs: no /dev/vda or eth0"; exec sh; }
  sleep 0.1
done
mount -t ext4 -o rw,noatime /dev/vda /newroot || { echo "keel-initramfs: cannot mount /dev/vda"; exec sh; }
cp -a /seed/. /newroot/
ip link set lo up
ip link set eth0 up
ip addr add "$address" dev eth0
ip route add default via "$gateway"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
`;

export interface VmArtifacts {
  kernel: string;
  /** busybox, the init above and the modules it loads; the per-boot /seed archive is appended to it. */
  initramfs: string;
  /** Raw ext4 root disk; every boot writes only to its own qcow2 overlay. */
  disk: string;
  /** The image root the disk was made from, whose directory modes the seed copies. */
  image: string;
}

function vmArtifacts(dir: string, image: string): VmArtifacts {
  return { kernel: join(dir, 'vmlinuz'), initramfs: join(dir, 'initramfs.cpio'), disk: join(dir, 'disk.raw'), image };
}

/** Builds (once, cached by its inputs) the kernel, initramfs and root disk of lab guests. */
export async function ensureVmArtifacts(log: (line: string) => void = () => {}): Promise<VmArtifacts> {
  const [image, packages] = await Promise.all([ensureImage(DEFAULT_IMAGE, log), ensureAptRepo(VM_PACKAGES)]);
  const debs = await readdir(packages);
  const kernelDeb = debs.find((name) => /^linux-image-\d.*\.deb$/.test(name));
  const busyboxDeb = debs.find((name) => name.startsWith('busybox-static_'));
  const udevDeb = debs.find((name) => name.startsWith('udev_'));
  if (!kernelDeb || !busyboxDeb || !udevDeb) throw new Error(`${packages} lacks the kernel, busybox-static or udev package`);
  const dir = join(
    cacheRoot(),
    'vm',
    shortHash({ recipe: VM_RECIPE_VERSION, image: imageKey(DEFAULT_IMAGE), kernelDeb, busyboxDeb, udevDeb }),
  );
  if (!existsSync(dir)) log(`building the guest disk for ${kernelDeb}`);
  await buildOnce(dir, async (scratch) => {
    const built = vmArtifacts(scratch, image);
    const kernelTree = join(scratch, 'kernel-package');
    await $`dpkg-deb -x ${join(packages, kernelDeb)} ${kernelTree}`;
    const [version] = await readdir(join(kernelTree, 'lib/modules'));
    if (version === undefined) throw new Error(`${kernelDeb} holds no modules`);
    await copyFile(join(kernelTree, 'boot', `vmlinuz-${version}`), built.kernel);

    const root = join(scratch, 'root');
    await $`cp -a ${image} ${root}`;
    await installModules(join(kernelTree, 'lib/modules', version), join(root, 'lib/modules', version));
    await $`chroot ${root} depmod -a ${version}`;
    await copyFile(join(packages, udevDeb), join(root, 'tmp', udevDeb));
    await $`chroot ${root} dpkg -i ${`/tmp/${udevDeb}`}`.quiet();
    await rm(join(root, 'tmp', udevDeb));
    await writeFile(join(root, 'etc/fstab'), '/dev/vda / ext4 rw,noatime 0 1\n');
    for (const unit of MASKED_UNITS) await symlink('/dev/null', join(root, 'etc/systemd/system', unit));
    await mkdir(join(root, 'etc/systemd/system/ssh.service.d'));
    await writeFile(join(root, 'etc/systemd/system/ssh.service.d/keel-vm.conf'), SSH_DROP_IN);
    await rm(kernelTree, { recursive: true });

    await buildInitramfs(join(packages, busyboxDeb), join(root, 'lib/modules', version), built.initramfs, scratch);
    const usedMib = Number((await $`du -sm ${root}`).stdout.split('\t')[0]);
    await $`truncate -s ${`${usedMib + DISK_FREE_MIB}M`} ${built.disk}`;
    await $`mkfs.ext4 -q -F -L keel-root -E root_owner=0:0 -d ${root} ${built.disk}`;
    await rm(root, { recursive: true });
  });
  return vmArtifacts(dir, image);
}

async function installModules(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const file of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) await copyFile(join(from, file), join(to, file));
  for (const path of KEPT_MODULES) {
    await mkdir(dirname(join(to, path)), { recursive: true });
    await $`cp -a ${join(from, path)} ${join(to, path)}`;
  }
}

/** The initramfs modules and everything they depend on, per modules.dep of the indexed module tree. */
async function initramfsModuleFiles(modules: string): Promise<string[]> {
  const dependencies = new Map<string, string[]>();
  for (const line of (await readFile(join(modules, 'modules.dep'), 'utf8')).split('\n')) {
    const [file, rest] = line.split(':');
    if (file && rest !== undefined) dependencies.set(file, rest.trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...dependencies.keys()].map((file) => [file.split('/').at(-1)!.replace(/\.ko$/, '').replace(/-/g, '_'), file]));
  const needed = new Set<string>();
  const add = (file: string) => {
    if (needed.has(file)) return;
    needed.add(file);
    for (const dependency of dependencies.get(file) ?? []) add(dependency);
  };
  for (const name of INITRAMFS_MODULES) {
    const file = byName.get(name);
    if (file === undefined) throw new Error(`module ${name} is not in ${modules}`);
    add(file);
  }
  return [...needed];
}

async function buildInitramfs(busyboxDeb: string, modules: string, output: string, scratch: string): Promise<void> {
  const tree = join(scratch, 'initramfs');
  const version = modules.split('/').at(-1)!;
  const busybox = join(scratch, 'busybox-package');
  await $`dpkg-deb -x ${busyboxDeb} ${busybox}`;
  await mkdir(join(tree, 'bin'), { recursive: true });
  await copyFile(join(busybox, 'bin/busybox'), join(tree, 'bin/busybox'));
  await chmod(join(tree, 'bin/busybox'), 0o755);
  await rm(busybox, { recursive: true });
  const files = await initramfsModuleFiles(modules);
  for (const file of files) {
    await mkdir(dirname(join(tree, 'lib/modules', version, file)), { recursive: true });
    await copyFile(join(modules, file), join(tree, 'lib/modules', version, file));
  }
  await copyFile(join(modules, 'modules.dep'), join(tree, 'lib/modules', version, 'modules.dep'));
  await writeFile(join(tree, 'init'), INIT, { mode: 0o755 });
  await writeCpio(tree, output);
  await rm(tree, { recursive: true });
}

/** Uncompressed: unpacking gzip in an emulated guest costs more than reading the bytes. */
async function writeCpio(tree: string, output: string): Promise<void> {
  await $({ cwd: tree })`find . -mindepth 1 -print0 | cpio --null --create --format=newc --quiet --owner=+0:+0 > ${output}`;
}

export interface VmLaunch {
  lab: string;
  name: string;
  /** Directory of this guest's per-boot files: overlay disk, seed, console log. */
  dir: string;
  address: string;
  prefix: number;
  identity: HostIdentity;
  memoryMib?: number;
}

export interface RunningVm {
  qemu: ProcessRef;
  /** `ssh-ed25519 AAAA…`, the guest's host key. */
  hostKey: string;
  mac: string;
  consoleLog: string;
}

/** Stable per address, so the lab's neighbour tables can be checked against it. */
export function macFor(address: string): string {
  const octets = address
    .split('.')
    .slice(1)
    .map((octet) => Number(octet).toString(16).padStart(2, '0'));
  return `52:54:00:${octets.join(':')}`;
}

function tapName(name: string): string {
  return `tap-${shortHash(name).slice(0, 8)}`;
}

const TCG = ['-accel', 'tcg,thread=multi', '-cpu', 'qemu64'];
const KVM = ['-accel', 'kvm', '-cpu', 'host'];
let acceleratorChoice: Promise<string[]> | undefined;

/**
 * KVM when a probe boot of the guest kernel gets as far as its root file system (it has none, so it
 * panics there on purpose, and qemu exits); TCG otherwise. On some machines /dev/kvm exists and qemu still cannot
 * boot a stock kernel with it.
 */
function accelerator(artifacts: VmArtifacts, log: string): Promise<string[]> {
  acceleratorChoice ??= (async () => {
    if (!existsSync('/dev/kvm')) return TCG;
    const probe = await $`timeout 30 qemu-system-x86_64 ${KVM} -m 256 -nodefaults -no-user-config -display none -monitor none -no-reboot
      -serial ${`file:${log}`} -kernel ${artifacts.kernel} -append ${'console=ttyS0 panic=-1 rdinit=/keel-kvm-probe'}`
      .nothrow()
      .quiet();
    const serial = await readFile(log, 'utf8').catch(() => '');
    return probe.exitCode === 0 && serial.includes('Kernel panic') ? KVM : TCG;
  })();
  return acceleratorChoice;
}

/**
 * Boots the guest on the lab bridge: a tap in the lab namespace, qemu started there (detached, so a
 * lab outlives the command that started it). Returns once qemu runs; `waitForVmSsh` waits for sshd.
 */
export async function startVm(launch: VmLaunch, artifacts: VmArtifacts): Promise<RunningVm> {
  const ns = labNetns(launch.lab);
  const dirs = hostDirs(launch.dir);
  const hostKey = await prepareHostRoot(artifacts.image, dirs, launch.identity);
  const seed = join(launch.dir, 'seed.cpio');
  const seedTree = await mkdtemp(join(tmpdir(), 'keel-seed-'));
  try {
    await $`cp -a ${dirs.upper} ${join(seedTree, 'seed')}`;
    await writeCpio(seedTree, seed);
  } finally {
    await rm(seedTree, { recursive: true, force: true });
  }
  const initramfs = join(launch.dir, 'initramfs.cpio');
  await $`cat ${artifacts.initramfs} ${seed} > ${initramfs}`;
  const overlay = join(launch.dir, 'disk.qcow2');
  await $`qemu-img create -q -f qcow2 -F raw -b ${artifacts.disk} ${overlay}`;

  const tap = tapName(`${launch.lab}/${launch.name}`);
  await $`ip -n ${ns} link del ${tap}`.nothrow().quiet();
  await $`ip -n ${ns} tuntap add dev ${tap} mode tap
    ip -n ${ns} link set ${tap} master ${BRIDGE} up`;
  const mac = macFor(launch.address);
  const kernelArguments = [
    'console=ttyS0',
    'root=/dev/vda',
    'rw',
    'net.ifnames=0',
    'panic=5',
    `keel.address=${launch.address}/${launch.prefix}`,
    `keel.gateway=${launch.identity.gateway}`,
  ];
  const qemu = launchDetached(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'qemu-system-x86_64',
      '-name',
      launch.name,
      ...(await accelerator(artifacts, join(launch.dir, 'kvm-probe.log'))),
      '-smp',
      '2',
      '-m',
      String(launch.memoryMib ?? 512),
      '-bios',
      '/usr/share/qemu/qboot.rom',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      `file:${dirs.consoleLog}`,
      '-kernel',
      artifacts.kernel,
      '-initrd',
      initramfs,
      '-append',
      kernelArguments.join(' '),
      '-drive',
      `file=${overlay},if=virtio,format=qcow2,cache=unsafe`,
      '-netdev',
      `tap,id=lan,ifname=${tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=lan,mac=${mac}`,
      '-device',
      'virtio-rng-pci',
    ],
    join(launch.dir, 'qemu.log'),
  );
  return { qemu, hostKey, mac, consoleLog: dirs.consoleLog };
}

/** Waits until the guest's sshd accepts connections on its LAN address, seen from the lab namespace. */
export async function waitForVmSsh(
  lab: string,
  vm: Pick<RunningVm, 'qemu' | 'consoleLog'>,
  address: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(vm.qemu)) throw new Error(`qemu exited; see ${vm.consoleLog}`);
    const banner = await $`ip netns exec ${labNetns(lab)} nc -N -w 2 ${address} 22 < /dev/null`.nothrow().quiet();
    if (banner.stdout.startsWith('SSH-')) return;
    await sleep(500);
  }
  throw new Error(`sshd of the guest at ${address} did not answer within ${timeoutMs / 1000} s; see ${vm.consoleLog}`);
}

/** Pulls the plug: the overlay disk is thrown away with the lab, so there is nothing to shut down cleanly. */
export async function stopVm(qemu: ProcessRef): Promise<void> {
  signal(qemu, 'SIGTERM');
  if (!(await waitForExit([qemu], 5_000))) {
    signal(qemu, 'SIGKILL');
    await waitForExit([qemu], 5_000);
  }
}
