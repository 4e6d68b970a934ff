/**
 * A service: running or stopped, enabled at boot or not, through systemd; on hosts that do not boot with
 * systemd (no /run/systemd/system), through the init script in /etc/init.d and Debian's update-rc.d.
 * A unit that does not exist yet (its package is not installed) is unknowable, so plan reports it pending.
 * `restart` and `reload` are actions for handlers: `notify: nginx.on('reload')`.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, diffFields, Unknowable } from '../engine/resource.js';
import { UnitName } from '../schema/index.js';
import { type ShellCommand, sh } from '../shell/index.js';

const ServiceParams = Type.Object(
  {
    /** A unit (`nginx`, `nginx.service`); on sysvinit hosts, the init script's name (`.service` is dropped). */
    name: UnitName,
    running: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface ServiceState {
  init: 'systemd' | 'sysv';
  running: boolean;
  /** Starts at boot (systemd: UnitFileState `enabled`; sysv: an S link in runlevels 2–5). */
  enabled: boolean;
  /** In words, for reports: `active/running`, `inactive/dead`; sysv: `status exited 3`. */
  activity: string;
  /** systemd's UnitFileState (`enabled`, `disabled`, `static`, `masked` …); null on sysv. */
  unitFileState: string | null;
}

const RUNNING_STATES = new Set(['active', 'reloading']);
/** Units whose enablement keel cannot change or see: no [Install] section, made at run time, or generated from an init script. */
const NOT_ENABLEABLE = new Set(['static', 'transient', 'generated', 'indirect']);

function initScriptName(name: string): string {
  return name.replace(/\.service$/, '');
}

function initScript(name: string): string {
  return `/etc/init.d/${initScriptName(name)}`;
}

/** `systemctl show -p LoadState,ActiveState,SubState,UnitFileState UNIT`. */
export function parseSystemctlShow(output: string, name: string): ServiceState | Unknowable {
  const properties = new Map<string, string>();
  for (const line of output.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) properties.set(line.slice(0, equals), line.slice(equals + 1));
    else if (line !== '') throw new Error(`unexpected systemctl output: ${JSON.stringify(line.slice(0, 80))}`);
  }
  const load = properties.get('LoadState');
  const active = properties.get('ActiveState');
  if (load === undefined || active === undefined) throw new Error(`systemctl show printed no LoadState/ActiveState for ${name}`);
  if (load === 'not-found') return new Unknowable(`the unit ${name} does not exist (is its package installed?)`);
  if (load !== 'loaded' && load !== 'masked')
    throw new Error(`the unit ${name} could not be loaded (LoadState=${load}); see systemctl status ${name}`);
  const unitFileState = properties.get('UnitFileState') || null;
  return {
    init: 'systemd',
    running: RUNNING_STATES.has(active),
    enabled: unitFileState === 'enabled',
    activity: `${active}/${properties.get('SubState') ?? '?'}`,
    unitFileState,
  };
}

/** The sysv part: `status N` (the init script's exit code: 0 is running) and one `start-link PATH` per S link. */
export function parseSysvRead(lines: readonly string[]): ServiceState {
  const status = /^status (\d+)$/.exec(lines[0] ?? '');
  if (!status) throw new Error(`unexpected init script status output: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const links = lines.slice(1).filter((line) => line !== '');
  for (const link of links)
    if (!link.startsWith('start-link /etc/rc')) throw new Error(`unexpected output: ${JSON.stringify(link.slice(0, 80))}`);
  return {
    init: 'sysv',
    running: status[1] === '0',
    enabled: links.length > 0,
    activity: `status exited ${status[1]}`,
    unitFileState: null,
  };
}

export function parseServiceRead(stdout: string, name: string): ServiceState | Unknowable {
  const [head, ...rest] = stdout.split('\n');
  if (head === 'init systemd') return parseSystemctlShow(rest.join('\n'), name);
  if (head === 'init sysv') return parseSysvRead(rest);
  if (head === 'init sysv-missing') return new Unknowable(`no init script ${initScript(name)} (is its package installed?)`);
  throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
}

function wanted(params: { running?: boolean; enabled?: boolean }): Partial<ServiceState> {
  return { running: params.running, enabled: params.enabled };
}

/** A command that works whichever init the host boots with, for handlers (which see no read state). */
function lifecycle(name: string, verb: 'restart' | 'reload'): ShellCommand {
  return sh`if [ -d /run/systemd/system ]; then systemctl ${verb} -- ${name}; else ${initScript(name)} ${verb}; fi`;
}

export const service = defineResource({
  type: 'service',
  schema: ServiceParams,
  key: (params) => params.name,
  read(params) {
    const script = initScript(params.name);
    return {
      command: sh`if [ -d /run/systemd/system ]; then
  echo 'init systemd'
  systemctl show -p LoadState,ActiveState,SubState,UnitFileState -- ${params.name}
elif [ -x ${script} ]; then
  echo 'init sysv'
  ${script} status >/dev/null 2>&1; echo "status $?"
  for link in /etc/rc[2345].d/S[0-9][0-9]${initScriptName(params.name)}; do [ -e "$link" ] && echo "start-link $link"; done
else
  echo 'init sysv-missing'
fi
exit 0`,
      parse: ({ stdout }) => parseServiceRead(stdout, params.name),
    };
  },
  desired: wanted,
  diff(params, current) {
    if (params.enabled === true && current.unitFileState !== null && NOT_ENABLEABLE.has(current.unitFileState)) {
      throw new Error(`the unit ${params.name} is ${current.unitFileState}: keel cannot enable it; leave "enabled" unset`);
    }
    return diffFields(wanted(params), current);
  },
  apply(params, current, changes) {
    const changed = new Set(changes.map((change) => change.field));
    const steps: ShellCommand[] = [];
    if (current.init === 'systemd') {
      if (changed.has('enabled')) steps.push(sh`systemctl ${params.enabled ? 'enable' : 'disable'} -- ${params.name}`);
      if (changed.has('running')) steps.push(sh`systemctl ${params.running ? 'start' : 'stop'} -- ${params.name}`);
      return steps;
    }
    const name = initScriptName(params.name);
    if (changed.has('enabled')) {
      steps.push(
        ...(params.enabled ? [sh`update-rc.d ${name} defaults`, sh`update-rc.d ${name} enable`] : [sh`update-rc.d ${name} disable`]),
      );
    }
    if (changed.has('running')) steps.push(sh`${initScript(name)} ${params.running ? 'start' : 'stop'}`);
    return steps;
  },
  actions: {
    restart: (params) => [lifecycle(params.name, 'restart')],
    reload: (params) => [lifecycle(params.name, 'reload')],
  },
});
