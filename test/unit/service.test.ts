import { describe, expect, it } from 'vitest';
import { ResourceParamsError, Unknowable } from '../../src/engine/resource.js';
import { parseServiceRead, type ServiceState, service } from '../../src/resources/service.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

function read(name: string, unit = 'nginx'): ServiceState | Unknowable {
  return parseServiceRead(fixture('service', name), unit);
}

function known(name: string, unit = 'nginx'): ServiceState {
  const state = read(name, unit);
  if (state instanceof Unknowable) throw new Error(state.reason);
  return state;
}

function plan(params: Parameters<typeof service>[0], current: ServiceState) {
  return planChange(service(params), current);
}

describe('service: parsing systemctl show', () => {
  it('reads a running, enabled unit', () => {
    expect(known('systemd-running-enabled')).toEqual({
      init: 'systemd',
      running: true,
      enabled: true,
      activity: 'active/running',
      unitFileState: 'enabled',
    });
  });

  it('reads a stopped, disabled unit', () => {
    expect(known('systemd-stopped-disabled')).toMatchObject({
      running: false,
      enabled: false,
      activity: 'inactive/dead',
      unitFileState: 'disabled',
    });
  });

  it('reads static and masked units', () => {
    expect(known('systemd-static', 'systemd-journald')).toMatchObject({ enabled: false, unitFileState: 'static' });
    expect(known('systemd-masked')).toMatchObject({ running: false, enabled: false, unitFileState: 'masked' });
  });

  it('is unknowable while the unit does not exist, e.g. before its package is installed', () => {
    expect(read('systemd-not-found')).toEqual(new Unknowable('the unit nginx does not exist (is its package installed?)'));
  });

  it('refuses output it does not understand', () => {
    expect(() => parseServiceRead('init systemd\nFailed to connect to bus: No such file or directory\n', 'nginx')).toThrow(
      /unexpected systemctl output/,
    );
    expect(() => parseServiceRead('init systemd\n', 'nginx')).toThrow(/no LoadState/);
    expect(() => parseServiceRead('', 'nginx')).toThrow(/unexpected output/);
  });
});

describe('service: parsing sysvinit state', () => {
  it('reads the init script status and the start links of runlevels 2-5', () => {
    expect(known('sysv-stopped-enabled', 'ssh')).toEqual({
      init: 'sysv',
      running: false,
      enabled: true,
      activity: 'status exited 3',
      unitFileState: null,
    });
    expect(known('sysv-running-not-enabled', 'procps')).toMatchObject({ running: true, enabled: false });
  });

  it('is unknowable without an init script', () => {
    expect(read('sysv-missing', 'nginx.service')).toEqual(new Unknowable('no init script /etc/init.d/nginx (is its package installed?)'));
  });
});

describe('service: diff and apply with systemd', () => {
  it('starts and enables what is stopped and disabled', () => {
    expect(plan({ name: 'nginx', running: true, enabled: true }, known('systemd-stopped-disabled'))).toEqual({
      changes: [
        { field: 'running', from: false, to: true },
        { field: 'enabled', from: false, to: true },
      ],
      steps: ['systemctl enable -- nginx', 'systemctl start -- nginx'],
    });
  });

  it('changes only the field that differs, and nothing it is not told about', () => {
    expect(plan({ name: 'nginx', running: false }, known('systemd-running-enabled')).steps).toEqual(['systemctl stop -- nginx']);
    expect(plan({ name: 'nginx' }, known('systemd-running-enabled')).changes).toEqual([]);
  });

  it('explains that a static unit cannot be enabled', () => {
    expect(() => plan({ name: 'systemd-journald', enabled: true }, known('systemd-static', 'systemd-journald'))).toThrow(
      /is static: keel cannot enable it/,
    );
    expect(plan({ name: 'systemd-journald', enabled: false, running: true }, known('systemd-static', 'systemd-journald')).changes).toEqual(
      [],
    );
  });

  it('restarts and reloads through systemd, or the init script without it', () => {
    const nginx = service({ name: 'nginx', running: true });
    expect(nginx.on('reload')).toMatchObject({ action: 'reload' });
    expect(nginx.definition.actions!.reload!(nginx.params)[0]!.text).toBe(
      'if [ -d /run/systemd/system ]; then systemctl reload -- nginx; else /etc/init.d/nginx reload; fi',
    );
    expect(nginx.definition.actions!.restart!(nginx.params)[0]!.text).toContain('systemctl restart -- nginx');
    expect(() => nginx.on('stop')).toThrow(/has no action "stop"/);
  });
});

describe('service: diff and apply with sysvinit', () => {
  it('uses the init script and update-rc.d', () => {
    expect(plan({ name: 'ssh', running: true, enabled: false }, known('sysv-stopped-enabled', 'ssh')).steps).toEqual([
      'update-rc.d ssh disable',
      '/etc/init.d/ssh start',
    ]);
    expect(plan({ name: 'procps.service', enabled: true }, known('sysv-running-not-enabled', 'procps')).steps).toEqual([
      'update-rc.d procps defaults',
      'update-rc.d procps enable',
    ]);
  });
});

describe('service: parameters', () => {
  it('rejects hostile names in the schema', () => {
    for (const name of ['nginx; touch /tmp/canary', '$(touch /tmp/canary)', '`id`', "nginx'", 'nginx\n', '../../bin/sh', 'a b', '']) {
      expect(() => service({ name, running: true })).toThrow(ResourceParamsError);
    }
  });

  it('quotes the names it accepts', () => {
    const escaped = service({ name: 'dev-disk-by\\x2dlabel.swap' });
    expect(escaped.definition.read(escaped.params).command.text).toContain(
      "systemctl show -p LoadState,ActiveState,SubState,UnitFileState -- 'dev-disk-by\\x2dlabel.swap'",
    );
  });
});
