/**
 * systemdUnit against a real systemd over SSH: a unit written and started through `service`, with the one
 * daemon-reload per host run before the start; a hand edit repaired; a drop-in; removal.
 */
import { describe, expect, it } from 'vitest';
import { service } from '../../src/resources/service.js';
import { systemdUnit } from '../../src/resources/systemdUnit.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-systemd-unit');

const unitText = (seconds: string) =>
  `[Unit]\nDescription=keel probe\n\n[Service]\nExecStart=/bin/sleep ${seconds}\n\n[Install]\nWantedBy=multi-user.target\n`;

describe('systemdUnit on a real host', () => {
  it('reloads systemd before a service that requires the unit starts, and after a hand edit is repaired', async () => {
    const { transport, sh } = host();
    const unit = systemdUnit({ name: 'keel-probe.service', content: unitText('infinity') });
    const probe = service({ name: 'keel-probe.service', running: true, enabled: true }, { requires: unit });
    const report = await testResource([unit, probe], transport, {
      drift: async () => void (await sh(`sed -i 's/sleep infinity/sleep 3600/' /etc/systemd/system/keel-probe.service`)),
    });
    expect(report.firstApply.map((result) => result.outcome)).toEqual(['changed', 'changed']);
    const drift = report.driftPlan.find((result) => result.id === 'systemdUnit[keel-probe.service]')!.changes;
    expect(drift[0]!.patch).toContain('-ExecStart=/bin/sleep 3600\n+ExecStart=/bin/sleep infinity');
    const shown = (await sh('systemctl show -p NeedDaemonReload -p ActiveState -p UnitFileState keel-probe.service')).split('\n');
    expect(shown.sort()).toEqual(['', 'ActiveState=active', 'NeedDaemonReload=no', 'UnitFileState=enabled']);

    await sh('systemctl stop keel-probe.service');
    const changed = systemdUnit({ name: 'keel-probe.service', content: unitText('7200') });
    const restarted = await runOnce(
      'apply',
      [changed, service({ name: 'keel-probe.service', running: true }, { requires: changed })],
      transport,
    );
    expect(restarted.resources.map((result) => result.outcome)).toEqual(['changed', 'changed']);
    expect(restarted.handlers).toEqual([]);
    expect(await sh('systemctl show -p MainPID --value keel-probe.service | xargs -I{} cat /proc/{}/cmdline | tr "\\0" " "')).toBe(
      '/bin/sleep 7200 ',
    );
  });

  it('runs daemon-reload once for several changed units, at the end when nothing requires them', async () => {
    const { transport, sh } = host();
    const units = [
      systemdUnit({ name: 'keel-probe.service', dropIn: '10-nice', content: '[Service]\nNice=5\n' }),
      systemdUnit({ name: 'keel-probe.timer', content: '[Timer]\nOnCalendar=daily\n' }),
    ];
    const applied = await runOnce('apply', units, transport);
    expect(applied.resources.map((result) => result.outcome)).toEqual(['changed', 'changed']);
    expect(applied.handlers.map((handler) => [handler.id, handler.action, handler.outcome])).toEqual([
      ['systemdUnit[keel-probe.timer]', 'daemon-reload', 'ran'],
    ]);
    expect(await sh('systemctl show -p NeedDaemonReload -p Nice keel-probe.service')).toBe('Nice=5\nNeedDaemonReload=no\n');
    expect((await runOnce('plan', units, transport)).resources.map((result) => result.outcome)).toEqual(['unchanged', 'unchanged']);
    const again = await runOnce('apply', units, transport);
    expect(again.handlers).toEqual([]);
  });

  it('removes a unit file with state absent', async () => {
    const { transport, sh } = host();
    await sh('systemctl disable --now keel-probe.service');
    const gone = [systemdUnit({ name: 'keel-probe.service', state: 'absent' }), systemdUnit({ name: 'keel-probe.timer', state: 'absent' })];
    expect((await runOnce('apply', gone, transport)).resources.map((result) => result.outcome)).toEqual(['changed', 'changed']);
    expect(await sh('ls /etc/systemd/system/keel-probe.service /etc/systemd/system/keel-probe.timer 2>&1 || true')).toContain(
      'No such file',
    );
    expect((await runOnce('plan', gone, transport)).resources.map((result) => result.outcome)).toEqual(['unchanged', 'unchanged']);
  });
});
