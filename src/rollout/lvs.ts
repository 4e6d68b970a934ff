/**
 * The LVS rollout of a real server. It leaves service with weight 0 on every director whose IPVS table lists it, in
 * every service that does. That is live only: the rules file keeps the recipe's weight, so a reboot mid-change brings
 * it back. It waits for its active connections to end, and after its changes it rejoins once a health check passes,
 * with the weight the rules file holds. A real server found at weight 0 live while the rules file wants more was left
 * so by a run that died: it is out, and is put back only after the same check.
 */
import type { HostInfo, RolloutDeclaration, RolloutPeer } from '../engine/recipe.js';
import type { RolloutProgress } from '../engine/target.js';
import {
  activeConnectionsCommand,
  type IpvsRealServer,
  type IpvsService,
  parseIpvsadmRules,
  READ_PERSISTED_RULES,
  READ_TABLE,
  realServerAddress,
  realServerWeightCommand,
} from '../resources/ipvsRule.js';
import { canonicalIp } from '../schema/index.js';
import { type ShellCommand, sh } from '../shell/index.js';
import type { Transport } from '../transport/types.js';

export interface LvsHealthCheck {
  /** The virtual IP the real server answers for (on its loopback, in LVS-DR). */
  vip: string;
  /** Default 80. */
  port?: number;
  /** Default `/`. */
  path?: string;
  /** The HTTP status expected. Default 200. */
  status?: number;
  /** Text the answer's body must contain. */
  body?: string;
  /** Retry until this many seconds have passed. Default 30. */
  deadlineSeconds?: number;
}

export interface LvsRolloutOptions {
  /** The directors: a name, group or glob of the inventory. Default `directors`. */
  directors?: string;
  /** The real servers that serve together: a name, group or glob. Default `realservers`. */
  realServers?: string;
  health: LvsHealthCheck;
  /** How long to wait for the real server's active connections to end. Default 30. */
  drainSeconds?: number;
  /** What to do when they have not ended by then: go on with the changes (the default), or fail the host. */
  atDrainTimeout?: 'proceed' | 'fail';
}

/** One real server entry of one service on one director, with the weight its rules file wants. */
interface Listing {
  director: string;
  transport: Transport;
  key: string;
  server: IpvsRealServer;
  /** The weight the rules file holds for it; undefined when the rules file does not list it. */
  wanted: number | undefined;
  /** Other real servers of the service that take traffic. */
  othersServing: number;
}

const COMMAND_TIMEOUT_MS = 30_000;

