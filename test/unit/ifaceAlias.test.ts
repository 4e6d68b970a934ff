import { describe, expect, it } from 'vitest';
import { ResourceParamsError, Unknowable } from '../../src/engine/resource.js';
import {
  deviceUnit,
  diffIfaceAlias,
  type IfaceAliasState,
  ifaceAlias,
  parseIfaceAliasRead,
  parseIpAddrJson,
  unitContent,
} from '../../src/resources/ifaceAlias.js';
import { fixture } from '../support/fixtures.js';

const vipOnLo = { device: 'lo', address: '192.168.9.100', prefix: 32, label: 'lo:8' };
const vipOnEth0 = { device: 'eth0', address: '192.168.9.100', prefix: 24, label: 'eth0:0' };

/** The resource's read output around a captured `ip -j addr` output. */
function readOutput(ipJson: string, options: { promote?: string; enabled?: boolean; unit?: string | null } = {}): string {
  const unit = options.unit ?? null;
  return `${ipJson.trimEnd()}\n${options.promote ?? '0'}\n${options.enabled ? 'enabled' : 'disabled'}\n${unit === null ? 'no-unit\n' : `unit\n${unit}`}`;
}

function stateOf(params: Parameters<typeof ifaceAlias>[0], output: string): IfaceAliasState {
  const state = parseIfaceAliasRead(output, params);
  if (state instanceof Unknowable) throw new Error(state.reason);
  return state;
}

function applySteps(params: Parameters<typeof ifaceAlias>[0], state: IfaceAliasState): string[] {
  const instance = ifaceAlias(params);
  return instance.definition.apply(instance.params, state, diffIfaceAlias(instance.params, state)).map((step) => step.text);
}

describe('ifaceAlias: parsing ip -j addr', () => {
  it('reads this machine’s loopback: 127.0.0.1/8 labelled lo, ::1/128 without a label', () => {
    expect(parseIpAddrJson(fixture('ip-addr', 'host-lo'))).toEqual([
      { family: 'inet', local: '127.0.0.1', prefix: 8, label: 'lo', secondary: false },
      { family: 'inet6', local: '::1', prefix: 128, label: null, secondary: false },
    ]);
  });

  it('reads a device without addresses', () => {
    expect(parseIpAddrJson(fixture('ip-addr', 'bare-peer0'))).toEqual([]);
  });

  it('keeps the secondary flag and both prefixes of one address', () => {
    const entries = parseIpAddrJson(fixture('ip-addr', 'two-prefixes-eth0'));
    expect(entries.filter((e) => e.local === '192.168.9.100')).toEqual([
      { family: 'inet', local: '192.168.9.100', prefix: 32, label: 'eth0:1', secondary: false },
      { family: 'inet', local: '192.168.9.100', prefix: 24, label: 'eth0:0', secondary: true },
    ]);
    expect(entries.find((e) => e.family === 'inet6')).toMatchObject({ local: 'fd00:9::100', prefix: 64 });
  });

  it('reports a missing device as unknowable, and nonsense as an error', () => {
    expect(parseIfaceAliasRead('no-device\n', vipOnLo)).toBeInstanceOf(Unknowable);
    expect(() => parseIfaceAliasRead('Option "-j" is unknown\n', vipOnLo)).toThrow(/unexpected output/);
  });
});

