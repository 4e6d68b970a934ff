import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { buildOnce, cacheRoot, shortHash } from './cache.js';
import { DEFAULT_IMAGE } from './image.js';
import { launchDetached, type ProcessRef, waitForListener } from './system.js';

/**
 * Packages the tool itself installs on lab hosts; they are deliberately absent from the image. python3-apt is what
 * Ansible's apt module needs on a host (it installs it from here itself): the bench applies with Ansible too.
 */
export const DEFAULT_REPO_PACKAGES = ['ipvsadm', 'nginx', 'keepalived', 'python3-apt'];

/** Bump whenever the way the repository is built changes, so cached repositories are rebuilt. */
const APT_REPO_RECIPE_VERSION = 1;

export interface AptRepoSpec {
  suite: string;
  mirror: string;
  packages: string[];
}

export function aptRepoDir(spec: AptRepoSpec): string {
  const key = shortHash({ recipe: APT_REPO_RECIPE_VERSION, suite: spec.suite, mirror: spec.mirror, packages: [...spec.packages].sort() });
  return join(cacheRoot(), 'apt-repo', key);
}

/**
 * Downloads the packages with their whole dependency closure (no recommends) and indexes them
 * as a flat repository (Packages.xz too, so that apt finds the index at its first try). apt runs against private state with an empty dpkg status, so it neither
 * reads nor touches this machine's package database and fetches every dependency.
 */
export async function ensureAptRepo(packages: string[] = DEFAULT_REPO_PACKAGES): Promise<string> {
  const spec: AptRepoSpec = { suite: DEFAULT_IMAGE.suite, mirror: DEFAULT_IMAGE.mirror, packages };
  return buildOnce(aptRepoDir(spec), async (scratch) => {
    const state = await mkdtemp(join(tmpdir(), 'keel-apt-'));
    try {
      await mkdir(join(state, 'lists', 'partial'), { recursive: true });
      await mkdir(join(state, 'parts'));
      await mkdir(join(scratch, 'partial'));
      await writeFile(join(state, 'status'), '');
      await writeFile(
        join(state, 'sources.list'),
        `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${spec.mirror} ${spec.suite} main\n`,
      );
      const options = [
        `Dir::Etc::SourceList=${join(state, 'sources.list')}`,
        `Dir::Etc::SourceParts=${join(state, 'parts')}`,
        `Dir::State::Lists=${join(state, 'lists')}`,
        `Dir::State::status=${join(state, 'status')}`,
        `Dir::Cache=${state}`,
        `Dir::Cache::archives=${scratch}`,
      ].flatMap((option) => ['-o', option]);
      await $`apt-get ${options} -q update`.quiet();
      await $`apt-get ${options} -q -y --download-only --no-install-recommends install ${spec.packages}`.quiet();
    } finally {
      await rm(state, { recursive: true, force: true });
    }
    for (const entry of await readdir(scratch)) {
      if (!entry.endsWith('.deb')) await rm(join(scratch, entry), { recursive: true, force: true });
    }
    await $({ cwd: scratch })`dpkg-scanpackages --multiversion . /dev/null > Packages`.quiet();
    await $({ cwd: scratch })`gzip -9 --keep Packages`;
    await $({ cwd: scratch })`xz --keep Packages`;
  });
}

const STATIC_SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const [root, host, port] = process.argv.slice(1);
http.createServer((req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url, 'http://repo').pathname)));
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !file.startsWith(root + '/')) return res.writeHead(404).end();
  fs.stat(file, (error, stat) => {
    if (error || !stat.isFile()) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': stat.size });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
}).listen(Number(port), host);
`;

/** Serves `dir` over HTTP from inside the namespace `netns`; the server outlives this process. */
export async function serveAptRepo(netns: string, address: string, port: number, dir: string, logPath: string): Promise<ProcessRef> {
  const server = launchDetached('ip', ['netns', 'exec', netns, process.execPath, '-e', STATIC_SERVER, dir, address, String(port)], logPath);
  try {
    await waitForListener(server, port, 10_000);
  } catch (error) {
    throw new Error(`apt repository server did not listen on ${address}:${port}, see ${logPath}`, { cause: error });
  }
  return server;
}
