/**
 * Facts: the parser on FACTS_SCRIPT's output captured from lab hosts, and the planner's two steps (facts, then the
 * recipe's resources, then the read) run by the engine over this machine's own shell.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { recipe, Vars } from '../../src/engine/recipe.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import { FACTS_SCRIPT, osFamily, parseFacts, parseOsRelease } from '../../src/facts/gather.js';
import { inventoryFromText } from '../../src/inventory/load.js';
import { hostTargets, planHosts } from '../../src/planner/targets.js';
import { toReport } from '../../src/report/json.js';
import { LocalTransport } from '../../src/transport/local.js';
import { fixture } from '../support/fixtures.js';
import { valueFile } from '../support/valueFile.js';

describe('parseFacts', () => {
  it('reads a Debian nspawn lab host: systemd, apt, its veth and default route', () => {
    expect(parseFacts(fixture('facts', 'nspawn-host'))).toEqual({
      os: { id: 'debian', version: '12', family: 'debian' },
      kernel: { release: '6.18.44-fc-v1098' },
      architecture: 'x86_64',
      hostname: 'h1',
      fqdn: 'h1',
      init: 'systemd',
      packageManager: 'apt',
      interfaces: [
        {
          name: 'lo',
          mac: null,
          up: true,
          addresses: [
            { family: 'inet', address: '127.0.0.1', prefix: 8 },
            { family: 'inet6', address: '::1', prefix: 128 },
          ],
        },
        {
          name: 'eth0',
          mac: 'b2:bf:c1:88:d6:0d',
          up: true,
          addresses: [
            { family: 'inet', address: '10.77.0.11', prefix: 16 },
            { family: 'inet6', address: 'fe80::b0bf:c1ff:fe88:d60d', prefix: 64 },
          ],
        },
      ],
      defaultRoute: { interface: 'eth0', gateway: '10.77.0.1' },
      cpus: 2,
      memoryBytes: 24683568 * 1024,
    });
  });

  it('tells a host without systemd as pid 1 (a light lab host: sshd alone) as sysv', () => {
    expect(parseFacts(fixture('facts', 'light-host'))).toMatchObject({ init: 'sysv', packageManager: 'apt', os: { family: 'debian' } });
  });

  it('names the part that is missing or malformed', () => {
    const output = fixture('facts', 'nspawn-host');
    expect(() => parseFacts(output.replace(/@@keel-facts end\n?$/, ''))).toThrow('no end in the output');
    expect(() => parseFacts(output.replace(/MemTotal:.*/, 'MemTotal: lots'))).toThrow('meminfo: no MemTotal line');
    expect(() => parseFacts(output.replace(/\[\{"dst".*/, 'Error: ip: invalid option -j'))).toThrow(/default-route: not the JSON of ip -j/);
  });
});

describe('os family', () => {
  // These lines are written here, not captured: no RHEL-family host or image can be reached from the lab (docs/facts.md).
  it('follows ID, then ID_LIKE, of os-release(5)', () => {
    const rocky = parseOsRelease('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n');
    expect([rocky.get('ID'), rocky.get('VERSION_ID')]).toEqual(['rocky', '9.4']);
    expect(osFamily('rocky', ['rhel', 'centos', 'fedora'])).toBe('rhel');
    expect(osFamily('fedora', [])).toBe('rhel');
    expect(osFamily('linuxmint', ['ubuntu', 'debian'])).toBe('debian');
    expect(osFamily('alpine', [])).toBe('other');
  });
});

const INVENTORY = 'hosts:\n  box:\n    address: 127.0.0.1\n  other:\n    address: 127.0.0.2\n';

/** A recipe that writes its host's facts into files it names after them: which facts it saw is plain from its resources. */
function factsRecipe(directory: string) {
  return recipe({
    name: 'from-facts',
    hosts: 'box',
    facts: true,
    vars: Vars({ suffix: Type.String({ default: 'x' }) }),
    resources: (host) => [
      valueFile({ path: join(directory, `${host.facts.hostname}-${host.vars.suffix}`), value: host.facts.os.id }),
      host.facts.cpus > 0 && valueFile({ path: join(directory, 'cpus'), value: String(host.facts.cpus) }, { tags: ['cpus'] }),
    ],
  });
}