describe('ifaceAlias: diff and apply', () => {
  it('is in sync on the real server’s lo:8 with its unit written and enabled', () => {
    const state = stateOf(vipOnLo, readOutput(fixture('ip-addr', 'realserver-lo'), { enabled: true, unit: unitContent(vipOnLo) }));
    expect(diffIfaceAlias(vipOnLo, state)).toEqual([]);
  });

  it('adds a missing VIP with its label, then writes and enables the boot unit', () => {
    const state = stateOf(vipOnLo, readOutput(fixture('ip-addr', 'host-lo')));
    expect(diffIfaceAlias(vipOnLo, state)).toEqual([
      { field: 'address', from: 'absent', to: 'present' },
      { field: 'persisted', from: 'no', to: 'yes' },
    ]);
    const steps = applySteps(vipOnLo, state);
    expect(steps[0]).toBe('ip addr add 192.168.9.100/32 dev lo label lo:8');
    expect(steps[1]).toContain('/etc/systemd/system/keel-addr-lo-192.168.9.100.service');
    expect(steps.slice(2)).toEqual([
      'if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi',
      'systemctl enable --quiet keel-addr-lo-192.168.9.100.service',
    ]);
  });

  it('shows live and persisted state separately: a present address whose unit is missing or disabled', () => {
    const missing = stateOf(vipOnLo, readOutput(fixture('ip-addr', 'realserver-lo')));
    expect(diffIfaceAlias(vipOnLo, missing)).toEqual([{ field: 'persisted', from: 'no', to: 'yes' }]);
    const disabled = stateOf(vipOnLo, readOutput(fixture('ip-addr', 'realserver-lo'), { unit: unitContent(vipOnLo) }));
    expect(diffIfaceAlias(vipOnLo, disabled)).toEqual([{ field: 'persisted', from: 'disabled', to: 'yes' }]);
    expect(applySteps(vipOnLo, disabled)).toEqual(['systemctl enable --quiet keel-addr-lo-192.168.9.100.service']);
    const outdated = stateOf(
      vipOnLo,
      readOutput(fixture('ip-addr', 'realserver-lo'), { enabled: true, unit: unitContent({ ...vipOnLo, label: 'lo:9' }) }),
    );
    expect(diffIfaceAlias(vipOnLo, outdated)).toEqual([{ field: 'persisted', from: 'outdated', to: 'yes' }]);
  });

  it('relabels by deleting and re-adding, since the kernel keeps the old label on replace', () => {
    const params = { ...vipOnLo, label: 'lo:9', persist: false };
    const state = stateOf(params, readOutput(fixture('ip-addr', 'realserver-lo')));
    expect(diffIfaceAlias(params, state)).toEqual([{ field: 'label', from: 'lo:8', to: 'lo:9' }]);
    expect(applySteps(params, state)).toEqual(['ip addr del 192.168.9.100/32 dev lo', 'ip addr add 192.168.9.100/32 dev lo label lo:9']);
  });

  it('replaces a different prefix: the wanted one is added before the other is deleted', () => {
    const params = { ...vipOnEth0, prefix: 32, persist: false };
    const state = stateOf(params, readOutput(fixture('ip-addr', 'director-eth0')));
    expect(diffIfaceAlias(params, state)).toEqual([{ field: 'prefix', from: 24, to: 32 }]);
    expect(applySteps(params, state)).toEqual([
      'ip addr add 192.168.9.100/32 dev eth0 label eth0:0',
      'ip addr del 192.168.9.100/24 dev eth0',
    ]);
  });

  it('removes the same address held under a second prefix, and nothing else on the device', () => {
    const params = { ...vipOnEth0, persist: false };
    const state = stateOf(params, readOutput(fixture('ip-addr', 'two-prefixes-eth0')));
    expect(diffIfaceAlias(params, state)).toEqual([
      { field: 'prefix', from: [32, 24], to: 24 },
      { field: 'label', from: ['eth0:1', 'eth0:0'], to: 'eth0:0' },
    ]);
    expect(applySteps(params, state)).toEqual(['ip addr del 192.168.9.100/32 dev eth0']);
  });

  it('is in sync on the director’s eth0:0; absent removes only the VIP and its unit', () => {
    const persisted = readOutput(fixture('ip-addr', 'director-eth0'), { enabled: true, unit: unitContent(vipOnEth0) });
    expect(diffIfaceAlias(vipOnEth0, stateOf(vipOnEth0, persisted))).toEqual([]);
    const absent = { ...vipOnEth0, state: 'absent' as const };
    const state = stateOf(absent, persisted);
    expect(diffIfaceAlias(absent, state)).toEqual([
      { field: 'address', from: 'present', to: 'absent' },
      { field: 'persisted', from: 'yes', to: 'no' },
    ]);
    expect(applySteps(absent, state)).toEqual([
      'ip addr del 192.168.9.100/24 dev eth0',
      'systemctl disable --quiet keel-addr-eth0-192.168.9.100.service',
      'rm -f /etc/systemd/system/keel-addr-eth0-192.168.9.100.service',
      'if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi',
    ]);
  });

  it('absent is in sync when neither the address nor its unit exist', () => {
    const absent = { ...vipOnLo, state: 'absent' as const };
    expect(diffIfaceAlias(absent, stateOf(absent, readOutput(fixture('ip-addr', 'host-lo'))))).toEqual([]);
  });

  it('refuses to delete a primary VIP whose secondaries the kernel would delete with it', () => {
    const absent = { ...vipOnEth0, state: 'absent' as const, persist: false };
    const captured = fixture('ip-addr', 'vip-primary-eth0');
    expect(() => diffIfaceAlias(absent, stateOf(absent, readOutput(captured, { promote: '0' })))).toThrow(
      /would make the kernel delete 192\.168\.9\.10\/24/,
    );
    expect(diffIfaceAlias(absent, stateOf(absent, readOutput(captured, { promote: '1' })))).toEqual([
      { field: 'address', from: 'present', to: 'absent' },
    ]);
  });
});

