/**
 * Runs a documented shell script as root the way an operator would, in a private mount namespace: /etc,
 * /usr/local and /var/lib are overlays and /tmp is a directory of its own (a working directory under /tmp, such
 * as a clean clone, is bound back into it), so the documented paths
 * (/etc/keel, /usr/local/bin/keel, /tmp/keel-*.tgz) exist without touching the machine's. `binds` lays
 * directories over others inside it, such as a lab's state directory at the path the docs name.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SandboxRun {
  code: number;
  output: string;
}

const OVERLAID = ['/etc', '/usr/local', '/var/lib'];

export interface SandboxOptions {
  /** More directories to overlay, such as /usr for a script that removes packages. */
  overlays?: string[];
  /** [source, target] pairs; the target's parent is overlaid first, so that it may be created. */
  binds?: [string, string][];
  timeoutMs?: number;
}

/** Each script runs with `sh -e` under `env -i` (PATH, HOME only), from `cwd`; returns its exit code and output. */
export function runInSandbox(script: string, cwd: string, options: SandboxOptions = {}): SandboxRun {
  const binds = options.binds ?? [];
  // /var/tmp: /tmp itself is replaced inside the namespace.
  const scratch = mkdtempSync('/var/tmp/keel-sandbox-');
  try {
    writeFileSync(join(scratch, 'script.sh'), script);
    mkdirSync(join(scratch, 'tmp'), { mode: 0o1777 });
    const mounts = [...OVERLAID, ...(options.overlays ?? []), ...binds.map(([, target]) => dirname(target))]
      .map((lower, index) => {
        const layer = join(scratch, `layer${index}`);
        return `mkdir -p ${layer}/upper ${layer}/work && mount -t overlay overlay -o lowerdir=${lower},upperdir=${layer}/upper,workdir=${layer}/work ${lower}`;
      })
      .join('\n');
    const path = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');
    const wrapper = `set -e
${mounts}
mkdir -p ${scratch}/cwd && mount --bind "$CWD" ${scratch}/cwd
mount --bind ${scratch}/tmp /tmp
case "$CWD" in /tmp/*) mkdir -p "$CWD" && mount --bind ${scratch}/cwd "$CWD" ;; esac
${binds.map(([source, target]) => `mkdir -p ${target} && mount --bind ${source} ${target}`).join('\n')}
cd "$CWD"
set +e
env -i PATH="${path}" HOME=/root sh -e ${scratch}/script.sh > ${scratch}/output 2>&1
echo $? > ${scratch}/code
`;
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', wrapper], {
      env: { ...process.env, CWD: cwd },
      timeout: options.timeoutMs ?? 600_000,
    });
    return { code: Number(readFileSync(join(scratch, 'code'), 'utf8')), output: readFileSync(join(scratch, 'output'), 'utf8') };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
