import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type EngineEvent, exitCodeOf } from '../../src/engine/events.js';
import { LEASE_RENEWAL_MS, STATE_DIRECTORY } from '../../src/engine/hostLock.js';
import { defineResource, type ResourceInstance } from '../../src/engine/resource.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import { Secret, sh } from '../../src/shell/index.js';
import { runOnce } from '../../src/testing.js';
import { LocalTransport } from '../../src/transport/local.js';
import { recording } from '../support/recordingTransport.js';
import { valueFile } from '../support/valueFile.js';

let directory: string;
let transport: LocalTransport;
const path = (name: string): string => join(directory, name);

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'keel-engine-'));
  transport = new LocalTransport('box');
});

describe('plan and check', () => {
  it('read every resource of a host in one invocation and change nothing', async () => {
    const resources = [valueFile({ path: path('a'), value: 'one' }), valueFile({ path: path('b'), value: 'two' })];
    const host = await runOnce('plan', resources, transport);
    expect(host.execs.read).toBe(1);
    expect(transport.execCount).toBe(1);
    expect(host.resources.map((r) => [r.id, r.outcome])).toEqual([
      [`valueFile[${path('a')}]`, 'drifted'],
      [`valueFile[${path('b')}]`, 'drifted'],
    ]);
    expect(host.resources[0]!.changes).toEqual([{ field: 'value', from: null, to: 'one' }]);
    expect(existsSync(path('a'))).toBe(false);
  });

  it('never reach an apply command, even for resources whose apply would fail', async () => {
    const spy = recording(transport);
    const resources = [valueFile({ path: path('a'), value: 'x', behaviour: 'fail' }), valueFile({ path: path('b'), value: 'y' })];
    await runOnce('check', resources, spy);
    expect(spy.scripts).toHaveLength(1);
    expect(spy.scripts[0]).not.toContain('disk full on purpose');
    expect(spy.scripts[0]).not.toContain("printf '%s' y >");
  });

  it('report a resource that cannot be known yet as pending on the earlier change', async () => {
    const installer = valueFile({ path: path('package'), value: 'installed' });
    const unit = valueFile({ path: path('unit'), value: 'running', needs: path('package') });
    const host = await runOnce('plan', [installer, unit], transport);
    expect(host.resources[1]).toMatchObject({ outcome: 'pending', pendingOn: [installer.id] });
    expect(host.outcome).toBe('ok');
  });

  it('fail a resource that cannot be known when nothing before it changes', async () => {
    const unit = valueFile({ path: path('unit'), value: 'running', needs: path('missing') });
    const host = await runOnce('plan', [unit], transport);
    expect(host.resources[0]).toMatchObject({ outcome: 'failed', error: { phase: 'read' } });
    expect(host.resources[0]!.error!.message).toContain('does not exist');
  });
});