describe('ifaceAlias: parameters and the boot unit', () => {
  it('is identified by address and device', () => {
    expect(ifaceAlias(vipOnLo).id).toBe('ifaceAlias[192.168.9.100@lo]');
    expect(ifaceAlias({ device: 'lo', address: 'FD00:9:0::100', prefix: 128 }).id).toBe('ifaceAlias[fd00:9::100@lo]');
  });

  it('rejects labels of another device, labels on IPv6, prefixes too long and hostile names', () => {
    const issues = (params: unknown): string => {
      try {
        ifaceAlias(params as Parameters<typeof ifaceAlias>[0]);
      } catch (error) {
        expect(error).toBeInstanceOf(ResourceParamsError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(issues({ ...vipOnLo, label: 'eth0:8' })).toMatch(/label must start with "lo:"/);
    expect(issues({ device: 'lo', address: 'fd00::1', prefix: 128, label: 'lo:6' })).toMatch(/label is for IPv4 addresses only/);
    expect(issues({ ...vipOnLo, prefix: 33 })).toMatch(/prefix must be at most 32/);
    expect(issues({ ...vipOnLo, device: 'lo; reboot' })).toMatch(/device must be an interface name/);
    expect(issues({ ...vipOnLo, label: 'lo:8 $(reboot)' })).toMatch(/label must be an address label/);
    expect(issues({ ...vipOnLo, address: '192.168.9.300' })).toMatch(/address must be an IP address/);
  });

  it('orders the unit after a real device and before network-online.target; lo needs no device', () => {
    const eth0 = unitContent(vipOnEth0);
    expect(eth0).toContain(
      'BindsTo=sys-subsystem-net-devices-eth0.device\nAfter=sys-subsystem-net-devices-eth0.device\nBefore=network-online.target',
    );
    expect(eth0).toContain('ExecStart=/sbin/ip addr replace 192.168.9.100/24 dev eth0 label eth0:0');
    expect(eth0).toContain('Type=oneshot\nRemainAfterExit=yes');
    expect(eth0).toContain('[Install]\nWantedBy=multi-user.target');
    expect(unitContent(vipOnLo)).not.toContain('sys-subsystem-net-devices');
    expect(deviceUnit('br-lan')).toBe('sys-subsystem-net-devices-br\\x2dlan.device');
  });
});
