/**
 * The LVS cluster a run saw, for drawing: each virtual service with the directors whose IPVS tables hold it and
 * its real servers with their weights, taken from the `ipvsRule` resources' state in a report. A real server is
 * matched to a host of the run by address, so that it can show that host's state.
 */
import type { Report } from './json.js';

type HostReport = Report['hosts'][number];

export type NodeState =
  | 'in sync'
  | 'drifted'
  | 'changed'
  | 'failed'
  | 'unreachable'
  | 'drained'
  | 'not in the run'
  | 'failing a doctor check';

export interface ClusterRealServer {
  /** As ipvsadm prints it: `192.168.9.11:80`. */
  server: string;
  weight: number;
  /** The host of the run with this address, when known. */
  host?: string;
  state: NodeState;
  /** Connections read from the director's table, when the run read them. */
  activeConnections?: number;
}

export interface ClusterService {
  /** `-t 192.168.9.100:80`, as ipvsadm names it. */
  key: string;
  directors: { host: string; state: NodeState }[];
  realServers: ClusterRealServer[];
}

interface TableShape {
  key: string;
  realServers: { server: string; weight: number; activeConnections?: number }[];
}

function tableOf(actual: unknown): TableShape[] {
  const table = (actual as { table?: unknown } | null)?.table;
  if (!Array.isArray(table)) return [];
  return table.filter(
    (service): service is TableShape =>
      typeof service?.key === 'string' &&
      Array.isArray(service.realServers) &&
      service.realServers.every((rs: unknown) => typeof (rs as TableShape['realServers'][number])?.server === 'string'),
  );
}

export function hostState(host: HostReport): NodeState {
  if (host.outcome === 'unreachable') return 'unreachable';
  if (host.outcome === 'failed' || host.counts.failed > 0) return 'failed';
  if (host.counts.drifted > 0 || host.counts.pending > 0) return 'drifted';
  if (host.counts.changed > 0) return 'changed';
  return 'in sync';
}

/** `192.168.9.11:80` → `192.168.9.11`; `[fd00::11]:80` → `fd00::11`. */
export function addressOf(server: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(server);
  return bracketed ? bracketed[1]! : server.replace(/:\d+$/, '');
}

/**
 * The services in the order first seen, from the directors' tables. A real server is matched to a host by
 * address; `stateOf` gives a host's state, or undefined for a host that is not in the run.
 */
export function clusterFromTables(
  directors: Iterable<{ host: string; table: readonly TableShape[] }>,
  hostAt: ReadonlyMap<string, string>,
  stateOf: (host: string) => NodeState | undefined,
): ClusterService[] {
  const services = new Map<string, ClusterService>();
  for (const director of directors) {
    for (const service of director.table) {
      let entry = services.get(service.key);
      if (!entry) {
        entry = { key: service.key, directors: [], realServers: [] };
        services.set(service.key, entry);
      }
      if (entry.directors.some((known) => known.host === director.host)) continue;
      entry.directors.push({ host: director.host, state: stateOf(director.host) ?? 'not in the run' });
      for (const rs of service.realServers) {
        if (entry.realServers.some((known) => known.server === rs.server)) continue;
        const name = hostAt.get(addressOf(rs.server));
        const state: NodeState = rs.weight === 0 ? 'drained' : ((name === undefined ? undefined : stateOf(name)) ?? 'not in the run');
        entry.realServers.push({
          server: rs.server,
          weight: rs.weight,
          state,
          ...(name ? { host: name } : {}),
          ...(rs.activeConnections !== undefined ? { activeConnections: rs.activeConnections } : {}),
        });
      }
    }
  }
  return [...services.values()];
}

/** The cluster of a run's report; empty when the run read no IPVS table. */
export function clusterOf(report: Report, addresses: ReadonlyMap<string, string> = new Map()): ClusterService[] {
  const hosts = new Map(report.hosts.map((host) => [host.host, host]));
  return clusterFromTables(
    report.hosts.map((host) => ({
      host: host.host,
      table: host.resources.filter((resource) => resource.type === 'ipvsRule').flatMap((resource) => tableOf(resource.actual)),
    })),
    new Map([...addresses].map(([host, address]) => [address, host])),
    (name) => {
      const host = hosts.get(name);
      return host ? hostState(host) : undefined;
    },
  );
}
