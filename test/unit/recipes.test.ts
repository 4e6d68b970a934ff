import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import director from '../../recipes/director.js';
import realserver from '../../recipes/realserver.js';
import { RecipeVarsError } from '../../src/engine/recipe.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import { type Inventory, type InventoryHost, inventoryFromText, loadInventory } from '../../src/inventory/load.js';
import { hostTargets, planHosts } from '../../src/planner/targets.js';
import { ConnectionError, type Transport } from '../../src/transport/types.js';

const LAB = 'inventory/lab.yaml';

describe('the LVS-DR recipes on the lab inventory', () => {
  const planned = planHosts(loadInventory(LAB), [director, realserver]);
  const byHost = new Map(planned.map((p) => [p.host.name, p]));

  it('give the director and the real servers their steps in the walk-through’s order, and the client nothing', () => {
    expect([...byHost.keys()]).toEqual(['director', 'rs1', 'rs2']);
    expect(byHost.get('director')!.resources.map((r) => r.id)).toEqual([
      'ifaceAlias[192.168.9.100@eth0]',
      'sysctl[net.ipv4.ip_forward]',
      'sysctl[net.ipv4.conf.all.send_redirects]',
      'sysctl[net.ipv4.conf.eth0.send_redirects]',
      'package[ipvsadm]',
      'kernelModule[ip_vs]',
      'sysctl[net.ipv4.vs.expire_nodest_conn]',
      'ipvsRule[web]',
    ]);
    for (const name of ['rs1', 'rs2']) {
      expect(byHost.get(name)!.resources.map((r) => r.id)).toEqual([
        'sysctl[net.ipv4.conf.eth0.arp_ignore]',
        'sysctl[net.ipv4.conf.eth0.arp_announce]',
        'sysctl[net.ipv4.conf.all.arp_ignore]',
        'sysctl[net.ipv4.conf.all.arp_announce]',
        'ifaceAlias[192.168.9.100@lo]',
        'package[nginx]',
        'file[/var/www/html/index.html]',
        'service[nginx]',
      ]);
    }
  });

  it('fill the defaults: the VIP /24 as eth0:0 on the director, /32 as lo:8 on the real servers, a page naming the host', () => {
    const params = (host: string, id: string): unknown => byHost.get(host)!.resources.find((r) => r.id === id)!.params;
    expect(params('director', 'ifaceAlias[192.168.9.100@eth0]')).toEqual({
      device: 'eth0',
      address: '192.168.9.100',
      prefix: 24,
      label: 'eth0:0',
      state: 'present',
      persist: true,
    });
    expect(params('rs2', 'ifaceAlias[192.168.9.100@lo]')).toMatchObject({ device: 'lo', prefix: 32, label: 'lo:8' });
    expect(params('rs2', 'file[/var/www/html/index.html]')).toMatchObject({ content: 'from rs2\n' });
  });

  it('point the virtual service at every host of the realservers group, round robin, direct routing, weight 1', () => {
    expect(byHost.get('director')!.resources.at(-1)!.params).toMatchObject({
      protocol: 'tcp',
      address: '192.168.9.100',
      port: 80,
      scheduler: 'rr',
      realServers: [
        { address: '192.168.9.11', forwarding: 'route', weight: 1 },
        { address: '192.168.9.12', forwarding: 'route', weight: 1 },
      ],
    });
  });

  it('stop at a var that breaks a recipe’s schema, naming file:line:col, before any host is contacted', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-recipes-'));
    const broken = join(directory, 'lab.yaml');
    writeFileSync(broken, readFileSync(LAB, 'utf8').replace('vip: 192.168.9.100', 'vip: 192.168.9.300'));
    const inventory = loadInventory(broken);
    const contacted: string[] = [];
    const connect = async (host: InventoryHost): Promise<Transport> => {
      contacted.push(host.name);
      throw new ConnectionError(host.name, 'no host is reached in this test');
    };
    // The way the CLI goes from inventory to hosts: plan, then run with the connect function.
    const plan = async (on: Inventory): Promise<unknown> =>
      run({
        mode: 'plan',
        recipes: [],
        hosts: hostTargets(planHosts(on, [director, realserver]), connect),
        forks: 1,
        timeouts: DEFAULT_TIMEOUTS,
        emit: () => undefined,
      });
    await plan(loadInventory(LAB));
    expect(contacted).toEqual(['director', 'rs1', 'rs2']);
    contacted.length = 0;
    await expect(plan(inventory)).rejects.toThrow(RecipeVarsError);
    expect(contacted).toEqual([]);
    expect(() => planHosts(inventory, [director, realserver])).toThrow(
      `${broken}:6:8: vars.vip: must be an IPv4 address (recipe director, host director)`,
    );
  });

  it('take overrides from the inventory: port, scheduler, labels and page', () => {
    const inventory = inventoryFromText(
      'override.yaml',
      readFileSync(LAB, 'utf8').replace(
        'lanInterface: eth0',
        'lanInterface: ens3\n  port: 8080\n  scheduler: wlc\n  vipLabel: ens3:vip\n  loopbackLabel: lo:vip\n  page: hello',
      ),
    );
    const [lvs, rs1] = planHosts(inventory, [director, realserver]);
    expect(lvs!.resources[0]!.params).toMatchObject({ device: 'ens3', label: 'ens3:vip' });
    expect(lvs!.resources.at(-1)!.params).toMatchObject({ port: 8080, scheduler: 'wlc' });
    expect(rs1!.resources.map((r) => r.params)).toContainEqual(expect.objectContaining({ label: 'lo:vip' }));
    expect(rs1!.resources.map((r) => r.params)).toContainEqual(expect.objectContaining({ content: 'hello\n' }));
  });
});
