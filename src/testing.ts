/**
 * The idempotence harness for resources and recipes, for keel's own tests and for users' tests:
 * plan shows a change → apply → plan is empty → drift → plan shows it → apply repairs it → plan is empty.
 */
import type { HostSummary, Mode, ResourceError, ResourceResult } from './engine/events.js';
import type { ResourceInstance } from './engine/resource.js';
import { DEFAULT_TIMEOUTS, run } from './engine/run.js';
import type { Transport } from './transport/types.js';

export class IdempotenceError extends Error {
  constructor(
    step: string,
    readonly host: HostSummary,
  ) {
    const detail = host.resources
      .map(
        (r) =>
          `  ${r.id}: ${r.outcome}${r.changes.length ? ` (${r.changes.map((c) => c.field).join(', ')})` : ''}${r.error ? ` — ${describeError(r.error)}` : ''}`,
      )
      .join('\n');
    super(`${step}\n${host.error ? `  host: ${host.error}\n` : ''}${detail}`);
    this.name = 'IdempotenceError';
  }
}

/** Runs one mode of the engine for one host over an already open transport, which stays open. */
export async function runOnce(mode: Mode, resources: readonly ResourceInstance[], transport: Transport): Promise<HostSummary> {
  const summary = await run({
    mode,
    recipes: ['(test)'],
    hosts: [{ name: transport.host, resources: [...resources], connect: async () => keepOpen(transport) }],
    forks: 1,
    timeouts: DEFAULT_TIMEOUTS,
    emit: () => undefined,
  });
  return summary.hosts[0]!;
}

function keepOpen(transport: Transport): Transport {
  return {
    host: transport.host,
    get execCount() {
      return transport.execCount;
    },
    exec: (command, options) => transport.exec(command, options),
    runScript: (script, options) => transport.runScript(script, options),
    close: async () => undefined,
  };
}

export interface IdempotenceOptions {
  /** Changes the host behind keel's back, the way an operator's hand would. */
  drift(): Promise<void>;
}

export interface IdempotenceReport {
  firstPlan: ResourceResult[];
  firstApply: ResourceResult[];
  driftPlan: ResourceResult[];
  repair: ResourceResult[];
}

function describeError(error: ResourceError): string {
  return `${error.message}${error.stderr ? ` [${error.stderr}]` : ''}`;
}

const differs = (r: ResourceResult): boolean => r.outcome === 'drifted' || r.outcome === 'pending';

export async function testResource(
  resources: ResourceInstance | readonly ResourceInstance[],
  transport: Transport,
  options: IdempotenceOptions,
): Promise<IdempotenceReport> {
  const list = Array.isArray(resources) ? (resources as readonly ResourceInstance[]) : [resources as ResourceInstance];
  const plan = async (step: string, expectChange: boolean): Promise<ResourceResult[]> => {
    const host = await runOnce('plan', list, transport);
    const failed = host.resources.some((r) => r.outcome === 'failed') || host.outcome !== 'ok';
    const changing = host.resources.some(differs);
    if (failed || changing !== expectChange)
      throw new IdempotenceError(`${step}: expected ${expectChange ? 'a change' : 'no change'}`, host);
    return host.resources;
  };
  const apply = async (step: string): Promise<ResourceResult[]> => {
    const host = await runOnce('apply', list, transport);
    if (host.outcome !== 'ok' || !host.resources.some((r) => r.outcome === 'changed'))
      throw new IdempotenceError(`${step}: expected changes and no failure`, host);
    return host.resources;
  };
  const firstPlan = await plan('plan before the first apply', true);
  const firstApply = await apply('first apply');
  await plan('plan after the first apply', false);
  await options.drift();
  const driftPlan = await plan('plan after the drift', true);
  const repair = await apply('apply after the drift');
  await plan('plan after the repair', false);
  return { firstPlan, firstApply, driftPlan, repair };
}