describe('apply', () => {
  it('changes only what differs, verifies, and is idempotent', async () => {
    writeFileSync(path('b'), 'two');
    const resources = [valueFile({ path: path('a'), value: 'one' }), valueFile({ path: path('b'), value: 'two' })];
    const first = await runOnce('apply', resources, transport);
    expect(first.resources.map((r) => r.outcome)).toEqual(['changed', 'unchanged']);
    expect(readFileSync(path('a'), 'utf8')).toBe('one');
    const again = await runOnce('plan', resources, transport);
    expect(again.resources.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
  });

  it('fails a resource whose apply "succeeds" without changing the host', async () => {
    const liar = valueFile({ path: path('a'), value: 'one', behaviour: 'noop' });
    const host = await runOnce('apply', [liar], transport);
    expect(host.resources[0]).toMatchObject({ outcome: 'failed', error: { phase: 'verify' } });
    expect(host.resources[0]!.error!.message).toMatch(/still differs: value: null → "one"/);
    expect(host.outcome).toBe('failed');
  });

  it('names the failing command, its exit code and stderr, and skips what follows on that host', async () => {
    const resources = [valueFile({ path: path('a'), value: 'x', behaviour: 'fail' }), valueFile({ path: path('b'), value: 'y' })];
    const host = await runOnce('apply', resources, transport);
    expect(host.resources[0]).toMatchObject({ outcome: 'failed', error: { phase: 'apply', exitCode: 3, stderr: 'disk full on purpose' } });
    expect(host.resources[0]!.error!.command).toContain('disk full on purpose');
    expect(host.resources[1]!.outcome).toBe('skipped');
    expect(existsSync(path('b'))).toBe(false);
  });

  it('applies a pending resource once the resource it waited on has changed', async () => {
    const installer = valueFile({ path: path('package'), value: 'installed' });
    const unit = valueFile({ path: path('unit'), value: 'running', needs: path('package') });
    const host = await runOnce('apply', [installer, unit], transport);
    expect(host.resources.map((r) => r.outcome)).toEqual(['changed', 'changed']);
  });
});

describe('handlers', () => {
  it('run once at the end of the host, however many resources notify them', async () => {
    const service = valueFile({ path: path('svc'), value: 'on' });
    const resources: ResourceInstance[] = [
      valueFile({ path: path('c1'), value: '1' }, { notify: service.on('restart') }),
      valueFile({ path: path('c2'), value: '2' }, { notify: service.on('restart') }),
      service,
    ];
    const host = await runOnce('apply', resources, transport);
    expect(host.handlers).toMatchObject([{ id: service.id, action: 'restart', outcome: 'ran' }]);
    expect(readFileSync(path('svc.restarts'), 'utf8')).toBe('restarted\n');
    const quiet = await runOnce('apply', resources, transport);
    expect(quiet.handlers).toEqual([]);
  });

  it('still run when a later resource fails, and a plan shows them as would-run', async () => {
    const service = valueFile({ path: path('svc'), value: 'on' });
    const resources: ResourceInstance[] = [
      valueFile({ path: path('conf'), value: 'v2' }, { notify: service.on('restart') }),
      valueFile({ path: path('broken'), value: 'x', behaviour: 'fail' }),
      service,
    ];
    const plan = await runOnce('plan', resources, transport);
    expect(plan.handlers).toMatchObject([{ outcome: 'would-run' }]);
    const host = await runOnce('apply', resources, transport);
    expect(host.resources.map((r) => r.outcome)).toEqual(['changed', 'failed', 'skipped']);
    expect(host.handlers).toMatchObject([{ id: service.id, outcome: 'ran' }]);
  });

  it('keep a notification owed across runs until the handler has run', async () => {
    const flaky = path('flaky');
    const service = valueFile({ path: path('svc'), value: 'on' });
    const restartable = { ...service, definition: { ...service.definition, actions: { restart: () => [sh`test -e ${flaky}`] } } };
    const conf = valueFile({ path: path('conf'), value: 'v2' }, { notify: { resource: restartable, action: 'restart' } });
    const first = await runOnce('apply', [conf, restartable], transport);
    expect(first.handlers).toMatchObject([{ outcome: 'failed' }]);
    for (const mode of ['plan', 'check'] as const) {
      const plan = await runOnce(mode, [conf, restartable], transport);
      expect(plan.resources.every((r) => r.outcome === 'unchanged')).toBe(true);
      expect(plan.handlers).toMatchObject([{ outcome: 'would-run' }]);
      // Work owed is a pending change, though every resource is in sync.
      expect(exitCodeOf([plan], false), mode).toBe(2);
    }
    writeFileSync(flaky, '');
    const second = await runOnce('apply', [conf, restartable], transport);
    expect(second.handlers).toMatchObject([{ outcome: 'ran' }]);
    const third = await runOnce('plan', [conf, restartable], transport);
    expect(third.handlers).toEqual([]);
  });
});

describe('the apply lease', () => {
  it('is taken over for owed handlers alone when a run on this machine died holding it', async () => {
    const flaky = path('flaky');
    const service = valueFile({ path: path('svc'), value: 'on' });
    const restartable = { ...service, definition: { ...service.definition, actions: { restart: () => [sh`test -e ${flaky}`] } } };
    const conf = valueFile({ path: path('conf'), value: 'v2' }, { notify: { resource: restartable, action: 'restart' } });
    expect((await runOnce('apply', [conf, restartable], transport)).handlers).toMatchObject([{ outcome: 'failed' }]);

    const dead = spawnSync('true').pid;
    const expires = Math.floor(Date.now() / 1000) + 600;
    writeFileSync(join(STATE_DIRECTORY, 'apply.lease'), `deadbeef ${expires} ${userInfo().username}@${hostname()} pid ${dead}\n`);
    writeFileSync(flaky, '');
    const next = await runOnce('apply', [conf, restartable], transport);
    expect(next.resources.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(next.handlers).toMatchObject([{ id: restartable.id, outcome: 'ran' }]);
    expect(existsSync(join(STATE_DIRECTORY, 'apply.lease'))).toBe(false);
  });
});

/** Applies `resources` to one host and gives the names of each invocation's sections, in the order sent. */
async function batchesOf(resources: ResourceInstance[], seen: (event: EngineEvent) => void = () => undefined): Promise<string[][]> {
  const starts: string[][] = [];
  await run({
    mode: 'apply',
    recipes: ['t'],
    forks: 1,
    timeouts: DEFAULT_TIMEOUTS,
    trace: 'commands',
    emit: (event) => {
      if (event.type === 'invocation-start') starts.push(event.sections.map((section) => section.name));
      seen(event);
    },
    hosts: [{ name: 'box', resources, connect: async () => transport }],
  });
  return starts;
}

describe('the apply lease, dropped', () => {
  it('goes with the last change when nothing runs after it, and after the handlers when one is owed', async () => {
    const alone = await batchesOf([valueFile({ path: path('last-a'), value: 'x' }), valueFile({ path: path('last-b'), value: 'y' })]);
    expect(alone.map((sections) => sections.includes('drop the apply lease'))).toEqual([false, false, true]);
    expect(alone.at(-1)!.indexOf('drop the apply lease')).toBe(alone.at(-1)!.length - 1);
    expect(existsSync(join(STATE_DIRECTORY, 'apply.lease'))).toBe(false);

    const service = valueFile({ path: path('last-svc'), value: 'on' });
    const owing = await batchesOf([valueFile({ path: path('last-conf'), value: 'v2' }, { notify: service.on('restart') }), service]);
    expect(owing.at(-1)).toEqual(['drop the apply lease']);
    expect(owing.at(-2)).toEqual([`handler valueFile[${path('last-svc')}] restart`]);
    expect(owing.slice(0, -1).flat()).not.toContain('drop the apply lease');
    expect(existsSync(join(STATE_DIRECTORY, 'apply.lease'))).toBe(false);
  });
});

describe('the apply lease, renewed', () => {
  it('is taken with the first change, then renewed only once its renewal interval has passed', async () => {
    const resources = ['a', 'b', 'c'].map((name) => valueFile({ path: path(name), value: 'new' }));
    const realNow = Date.now.bind(Date);
    let skew = 0;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
    let starts: string[][];
    try {
      starts = await batchesOf(resources, (event) => {
        if (event.type === 'resource-result' && event.result.id === resources[1]!.id) skew += LEASE_RENEWAL_MS;
      });
    } finally {
      clock.mockRestore();
    }
    const lease = starts.map((sections) => sections.includes('take the apply lease'));
    expect(starts.map((sections) => sections.find((name) => name.startsWith('apply ')) ?? sections[0])).toEqual([
      `read valueFile[${path('a')}]`,
      `apply valueFile[${path('a')}] step 1`,
      `apply valueFile[${path('b')}] step 1`,
      `apply valueFile[${path('c')}] step 1`,
    ]);
    expect(lease).toEqual([false, true, false, true]);
    expect(starts.map((sections) => sections.includes('drop the apply lease'))).toEqual([false, false, false, true]);
    expect(resources.map((resource) => readFileSync(resource.params.path, 'utf8'))).toEqual(['new', 'new', 'new']);
  });
});

describe('resources left out of the run (--tags)', () => {
  const runLeavingOut = (mode: 'plan' | 'apply', resources: ResourceInstance[], leftOut: string[]) =>
    run({
      mode,
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      emit: () => undefined,
      hosts: [{ name: 'box', resources, leftOut, connect: async () => transport }],
    });

  it('are neither read nor changed, and a handler of one does not run: its notification stays owed', async () => {
    const service = valueFile({ path: path('svc'), value: 'on' });
    const conf = valueFile({ path: path('conf'), value: 'v2' }, { notify: service.on('restart') });
    const plan = await runLeavingOut('plan', [conf], [service.id]);
    expect(plan.hosts[0]!.handlers).toMatchObject([{ id: service.id, outcome: 'left-out' }]);
    const apply = await runLeavingOut('apply', [conf], [service.id]);
    expect(apply.hosts[0]).toMatchObject({ leftOut: [service.id], handlers: [{ id: service.id, action: 'restart', outcome: 'left-out' }] });
    expect(apply.hosts[0]!.resources.map((r) => [r.id, r.outcome])).toEqual([[conf.id, 'changed']]);
    expect(apply.exitCode).toBe(0);
    expect(existsSync(path('svc'))).toBe(false);
    expect(existsSync(path('svc.restarts'))).toBe(false);
    const whole = await runOnce('apply', [conf, service], transport);
    expect(whole.handlers).toMatchObject([{ id: service.id, outcome: 'ran' }]);
    expect(readFileSync(path('svc.restarts'), 'utf8')).toBe('restarted\n');
  });

  it('leave a host with nothing else to do uncontacted', async () => {
    let connects = 0;
    const summary = await run({
      mode: 'apply',
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      emit: () => undefined,
      hosts: [
        {
          name: 'box',
          resources: [],
          leftOut: ['valueFile[x]'],
          connect: async () => {
            connects += 1;
            return transport;
          },
        },
      ],
    });
    expect(connects).toBe(0);
    expect(summary.hosts[0]).toMatchObject({ outcome: 'ok', leftOut: ['valueFile[x]'], execs: { total: 0, read: 0 } });
  });
});

describe('a traced run (-v, -vv)', () => {
  const traced = async (trace: 'commands' | 'output' | undefined, secrets: Secret[] = []) => {
    writeFileSync(path('a'), 'the password is hunter2');
    const events: EngineEvent[] = [];
    await run({
      mode: 'apply',
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      emit: (event) => events.push(event),
      ...(trace ? { trace } : {}),
      hosts: [{ name: 'box', resources: [valueFile({ path: path('a'), value: 'new' })], secrets, connect: async () => transport }],
    });
    return events.filter((event) => event.type === 'invocation-start' || event.type === 'invocation-end');
  };

  it('tells of every invocation: the read, then the change with its re-read and, as nothing follows it, the lease dropped', async () => {
    const events = await traced('commands');
    const starts = events.flatMap((event) => (event.type === 'invocation-start' ? [event.sections.map((section) => section.name)] : []));
    expect(starts).toEqual([
      [`read valueFile[${path('a')}]`],
      ['take the apply lease', `apply valueFile[${path('a')}] step 1`, `read valueFile[${path('a')}]`, 'drop the apply lease'],
    ]);
    const firstStart = events[0]!;
    expect(firstStart.type === 'invocation-start' && firstStart.sections[0]!.command).toBe(
      `cat ${path('a')} 2>/dev/null || printf '%s' '<absent>'`,
    );
    expect(events.filter((event) => event.type === 'invocation-end')).toHaveLength(2);
    expect(events.every((event) => event.type !== 'invocation-end' || (event.code === 0 && event.outputs === undefined))).toBe(true);
  });

  it('hands on outputs only when asked, redacted of the host’s secrets', async () => {
    const events = await traced('output', [new Secret('hunter2')]);
    const end = events[1]!;
    expect(end.type === 'invocation-end' && end.outputs).toEqual([
      { name: `read valueFile[${path('a')}]`, code: 0, stdout: 'the password is [redacted]', stderr: '' },
    ]);
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });

  it('emits nothing of the kind untraced', async () => {
    expect(await traced(undefined)).toEqual([]);
  });
});

describe('the fleet', () => {
  it('emits events in order and ORs exit codes: drift (2) on one host, unreachable (8) on another', async () => {
    const events: EngineEvent[] = [];
    const summary = await run({
      mode: 'check',
      recipes: ['t'],
      forks: 4,
      timeouts: DEFAULT_TIMEOUTS,
      emit: (event) => events.push(event),
      hosts: [
        { name: 'good', resources: [valueFile({ path: path('g'), value: '1' })], connect: async () => new LocalTransport('good') },
        {
          name: 'gone',
          resources: [valueFile({ path: path('h'), value: '1' })],
          connect: async () => {
            throw new Error('gone (10.0.0.9:22): connect timed out after 10 s');
          },
        },
      ],
    });
    expect(summary.exitCode).toBe(2 | 8);
    expect(summary.hosts.map((h) => h.outcome)).toEqual(['ok', 'unreachable']);
    expect(summary.hosts[1]!.error).toContain('connect timed out');
    expect(events[0]!.type).toBe('run-start');
    expect(events.at(-1)!.type).toBe('run-end');
    expect(events.filter((e) => e.type === 'host-end')).toHaveLength(2);
  });

  it('starts no new change once interrupted and exits 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const summary = await run({
      mode: 'apply',
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      emit: () => undefined,
      signal: controller.signal,
      hosts: [{ name: 'box', resources: [valueFile({ path: path('a'), value: '1' })], connect: async () => transport }],
    });
    expect(summary.exitCode).toBe(130);
    expect(existsSync(path('a'))).toBe(false);
  });
});

