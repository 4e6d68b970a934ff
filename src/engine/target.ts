/** A host as the engine sees it: its name, its resources, how to reach it, and the secrets kept out of its messages. */

import { redactDeep, type Secret } from '../shell/index.js';
import type { Transport } from '../transport/types.js';
import type { Section, SectionResult } from './batch.js';
import type { HandlerResult, ResourceResult, RolloutPhase } from './events.js';
import type { ReadState } from './reads.js';
import type { ResourceInstance } from './resource.js';

export interface StaleRead {
  id: string;
  /** What differs, e.g. `value changed since the plan`. */
  reason: string;
}

export interface HostTarget {
  name: string;
  resources: ResourceInstance[];
  /**
   * Ids of the host's resources left out of this run (by `--tags`): never read nor changed, and a handler of one
   * does not run, its notification staying owed on the host. A host with nothing but these is not contacted.
   */
  leftOut?: readonly string[];
  connect(): Promise<Transport>;
  /** How the host leaves service before its changes and rejoins after them, in a rolling run. */
  rollout?: HostRollout;
  /**
   * What apply's first read must find (a saved plan's fingerprints): a resource whose read differs is named with
   * why, and the host is then refused without any change.
   */
  expectedReads?(states: ReadonlyMap<string, ReadState>): StaleRead[];
  /** Values to scrub from every message about this host. */
  secrets?: Secret[];
  /**
   * Run once connected, before anything is read, for a host whose resources depend on the host itself (its facts):
   * returns what the run then takes, `resources` and `leftOut` included. A host with this is contacted even when
   * `resources` is empty. A ConnectionError makes the host unreachable; any other error fails it. `read` sends
   * sections the way reads go: one invocation in the host's long-lived shell, shown by the -v trace.
   */
  prepare?(read: ReadSections): Promise<Prepared>;
  /** What preparation gathered from the host, carried as is into its summary. */
  gathered?: unknown;
}

export type Prepared = Pick<HostTarget, 'resources' | 'leftOut' | 'gathered'>;

/** Runs read-only sections as one invocation on the host, with the read timeout. */
export type ReadSections = (sections: readonly Section[]) => Promise<Map<string, SectionResult>>;

export interface Timeouts {
  readMs: number;
  applyMs: number;
}

/** Every string of a result (error, diff, desired and actual state) with the host's secrets replaced. */
export function scrub<Result extends ResourceResult | HandlerResult>(result: Result, secrets: readonly Secret[] | undefined): Result {
  return secrets?.length ? redactDeep(result, secrets) : result;
}

/** Told as the host moves on; `detail` is what the phase waits on (`ActiveConn 3`) or why it ended. */
export type RolloutProgress = (phase: RolloutPhase, detail?: string) => void;

/**
 * How one host leaves service before its changes and rejoins after them, by commands run on other hosts (a load
 * balancer's) and on the host itself. The engine knows no more of it than this.
 */
export interface HostRollout {
  /** The hosts that serve together with this one, itself included: a batch may not hold all of them. */
  pool: { name: string; members: readonly string[] };
  /** Takes the host out of service; throws, with what an operator can act on, to fail it before any change. */
  leave(progress: RolloutProgress): Promise<void>;
  /** Whether the host is out of service although this run did not take it out: an earlier run died mid-change. */
  isOut(): Promise<boolean>;
  /** Checks the host's health (on `host`, its own transport) and puts it back; throws, leaving it out, when the check fails. */
  rejoin(host: Transport, progress: RolloutProgress): Promise<void>;
}