async function checkLocally(planned: ReturnType<typeof planHosts>) {
  const transport = new LocalTransport('box');
  const targets = hostTargets(planned, async () => transport);
  const summary = await run({ mode: 'check', recipes: ['t'], hosts: targets, forks: 1, timeouts: DEFAULT_TIMEOUTS, emit: () => undefined });
  return { summary, transport };
}

describe('recipes with facts: true', () => {
  it('are planned with no resources, then built from the gathered facts, read in the same session as the resources', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-facts-'));
    const inventory = inventoryFromText('inv.yaml', INVENTORY);
    const planned = planHosts(inventory, [factsRecipe(directory)], {});
    expect(planned.map((p) => [p.host.name, p.resources.length, p.withFacts !== undefined])).toEqual([['box', 0, true]]);
    const { summary } = await checkLocally(planned);
    const host = summary.hosts[0]!;
    const own = parseFacts((await new LocalTransport('box').exec('sh -s', { stdin: FACTS_SCRIPT })).stdout.toString());
    expect(host.resources.map((r) => r.id)).toEqual([
      `valueFile[${join(directory, `${own.hostname}-x`)}]`,
      `valueFile[${join(directory, 'cpus')}]`,
    ]);
    expect(host.execs).toEqual({ total: 1, read: 1 });
    expect(summary.exitCode).toBe(2);
    expect(toReport(summary).hosts[0]!.facts).toEqual({ ...own, memoryBytes: expect.any(Number) });
  });

  it('take -e vars and --tags on the resources built after facts', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-facts-'));
    const inventory = inventoryFromText('inv.yaml', INVENTORY);
    const planned = planHosts(inventory, [factsRecipe(directory)], {
      tags: { skipTags: ['cpus'] },
      extraVars: { vars: { suffix: 'extra' }, locate: () => '-e', typedHint: () => undefined },
    });
    const { summary } = await checkLocally(planned);
    const host = summary.hosts[0]!;
    expect(host.resources.map((r) => r.id)).toEqual([expect.stringMatching(/-extra\]$/)]);
    expect(host.leftOut).toEqual([`valueFile[${join(directory, 'cpus')}]`]);
  });

  it('contact a host whose recipe builds nothing from its facts, and report its facts', async () => {
    const none = recipe({ name: 'nothing', facts: true, hosts: 'box', resources: () => [] });
    const { summary, transport } = await checkLocally(planHosts(inventoryFromText('inv.yaml', INVENTORY), [none], {}));
    expect(transport.execCount).toBe(1);
    expect(summary.hosts[0]).toMatchObject({ host: 'box', outcome: 'ok', resources: [], execs: { total: 1, read: 1 } });
    expect(toReport(summary).hosts[0]!.facts).toMatchObject({ os: { id: expect.any(String) } });
    expect(summary.exitCode).toBe(0);
  });

  it('fail the host, naming the recipe error, when building from facts throws', async () => {
    const broken = recipe({
      name: 'broken',
      facts: true,
      hosts: 'box',
      resources: (host) => {
        throw new Error(`no package manager I know on ${host.facts.hostname}`);
      },
    });
    const { summary } = await checkLocally(planHosts(inventoryFromText('inv.yaml', INVENTORY), [broken], {}));
    expect(summary.hosts[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining("recipe broken, building from the host's facts: no package manager I know on"),
    });
    expect(summary.exitCode).toBe(4);
  });
});

describe('the type of host.facts', () => {
  it('exists only in a recipe that declares facts: true', () => {
    const withFacts = recipe({ name: 'with', facts: true, resources: (host) => [host.facts.packageManager === 'none' && null] });
    // @ts-expect-error: a recipe without facts: true has no host.facts
    const without = recipe({ name: 'without', resources: (host) => [host.facts.packageManager === 'none' && null] });
    expect([withFacts.facts, without.facts]).toEqual([true, undefined]);
  });
});
