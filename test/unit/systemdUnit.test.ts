import { describe, expect, it } from 'vitest';
import { parseUnitRead, type SystemdUnitState, systemdUnit } from '../../src/resources/systemdUnit.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

const PROBE = '[Unit]\nDescription=keel probe\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n';

function state(name: string): SystemdUnitState {
  return parseUnitRead(fixture('systemdUnit', name));
}

describe('systemdUnit: parsing the read output', () => {
  it('reads a unit file, a drop-in, a missing unit and a masked one', () => {
    expect(state('unit')).toEqual({ content: PROBE, link: null });
    expect(state('drop-in')).toEqual({ content: '[Service]\nLimitNOFILE=65536\n', link: null });
    expect(state('absent')).toEqual({ content: null, link: null });
    expect(state('masked')).toEqual({ content: null, link: '/dev/null' });
  });

  it('refuses output it does not understand', () => {
    expect(() => parseUnitRead('directory\n')).toThrow(/unexpected output/);
  });
});

describe('systemdUnit: diff and apply', () => {
  it('is in sync when the file holds the content', () => {
    expect(planChange(systemdUnit({ name: 'keel-probe.service', content: PROBE }), state('unit')).changes).toEqual([]);
  });

  it('shows a content change as a unified diff and writes the file atomically', () => {
    const changed = PROBE.replace('sleep infinity', 'sleep 3600');
    const { changes, steps } = planChange(systemdUnit({ name: 'keel-probe.service', content: changed }), state('unit'));
    expect(changes.map((change) => change.field)).toEqual(['content']);
    expect(changes[0]!.patch).toContain('-ExecStart=/bin/sleep infinity\n+ExecStart=/bin/sleep 3600');
    expect(steps).toHaveLength(1);
    expect(steps[0]).toContain('/etc/systemd/system/keel-probe.service');
  });

  it('writes a drop-in into NAME.d, creating it', () => {
    const dropIn = systemdUnit({ name: 'ssh.service', dropIn: '20-keel', content: '[Service]\nNice=5\n' });
    expect(dropIn.id).toBe('systemdUnit[ssh.service.d/20-keel]');
    const { steps } = planChange(dropIn, state('absent'));
    expect(steps[0]).toBe('[ -d /etc/systemd/system/ssh.service.d ] || mkdir -p -- /etc/systemd/system/ssh.service.d');
    expect(steps[1]).toContain('/etc/systemd/system/ssh.service.d/20-keel.conf');
  });

  it('replaces a mask, saying so', () => {
    const { changes } = planChange(systemdUnit({ name: 'apt-daily.timer', content: '[Timer]\nOnCalendar=daily\n' }), state('masked'));
    expect(changes.map((change) => [change.field, change.from, change.to])).toEqual([
      ['link', '/dev/null', null],
      ['content', null, '[Timer]\nOnCalendar=daily\n'],
    ]);
  });

  it('removes the file with state absent', () => {
    expect(planChange(systemdUnit({ name: 'keel-probe.service', state: 'absent' }), state('unit')).steps).toEqual([
      'rm -f -- /etc/systemd/system/keel-probe.service',
    ]);
  });

  it('needs content unless absent, and owes one daemon-reload per host', () => {
    expect(() => systemdUnit({ name: 'keel-probe.service' })).toThrow(/content is required unless state is "absent"/);
    expect(systemdUnit.definition.settle!.commands.map((command) => command.text)).toEqual(['systemctl daemon-reload']);
  });
});