describe('settle steps', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'keel-settle-')), 'log');
  const settled = defineResource({
    type: 'settledValue',
    schema: Type.Object({ path: Type.String(), value: Type.String() }, { additionalProperties: false }),
    key: (params) => params.path,
    read: (params) => ({
      command: sh`cat ${params.path} 2>/dev/null || printf '%s' '<absent>'`,
      parse: ({ stdout }) => ({ value: stdout === '<absent>' ? null : stdout }),
    }),
    desired: (params) => ({ value: params.value }),
    apply: (params) => [sh`printf '%s' ${params.value} > ${params.path}; echo ${`write ${params.value}`} >> ${log}`],
    settle: { name: 'reload', commands: [sh`echo reload >> ${log}`] },
  });

  it('run once for several changes, before a change that requires one, else before the handlers', async () => {
    const a = settled({ path: path('a'), value: 'a' });
    const b = settled({ path: path('b'), value: 'b' });
    const c = settled({ path: path('c'), value: 'c' }, { requires: b });
    const host = await runOnce('apply', [a, b, c], transport);
    expect(readFileSync(log, 'utf8')).toBe('write a\nwrite b\nreload\nwrite c\nreload\n');
    expect(host.handlers).toMatchObject([{ id: c.id, action: 'reload', outcome: 'ran' }]);
    const again = await runOnce('apply', [a, b, c], transport);
    expect(again.handlers).toEqual([]);
    expect(readFileSync(log, 'utf8')).toBe('write a\nwrite b\nreload\nwrite c\nreload\n');
  });
});
