/**
 * The order of ipvsRule's steps, so that a change that stops part-way (a failed step, a dropped connection)
 * never leaves a service without a real server that takes traffic. Every planned step is played on a model of
 * the table, and after each one the service must still have a server with weight > 0 whenever it had one
 * before and will have one after. (The same steps against the kernel's IPVS need the VM lab.)
 */
import { describe, expect, it } from 'vitest';
import { diffIpvsRule, type IpvsService, ipvsRule, ipvsRuleSteps, parseIpvsadmRules } from '../../src/resources/ipvsRule.js';

type Params = Parameters<typeof ipvsRule>[0];
type Table = Map<string, Map<string, number>>;

const VIP = '192.168.9.100';
const POOL = ['192.168.9.11', '192.168.9.12', '192.168.9.13', '192.168.9.14'];

/** Plays `ipvsadm -A/-E/-D/-a/-e/-d` steps on a table of service key → real server → weight. */
function play(table: Table, step: string): void {
  const match = /^ipvsadm (-[AEDaed]) (-[tuf] \S+)(?: -r (\S+))?(?: -[gmi])?(?: -w (\d+))?/.exec(step);
  if (!match) return;
  const [, command, key, server, weight] = match as unknown as [string, string, string, string | undefined, string | undefined];
  if (command === '-A') table.set(key, new Map());
  if (command === '-D') table.delete(key);
  const servers = table.get(key);
  if (!servers || !server) return;
  if (command === '-a' || command === '-e') servers.set(server.includes(':') ? server : `${server}:80`, Number(weight ?? 1));
  if (command === '-d') servers.delete(server.includes(':') ? server : `${server}:80`);
}

function healthy(table: Table, key: string): boolean {
  return [...(table.get(key)?.values() ?? [])].some((weight) => weight > 0);
}

function tableOf(services: readonly IpvsService[]): Table {
  return new Map(services.map((service) => [service.key, new Map(service.realServers.map((rs) => [rs.server, rs.weight]))]));
}

/** Seeded, so a failure names a case that can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function someServers(next: () => number): { address: string; weight: number }[] {
  return POOL.filter(() => next() < 0.5).map((address) => ({ address, weight: next() < 0.25 ? 0 : 1 + Math.floor(next() * 3) }));
}

interface Case {
  current: { address: string; weight: number }[];
  desired: { address: string; weight: number }[];
  port: number;
  drainSeconds?: number;
}

function stepsFor(scenario: Case): { steps: string[]; before: Table } {
  const currentService = `-A -t ${VIP}:80 -s rr\n${scenario.current.map((rs) => `-a -t ${VIP}:80 -r ${rs.address}:80 -g -w ${rs.weight}`).join('\n')}\n`;
  const current = {
    table: parseIpvsadmRules(currentService),
    recorded: `-t ${VIP}:80`,
    persistence: { flavour: 'other' as const, rules: null, defaults: null, bootEnabled: false },
  };
  const params: Params = {
    name: 'web',
    address: VIP,
    port: scenario.port,
    scheduler: 'rr',
    realServers: scenario.desired.map((rs) => ({ address: rs.address, weight: rs.weight })),
    persist: false,
    ...(scenario.drainSeconds ? { drainSeconds: scenario.drainSeconds } : {}),
  };
  const instance = ipvsRule(params);
  const steps = ipvsRuleSteps(instance.params, current, diffIpvsRule(instance.params, current)).map((step) => step.text);
  return { steps, before: tableOf(current.table) };
}

/** The first step after which no service of this rule takes traffic, though one did before and one will after. */
function firstOutage(scenario: Case): string | undefined {
  const { steps, before } = stepsFor(scenario);
  const oldKey = `-t ${VIP}:80`;
  const newKey = `-t ${VIP}:${scenario.port}`;
  if (!healthy(before, oldKey) || !scenario.desired.some((rs) => rs.weight > 0)) return undefined;
  const table: Table = new Map([...before].map(([key, servers]) => [key, new Map(servers)]));
  for (const step of steps) {
    play(table, step);
    if (!healthy(table, oldKey) && !healthy(table, newKey)) return step;
  }
  return undefined;
}

describe('ipvsRule: no step leaves the service without a healthy real server', () => {
  it('holds for 600 random changes of servers, weights and port, with and without draining', () => {
    const next = random(20240611);
    const outages: string[] = [];
    for (let index = 0; index < 600; index += 1) {
      const scenario: Case = {
        current: someServers(next),
        desired: someServers(next),
        port: next() < 0.2 ? 8080 : 80,
        ...(next() < 0.3 ? { drainSeconds: 5 } : {}),
      };
      const outage = firstOutage(scenario);
      if (outage) outages.push(`${JSON.stringify(scenario)}: after "${outage}"`);
    }
    expect(outages.slice(0, 5)).toEqual([]);
  });

  it('adds a replacement before it lowers a server to weight 0 or removes the last one', () => {
    const { steps } = stepsFor({
      current: [{ address: POOL[0]!, weight: 1 }],
      desired: [
        { address: POOL[0]!, weight: 0 },
        { address: POOL[1]!, weight: 1 },
      ],
      port: 80,
    });
    expect(steps).toEqual([`ipvsadm -a -t ${VIP}:80 -r ${POOL[1]}:80 -g -w 1`, `ipvsadm -e -t ${VIP}:80 -r ${POOL[0]}:80 -g -w 0`]);
    const swap = stepsFor({
      current: [{ address: POOL[0]!, weight: 1 }],
      desired: [{ address: POOL[1]!, weight: 1 }],
      port: 80,
      drainSeconds: 5,
    });
    expect(swap.steps[0]).toBe(`ipvsadm -a -t ${VIP}:80 -r ${POOL[1]}:80 -g -w 1`);
    expect(swap.steps.at(-1)).toBe(`ipvsadm -d -t ${VIP}:80 -r ${POOL[0]}:80`);
  });
});