async function output(transport: Transport, command: ShellCommand): Promise<string> {
  const result = await transport.exec(command.text, { sudo: true, timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) {
    const stderr = result.stderr.toString('utf8').trim();
    throw new Error(`${transport.host}: ${command.display} exited ${result.code}${stderr ? `: ${stderr}` : ''}`);
  }
  return result.stdout.toString('utf8');
}

function listings(director: string, transport: Transport, live: IpvsService[], persisted: IpvsService[], address: string): Listing[] {
  const found: Listing[] = [];
  for (const service of live) {
    const rules = persisted.find((candidate) => candidate.key === service.key);
    for (const server of service.realServers) {
      if (realServerAddress(server.server) !== address) continue;
      const wanted = rules?.realServers.find((candidate) => candidate.server === server.server)?.weight;
      const othersServing = service.realServers.filter((other) => other !== server && other.weight > 0).length;
      found.push({ director, transport, key: service.key, server, wanted, othersServing });
    }
  }
  return found;
}

/** Opens every director, finds the services that list `address`, runs `work`, and closes them again. */
async function onDirectors<Result>(
  directors: readonly RolloutPeer[],
  address: string,
  work: (found: Listing[]) => Promise<Result>,
): Promise<Result> {
  const open: Transport[] = [];
  try {
    const found: Listing[] = [];
    for (const director of directors) {
      const transport = await director.connect();
      open.push(transport);
      const live = parseIpvsadmRules(await output(transport, READ_TABLE));
      const persisted = parseIpvsadmRules(await output(transport, READ_PERSISTED_RULES));
      found.push(...listings(director.name, transport, live, persisted, address));
    }
    return await work(found);
  } finally {
    for (const transport of open) await transport.close().catch(() => undefined);
  }
}

function where(listing: Listing): string {
  return `${listing.director} ${listing.key} -r ${listing.server.server}`;
}

async function activeConnections(listing: Listing): Promise<number> {
  const text = (await output(listing.transport, activeConnectionsCommand(listing.key, [listing.server.server]))).trim();
  if (!/^\d+$/.test(text)) throw new Error(`${listing.director}: unexpected active connection count ${JSON.stringify(text)}`);
  return Number(text);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function drain(found: Listing[], options: LvsRolloutOptions, progress: RolloutProgress): Promise<void> {
  const seconds = options.drainSeconds ?? 30;
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const counts = await Promise.all(found.map(async (listing) => ({ listing, active: await activeConnections(listing) })));
    const busy = counts.filter((count) => count.active > 0);
    progress('draining', counts.map((count) => `ActiveConn ${count.active} on ${where(count.listing)}`).join('; '));
    if (busy.length === 0) return;
    if (Date.now() >= deadline) {
      const left = busy.map((count) => `${count.active} on ${where(count.listing)}`).join(', ');
      if (options.atDrainTimeout === 'fail')
        throw new Error(`active connections did not end within ${seconds} s (${left}); it stays at weight 0, unchanged`);
      progress('draining', `${seconds} s passed with connections left (${left}); changing anyway`);
      return;
    }
    await sleep(1000);
  }
}

/**
 * In DR the director never sees a connection close, so its entries stay until they time out, and a client that uses a
 * port again is sent to the server of the old entry, weight 0 or not. Only with expire_nodest_conn does such a
 * packet get a server anew, which makes weight 0 a drain.
 */
async function refuseStickyConnections(director: Transport): Promise<void> {
  const value = (await output(director, sh`cat /proc/sys/net/ipv4/vs/expire_nodest_conn`)).trim();
  if (value !== '0') return;
  throw new Error(
    `${director.host}: net.ipv4.vs.expire_nodest_conn is 0, so a client port used again still reaches a server at weight 0; set it to 1 (recipes/director.ts does) before a rolling change`,
  );
}

/** The health check's command on the real server: prints the status, then the body. */
function healthRequest(health: LvsHealthCheck): ShellCommand {
  return sh`curl -sS --max-time 3 -w '\n%{http_code}' ${healthUrl(health)}`;
}

function healthUrl(health: LvsHealthCheck): string {
  return `http://${health.vip}:${health.port ?? 80}${health.path ?? '/'}`;
}

/** What is wrong with one attempt of the check, or undefined when it passed. */
async function checkOnce(host: Transport, found: readonly Listing[], health: LvsHealthCheck): Promise<string | undefined> {
  const url = healthUrl(health);
  const answer = await host.exec(healthRequest(health).text, { sudo: true, timeoutMs: COMMAND_TIMEOUT_MS });
  const printed = answer.stdout.toString('utf8');
  const status = Number(printed.slice(printed.lastIndexOf('\n') + 1));
  const body = printed.slice(0, printed.lastIndexOf('\n'));
  if (answer.code !== 0) return `${host.host}: GET ${url} failed (curl exit ${answer.code}): ${answer.stderr.toString('utf8').trim()}`;
  const expected = health.status ?? 200;
  if (status !== expected) return `${host.host}: GET ${url} answered ${status}, not ${expected}: ${body.trim().slice(0, 200)}`;
  if (health.body !== undefined && !body.includes(health.body))
    return `${host.host}: GET ${url} answered ${status} without ${JSON.stringify(health.body)}: ${body.trim().slice(0, 200)}`;
  for (const listing of found) {
    const reach = await listing.transport.exec(sh`curl -sS --max-time 3 -o /dev/null http://${listing.server.server}/`.text, {
      sudo: true,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (reach.code !== 0)
      return `${listing.director} cannot reach ${listing.server.server} (curl exit ${reach.code}): ${reach.stderr.toString('utf8').trim()}`;
  }
  return undefined;
}

async function healthCheck(host: Transport, found: readonly Listing[], health: LvsHealthCheck, progress: RolloutProgress): Promise<void> {
  const deadline = Date.now() + (health.deadlineSeconds ?? 30) * 1000;
  for (let attempt = 1; ; attempt += 1) {
    const problem = await checkOnce(host, found, health);
    if (problem === undefined) return;
    if (Date.now() >= deadline) throw new Error(`${problem} (${attempt} attempts in ${health.deadlineSeconds ?? 30} s)`);
    progress('checking', `attempt ${attempt}: ${problem}`);
    await sleep(1000);
  }
}

/** Declares the LVS rollout for a real server (in a recipe's `rollout`). */
export function lvsRollout(host: HostInfo, options: LvsRolloutOptions): RolloutDeclaration {
  const address = canonicalIp(host.address);
  // The weight each entry had when this run drained it: what it gets back when the rules file does not say.
  const before = new Map<string, number>();
  return {
    peers: options.directors ?? 'directors',
    pool: options.realServers ?? 'realservers',
    hooks: (directors) => ({
      async leave(progress) {
        await onDirectors(directors, address, async (found) => {
          for (const listing of found) {
            if (listing.server.weight > 0 && listing.othersServing === 0)
              throw new Error(`${where(listing)} is the last real server of its service that takes traffic; it is not drained`);
          }
          // No director lists it: nothing sends it traffic, so it has no service to leave.
          if (found.length === 0) return;
          for (const transport of new Set(found.map((listing) => listing.transport))) await refuseStickyConnections(transport);
          progress('draining');
          for (const listing of found) {
            before.set(where(listing), listing.server.weight);
            await output(listing.transport, realServerWeightCommand(listing.key, listing.server, 0));
          }
          await drain(found, options, progress);
        });
      },
      isOut: () =>
        onDirectors(directors, address, async (found) =>
          found.some((listing) => listing.server.weight === 0 && listing.wanted !== undefined && listing.wanted > 0),
        ),
      async rejoin(transport, progress) {
        await onDirectors(directors, address, async (found) => {
          await healthCheck(transport, found, options.health, progress);
          for (const listing of found) {
            const weight = listing.wanted ?? before.get(where(listing)) ?? listing.server.weight;
            if (listing.server.weight !== weight)
              await output(listing.transport, realServerWeightCommand(listing.key, listing.server, weight));
          }
        });
      },
    }),
  };
}
