import { describe, expect, it } from 'vitest';
import director from '../../recipes/director.js';
import realserver from '../../recipes/realserver.js';
import { recipe, Vars } from '../../src/engine/recipe.js';
import { ResourceParamsError } from '../../src/engine/resource.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { TagSelection } from '../../src/planner/tags.js';
import { planHosts } from '../../src/planner/targets.js';
import { sysctl } from '../../src/resources/sysctl.js';

const inventory = loadInventory('inventory/lab.yaml');

function plan(tags: TagSelection, warnings: string[] = []): Record<string, { taken: string[]; leftOut: string[] }> {
  const planned = planHosts(inventory, [director, realserver], { tags, warn: (warning) => warnings.push(warning) });
  return Object.fromEntries(
    planned.map((host) => [host.host.name, { taken: host.resources.map((r) => r.id), leftOut: host.leftOut ?? [] }]),
  );
}

describe('--tags and --skip-tags on the LVS recipes', () => {
  it('--tags vip takes the VIP on every host and leaves out the rest', () => {
    const hosts = plan({ tags: ['vip'] });
    expect(hosts.director!.taken).toEqual(['ifaceAlias[192.168.9.100@eth0]']);
    expect(hosts.director!.leftOut).toHaveLength(7);
    expect(hosts.rs1!.taken).toEqual(['ifaceAlias[192.168.9.100@lo]']);
    expect(hosts.rs2!.leftOut).toEqual([
      'sysctl[net.ipv4.conf.eth0.arp_ignore]',
      'sysctl[net.ipv4.conf.eth0.arp_announce]',
      'sysctl[net.ipv4.conf.all.arp_ignore]',
      'sysctl[net.ipv4.conf.all.arp_announce]',
      'package[nginx]',
      'file[/var/www/html/index.html]',
      'service[nginx]',
    ]);
  });

  it('--skip-tags ipvs,web leaves out IPVS and the web server', () => {
    const hosts = plan({ skipTags: ['ipvs', 'web'] });
    expect(hosts.director!.taken).toEqual([
      'ifaceAlias[192.168.9.100@eth0]',
      'sysctl[net.ipv4.ip_forward]',
      'sysctl[net.ipv4.conf.all.send_redirects]',
      'sysctl[net.ipv4.conf.eth0.send_redirects]',
    ]);
    expect(hosts.director!.leftOut).toEqual([
      'package[ipvsadm]',
      'kernelModule[ip_vs]',
      'sysctl[net.ipv4.vs.expire_nodest_conn]',
      'ipvsRule[web]',
    ]);
    expect(hosts.rs1!.leftOut).toEqual(['package[nginx]', 'file[/var/www/html/index.html]', 'service[nginx]']);
  });

  it("a recipe's name and its own tags tag every resource it returns", () => {
    const byName = plan({ tags: ['realserver'] });
    expect(byName.director).toEqual({ taken: [], leftOut: expect.arrayContaining(['ipvsRule[web]']) });
    expect(byName.rs1!.taken).toHaveLength(8);
    const byRecipeTag = plan({ tags: ['lvs'], skipTags: ['director'] });
    expect(byRecipeTag.director!.taken).toEqual([]);
    expect(byRecipeTag.rs2!.leftOut).toEqual([]);
  });

  it('warns of a resource that requires one the selection leaves out, naming both', () => {
    const warnings: string[] = [];
    const hosts = plan({ tags: ['web'], skipTags: ['packages'] }, warnings);
    expect(hosts.rs1!.taken).toEqual(['file[/var/www/html/index.html]', 'service[nginx]']);
    expect(warnings).toEqual([
      '--tags web --skip-tags packages: file[/var/www/html/index.html] requires package[nginx], which the selection leaves out (rs1, rs2); file[/var/www/html/index.html] is read and changed without it',
      '--tags web --skip-tags packages: service[nginx] requires package[nginx], which the selection leaves out (rs1, rs2); service[nginx] is read and changed without it',
    ]);
    const director = plan({ tags: ['ipvs'], skipTags: ['packages'] }, warnings);
    expect(director.director!.taken).toEqual(['kernelModule[ip_vs]', 'sysctl[net.ipv4.vs.expire_nodest_conn]', 'ipvsRule[web]']);
    expect(warnings.at(-1)).toContain('ipvsRule[web] requires package[ipvsadm], which the selection leaves out (director)');
  });

  it('stops at a tag no resource of the selected hosts carries, and at one that cannot be a tag', () => {
    expect(() => plan({ tags: ['wbe'] })).toThrow(
      /^--tags wbe: no resource of the selected hosts carries "wbe" \(their tags: arp, director, forwarding/,
    );
    expect(() => planHosts(inventory, [director, realserver], { limit: 'rs1', tags: { skipTags: ['ipvs'] } })).toThrow(
      '--skip-tags ipvs: no resource of the selected hosts carries "ipvs"',
    );
    expect(() => plan({ tags: ['web server'] })).toThrow('--tags "web server": must be a tag: letters, digits, _ . : -');
  });

  it('without a selection, nothing is left out and no host says so', () => {
    expect(Object.values(plan({})).every((host) => host.leftOut.length === 0)).toBe(true);
    expect(planHosts(inventory, [director, realserver]).every((host) => host.leftOut === undefined)).toBe(true);
  });
});

describe('tags on resources and recipes', () => {
  it('must be tags', () => {
    expect(() => sysctl({ key: 'net.ipv4.ip_forward', value: 1 }, { tags: ['ok', 'not ok'] })).toThrow(ResourceParamsError);
    expect(() => sysctl({ key: 'net.ipv4.ip_forward', value: 1 }, { tags: ['$(reboot)'] })).toThrow(
      /invalid sysctl parameters: options\.tags\[0\] must be a tag/,
    );
    expect(() => recipe({ name: 'r', tags: ['a\nb'], vars: Vars({}), resources: () => [] })).toThrow('recipe r: tags[0] must be a tag');
  });
});
