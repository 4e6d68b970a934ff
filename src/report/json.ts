/**
 * The versioned JSON report: one document per run. `schema/report.v1.json` is ReportSchema, published for
 * the tools that read reports; a change that breaks them needs a new version.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { HostSummary, RunSummary } from '../engine/events.js';
import { type Facts, FactsSchema } from '../facts/model.js';
import { StringEnum } from '../schema/index.js';

export const REPORT_VERSION = 'keel.report/v1';

const Milliseconds = Type.Number({ minimum: 0, title: 'milliseconds' });
const Mode = StringEnum(['plan', 'check', 'apply']);

const ResourceError = Type.Object(
  {
    phase: StringEnum(['read', 'apply', 'verify', 'handler']),
    message: Type.String(),
    command: Type.Optional(Type.String({ title: 'the shell command that failed' })),
    exitCode: Type.Optional(Type.Integer()),
    stderr: Type.Optional(Type.String({ title: 'the tail of its stderr' })),
  },
  { additionalProperties: false },
);

const FieldChange = Type.Object(
  {
    field: Type.String(),
    from: Type.Unknown({ title: 'the current value; null when absent' }),
    to: Type.Unknown({ title: 'the desired value' }),
    patch: Type.Optional(Type.String({ title: 'a unified diff, for text content' })),
  },
  { additionalProperties: false },
);

const ResourceReport = Type.Object(
  {
    host: Type.String(),
    id: Type.String({ title: 'type[key], e.g. sysctl[net.ipv4.ip_forward]' }),
    type: Type.String(),
    outcome: StringEnum(['unchanged', 'drifted', 'changed', 'pending', 'failed', 'skipped']),
    changes: Type.Array(FieldChange, { title: 'the fields that differ(ed)' }),
    desired: Type.Unknown({ title: 'the desired state' }),
    actual: Type.Unknown({ title: 'the state read from the host (after the change, in apply); null when unknown' }),
    pendingOn: Type.Optional(Type.Array(Type.String(), { title: 'earlier resources whose change decides this one' })),
    notified: Type.Optional(Type.Array(Type.String(), { title: 'handlers this change notifies: "id action"' })),
    error: Type.Optional(ResourceError),
    durationMs: Milliseconds,
  },
  { additionalProperties: false },
);

const HandlerReport = Type.Object(
  {
    host: Type.String(),
    id: Type.String(),
    action: Type.String(),
    outcome: StringEnum(['ran', 'would-run', 'failed', 'left-out']),
    error: Type.Optional(ResourceError),
    durationMs: Milliseconds,
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });

const RolloutStepReport = Type.Object(
  {
    phase: StringEnum(['draining', 'changing', 'checking', 'restored', 'left out']),
    at: Type.String({ format: 'date-time', title: 'when the phase began' }),
    detail: Type.Optional(Type.String({ title: 'what it waits on, or why the host was left out of service' })),
  },
  { additionalProperties: false },
);

const HostReport = Type.Object(
  {
    host: Type.String(),
    outcome: StringEnum(['ok', 'failed', 'unreachable', 'interrupted']),
    counts: Type.Object(
      { unchanged: Count, drifted: Count, changed: Count, pending: Count, failed: Count, skipped: Count },
      { additionalProperties: false },
    ),
    resources: Type.Array(ResourceReport, { title: 'in recipe order' }),
    handlers: Type.Array(HandlerReport),
    leftOut: Type.Optional(
      Type.Array(Type.String(), { title: 'ids of the resources --tags/--skip-tags left out: neither read nor changed' }),
    ),
    error: Type.Optional(Type.String()),
    rollout: Type.Optional(Type.Array(RolloutStepReport, { title: "a rolling run: the host's way out of service and back" })),
    notAttempted: Type.Optional(Type.Integer({ minimum: 0, title: 'of an interrupted host: its resources never attempted' })),
    facts: Type.Optional({ ...FactsSchema, title: 'the facts gathered before its resources were built, for recipes with facts: true' }),
    execs: Type.Object(
      { total: Count, read: Count },
      { additionalProperties: false, title: 'remote invocations, in total and for reading' },
    ),
    durationMs: Milliseconds,
  },
  { additionalProperties: false },
);

const HostNames = Type.Array(Type.String());

const RolloutReport = Type.Object(
  {
    serial: Type.Integer({ minimum: 1, title: 'hosts per batch' }),
    maxFail: Type.Integer({ minimum: 0, title: 'failed hosts allowed over the whole run; one more and no new batch starts' }),
    batches: Type.Array(HostNames, { title: 'the batches, in the order they run' }),
    failed: Type.Array(Type.String(), { title: 'hosts counted against the budget: failed or unreachable' }),
    notAttempted: Type.Array(Type.String(), { title: 'hosts of the batches that never started' }),
    stopped: Type.Optional(Type.String({ title: 'why no further batch started' })),
  },
  { additionalProperties: false, title: 'a rolling run (--serial, --max-fail)' },
);

export const ReportSchema = Type.Object(
  {
    version: Type.Literal(REPORT_VERSION),
    mode: Mode,
    recipes: Type.Array(Type.String()),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Milliseconds,
    hosts: Type.Array(HostReport),
    interrupted: Type.Boolean(),
    rollout: Type.Optional(RolloutReport),
    plan: Type.Optional(
      Type.Object(
        { file: Type.String(), createdAt: Type.String({ format: 'date-time' }) },
        { additionalProperties: false, title: 'the saved plan this apply applied (apply --plan)' },
      ),
    ),
    exitCode: Type.Integer({ minimum: 0, title: '0 ok; OR of 2 drift, 4 failed, 8 unreachable; 130 interrupted' }),
  },
  { additionalProperties: false, title: 'keel run report, version 1' },
);

export type Report = Static<typeof ReportSchema>;

/** A host's gathered facts appear once, under `facts`. */
function hostReport({ gathered, ...host }: HostSummary): Report['hosts'][number] {
  return gathered === undefined ? host : { ...host, facts: gathered as Facts };
}

export function toReport(summary: RunSummary, plan?: Report['plan']): Report {
  return { version: REPORT_VERSION, ...summary, hosts: summary.hosts.map(hostReport), ...(plan ? { plan } : {}) };
}
