/**
 * The service resource against real hosts over SSH: pending until its package is installed, a stop and a
 * disable by hand seen exactly, reload as a handler; with systemd, and with init scripts on a host without it.
 */
import { describe, expect, it } from 'vitest';
import { file } from '../../src/resources/file.js';
import { pkg } from '../../src/resources/package.js';
import { service } from '../../src/resources/service.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const nginxPackage = pkg({ name: 'nginx' });
const nginx = service({ name: 'nginx', running: true, enabled: true }, { requires: nginxPackage });

describe('service on a host with systemd', () => {
  const host = useLabHost('res-service');

  it('is pending on its package, then runs; a stop by hand is seen and repaired', async () => {
    const { transport, sh } = host();
    const report = await testResource([nginxPackage, nginx], transport, { drift: async () => void (await sh('systemctl stop nginx')) });
    expect(report.firstPlan[1]).toMatchObject({ outcome: 'pending', pendingOn: ['package[nginx]'] });
    expect(report.driftPlan.map((result) => result.outcome)).toEqual(['unchanged', 'drifted']);
    expect(report.driftPlan[1]!.changes).toEqual([{ field: 'running', from: false, to: true }]);
    expect(await sh('systemctl is-active nginx')).toBe('active\n');
  });

  it('sees a disable by hand and enables again', async () => {
    const { transport, sh } = host();
    await sh('systemctl disable nginx');
    expect((await runOnce('plan', [nginx], transport)).resources[0]!.changes).toEqual([{ field: 'enabled', from: false, to: true }]);
    expect((await runOnce('apply', [nginx], transport)).resources[0]!.outcome).toBe('changed');
    expect(await sh('systemctl is-enabled nginx')).toBe('enabled\n');
  });

  it('reloads when a configuration file it watches changes, keeping the same main process', async () => {
    const { transport, sh } = host();
    const mainPid = await sh('systemctl show -p MainPID --value nginx');
    const config = file({ path: '/etc/nginx/conf.d/keel.conf', content: 'server_tokens off;\n' }, { notify: nginx.on('reload') });
    const result = await runOnce('apply', [nginx, config], transport);
    expect(result.resources.map((resource) => resource.outcome)).toEqual(['unchanged', 'changed']);
    expect(result.handlers).toMatchObject([{ id: 'service[nginx]', action: 'reload', outcome: 'ran' }]);
    expect(await sh('systemctl show -p MainPID --value nginx')).toBe(mainPid);
  });
});

describe('service on a host without systemd (init scripts and update-rc.d)', () => {
  const host = useLabHost('res-service-sysv', 'light');

  it('is pending on its package, then runs; a stop by hand is seen and repaired', async () => {
    const { transport, sh } = host();
    const report = await testResource([nginxPackage, nginx], transport, { drift: async () => void (await sh('/etc/init.d/nginx stop')) });
    expect(report.firstPlan[1]).toMatchObject({ outcome: 'pending', pendingOn: ['package[nginx]'] });
    expect(report.driftPlan[1]!.changes).toEqual([{ field: 'running', from: false, to: true }]);
    expect((await runOnce('plan', [nginx], transport)).resources[0]!.actual).toMatchObject({ init: 'sysv', running: true, enabled: true });
  });

  it('sees a disable by hand and enables again', async () => {
    const { transport, sh } = host();
    await sh('update-rc.d nginx disable');
    expect((await runOnce('plan', [nginx], transport)).resources[0]!.changes).toEqual([{ field: 'enabled', from: false, to: true }]);
    expect((await runOnce('apply', [nginx], transport)).resources[0]!.outcome).toBe('changed');
    expect(await sh('ls /etc/rc2.d')).toMatch(/^S\d\dnginx$/m);
  });
});
