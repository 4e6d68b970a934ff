/**
 * Records the engine events of real runs into test/fixtures/events/, for the terminal view's tests:
 * `npx tsx scripts/record-events.ts`. Every host is this machine (LocalTransport) with its own root directory
 * under the system temp dir; the unreachable host is a real connection refused on loopback.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EngineEvent, Mode } from '../src/engine/events.js';
import { OWED_DIRECTORY } from '../src/engine/owed.js';
import type { ResourceInstance } from '../src/engine/resource.js';
import { DEFAULT_TIMEOUTS, run } from '../src/engine/run.js';
import type { HostTarget } from '../src/engine/target.js';
import { LocalTransport } from '../src/transport/local.js';
import { ConnectionError, type Transport } from '../src/transport/types.js';
import { hostFile } from '../test/support/hostFile.js';

const BASE = join(tmpdir(), 'keel-events');
const FIXTURES = new URL('../test/fixtures/events/', import.meta.url);

const NGINX_BEFORE = `user www-data;
worker_processes 2;
events {
  worker_connections 512;
}
http {
  server {
    listen 80;
    root /srv/www;
  }
}
`;
const NGINX_AFTER = NGINX_BEFORE.replace('worker_processes 2', 'worker_processes auto')
  .replace('worker_connections 512', 'worker_connections 1024')
  .replace('http {\n', 'http {\n  gzip on;\n');

/** A web host's resources; a change to the nginx configuration makes nginx reload. */
function webHost(root: string, options: { slowness?: number } = {}): ResourceInstance[] {
  const nginxConf = { root, path: '/etc/nginx/nginx.conf', content: NGINX_AFTER, ...options };
  return [
    hostFile({ root, path: '/etc/timezone', content: 'Etc/UTC', ...options }),
    hostFile(nginxConf, { notify: hostFile(nginxConf).on('reload') }),
    hostFile({ root, path: '/srv/www/index.html', content: '<h1>keel</h1>\n', ...options }),
  ];
}

/** Lays files out under a host's root: `{ '/etc/timezone': 'Etc/UTC' }`. */
function seed(root: string, files: Record<string, string>): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(root + path), { recursive: true });
    writeFileSync(root + path, content);
  }
}

const rootOf = (host: string): string => join(BASE, host);

const IN_SYNC = { '/etc/timezone': 'Etc/UTC', '/etc/nginx/nginx.conf': NGINX_AFTER, '/srv/www/index.html': '<h1>keel</h1>\n' };

/**
 * This machine, as a host whose filesystem is `rootOf(name)`: resources read and write under the root, and so
 * does the engine's record of owed handler notifications, which would otherwise be shared by every host.
 */
function local(name: string, resources: ResourceInstance[]): HostTarget {
  const owed = rootOf(name) + OWED_DIRECTORY;
  return {
    name,
    resources,
    connect: async () => {
      const transport = new LocalTransport(name);
      return {
        host: name,
        get execCount() {
          return transport.execCount;
        },
        exec: (command, options = {}) =>
          transport.exec(command, { ...options, stdin: options.stdin?.toString().replaceAll(OWED_DIRECTORY, owed) }),
        runScript: (script, options) => transport.runScript(script.replaceAll(OWED_DIRECTORY, owed), options),
        close: () => transport.close(),
      };
    },
  };
}

async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A host whose address refuses connections, as a stopped sshd does. */
function unreachable(name: string, port: number, resources: ResourceInstance[]): HostTarget {
  return {
    name,
    resources,
    connect: () =>
      new Promise<Transport>((_, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', (error) => reject(new ConnectionError(name, `connecting to 127.0.0.1:${port}: ${error.message}`)));
        socket.on('connect', () => {
          socket.destroy();
          reject(new Error(`port ${port} was expected to refuse connections`));
        });
      }),
  };
}

interface Recording {
  mode: Mode;
  hosts: HostTarget[];
  forks?: number;
  /** Presses Ctrl-C (aborts the run) at the first change that starts. */
  interruptAtFirstChange?: boolean;
}

async function record(name: string, recording: Recording): Promise<void> {
  const events: EngineEvent[] = [];
  const controller = new AbortController();
  await run({
    mode: recording.mode,
    recipes: ['recipes/web.ts'],
    hosts: recording.hosts,
    forks: recording.forks ?? 20,
    timeouts: DEFAULT_TIMEOUTS,
    signal: controller.signal,
    emit: (event) => {
      events.push(structuredClone(event));
      if (recording.interruptAtFirstChange && event.type === 'resource-start') controller.abort();
    },
  });
  writeFileSync(new URL(`${name}.json`, FIXTURES), `[\n${events.map((event) => JSON.stringify(event)).join(',\n')}\n]\n`);
  const end = events.at(-1);
  process.stdout.write(`${name}: ${events.length} events${end?.type === 'run-end' ? `, exit ${end.summary.exitCode}` : ''}\n`);
}

const WEB = ['web1', 'web2', 'web3'];

mkdirSync(FIXTURES, { recursive: true });

for (const host of WEB) seed(rootOf(host), IN_SYNC);
await record('clean', { mode: 'apply', hosts: WEB.map((host) => local(host, webHost(rootOf(host)))) });
await record('check-clean', { mode: 'check', hosts: WEB.map((host) => local(host, webHost(rootOf(host)))) });

for (const host of WEB) seed(rootOf(host), IN_SYNC);
seed(rootOf('web1'), { ...IN_SYNC, '/etc/nginx/nginx.conf': NGINX_BEFORE });
seed(rootOf('web2'), { ...IN_SYNC, '/etc/timezone': 'Europe/Berlin' });
await record('plan', { mode: 'plan', hosts: WEB.map((host) => local(host, webHost(rootOf(host)))) });
await record('changes', { mode: 'apply', hosts: WEB.map((host) => local(host, webHost(rootOf(host)))) });

// web2's /srv/www is a file, so its index.html cannot be written: a real mkdir failure.
seed(rootOf('web1'), { ...IN_SYNC, '/etc/timezone': 'Europe/Berlin' });
seed(rootOf('web2'), { '/etc/timezone': 'Europe/Berlin', '/srv/www': 'not a directory\n' });
const port = await refusedPort();
await record('failure', {
  mode: 'apply',
  hosts: [local('web1', webHost(rootOf('web1'))), local('web2', webHost(rootOf('web2'))), unreachable('db1', port, webHost(rootOf('db1')))],
});

for (const host of WEB) seed(rootOf(host), { '/etc/timezone': 'Europe/Berlin' });
await record('interrupted', {
  mode: 'apply',
  forks: 1,
  interruptAtFirstChange: true,
  hosts: WEB.map((host) => local(host, webHost(rootOf(host), { slowness: 0.5 }))),
});

// 200 hosts: most in sync, every tenth has an old nginx configuration, three cannot write their web page.
const FLEET = Array.from({ length: 200 }, (_, index) => `node${String(index + 1).padStart(3, '0')}`);
FLEET.forEach((host, index) => {
  if (index % 10 === 4) seed(rootOf(host), { ...IN_SYNC, '/etc/nginx/nginx.conf': NGINX_BEFORE });
  else if ([57, 121, 180].includes(index))
    seed(rootOf(host), { '/etc/timezone': 'Etc/UTC', '/etc/nginx/nginx.conf': NGINX_AFTER, '/srv/www': 'not a directory\n' });
  else seed(rootOf(host), IN_SYNC);
});
await record('fleet-200', { mode: 'apply', hosts: FLEET.map((host) => local(host, webHost(rootOf(host)))) });

rmSync(BASE, { recursive: true, force: true });
