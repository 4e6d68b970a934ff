/**
 * ifaceAlias against a real host over SSH (an nspawn container with systemd): the real server's VIP on lo,
 * drift by `ip addr del`, survival of a reboot through the boot unit, and the host's own address left alone.
 */
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { connectHost } from '../../src/planner/connect.js';
import { ifaceAlias } from '../../src/resources/ifaceAlias.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-alias');

const UNIT = 'keel-addr-lo-192.168.9.100.service';

describe('ifaceAlias on a real host', () => {
  it('puts the VIP on lo as lo:8, repairs an ip addr del, and persists it with an enabled boot unit', async () => {
    const { transport, sh } = host();
    const vip = ifaceAlias({ device: 'lo', address: '192.168.9.100', prefix: 32, label: 'lo:8' });
    const report = await testResource(vip, transport, {
      drift: async () => void (await sh('ip addr del 192.168.9.100/32 dev lo')),
    });
    expect(report.firstPlan[0]!.changes).toEqual([
      { field: 'address', from: 'absent', to: 'present' },
      { field: 'persisted', from: 'no', to: 'yes' },
    ]);
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'address', from: 'absent', to: 'present' }]);
    expect(await sh('ip -o -4 addr show dev lo')).toMatch(/inet 192\.168\.9\.100\/32 scope global lo:8/);
    expect((await sh(`systemctl is-enabled ${UNIT}`)).trim()).toBe('enabled');
  });

  it('brings the VIP back after a reboot, through its unit', async () => {
    const { lab, transport, sh } = host();
    await transport.close();
    const name = lab.hosts[0]!.name;
    await lab.stop(name);
    await lab.start(name);
    expect(await sh('ip -o -4 addr show dev lo')).toMatch(/192\.168\.9\.100\/32 .* lo:8/);
    expect((await sh(`systemctl is-active ${UNIT}`)).trim()).toBe('active');
    const again = await connectHost(loadInventory(lab.inventoryPath).hosts[0]!, { kind: 'ssh' });
    try {
      const plan = await runOnce('plan', [ifaceAlias({ device: 'lo', address: '192.168.9.100', prefix: 32, label: 'lo:8' })], again);
      expect(plan.resources[0]!.outcome).toBe('unchanged');
    } finally {
      await again.close();
    }
  });

  it('changes the prefix of an alias on the LAN interface and removes it, never touching the host’s own address', async () => {
    const { lab, sh } = host();
    const own = lab.hosts[0]!.address;
    const transport = await connectHost(loadInventory(lab.inventoryPath).hosts[0]!, { kind: 'ssh' });
    try {
      const alias = (prefix: number, state: 'present' | 'absent' = 'present') =>
        ifaceAlias({ device: 'eth0', address: '10.77.0.100', prefix, label: 'eth0:0', state, persist: false });
      expect((await runOnce('apply', [alias(16)], transport)).resources[0]!.outcome).toBe('changed');
      const replaced = await runOnce('apply', [alias(32)], transport);
      expect(replaced.resources[0]!.changes).toEqual([{ field: 'prefix', from: 16, to: 32 }]);
      expect(await sh('ip -o -4 addr show dev eth0')).toMatch(/10\.77\.0\.100\/32 .*eth0:0/);
      expect(await sh('ip -o -4 addr show dev eth0')).not.toMatch(/10\.77\.0\.100\/16/);
      const removed = await runOnce('apply', [alias(32, 'absent')], transport);
      expect(removed.resources[0]!.changes).toEqual([{ field: 'address', from: 'present', to: 'absent' }]);
      const left = await sh('ip -o -4 addr show dev eth0');
      expect(left).not.toContain('10.77.0.100');
      expect(left).toContain(`inet ${own}/`);
    } finally {
      await transport.close();
    }
  });
});
