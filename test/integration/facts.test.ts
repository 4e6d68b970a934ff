/**
 * Facts on a real host: `keel facts` and a recipe with `facts: true` through the real CLI over SSH, on one Debian
 * nspawn container, checked against what the host itself says (`ip -j addr`, /etc/os-release, nproc), and shown to
 * change nothing there that a login doing nothing does not change too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { FactsDocument } from '../../src/facts/model.js';
import type { Report } from '../../src/report/json.js';
import { keel, REPO, recipeProject } from '../support/cli.js';
import { expectFactsOfHost, factsOf } from '../support/hostFacts.js';

let lab: Lab;

beforeAll(async () => {
  lab = await startHosts({ lab: 'facts-ssh', count: 1 });
});

afterAll(async () => {
  await lab?.down();
});

async function onHost(command: string): Promise<string> {
  const result = await lab.exec('h1', command);
  if (result.code !== 0) throw new Error(`${command}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function gathered(): FactsDocument {
  const result = keel(['facts', '-i', lab.inventoryPath]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as FactsDocument;
}

/** Files of the host's root filesystem, /tmp and /run modified after the marker, but for the journal, which logs every login. */
async function changedSince(marker: string): Promise<string[]> {
  const listing = await onHost(
    `find / /tmp /run -xdev -newer ${marker} -not -path '/var/log/journal/*' -not -path ${marker} -print | sort -u`,
  );
  return listing.split('\n').filter(Boolean);
}

describe('keel facts', () => {
  it('prints what the host itself says, valid against schema/facts.v1.json', async () => {
    const document = gathered();
    const schema = JSON.parse(readFileSync(`${REPO}/schema/facts.v1.json`, 'utf8')) as object;
    const validate = new Ajv({ strict: true }).compile(schema);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document.hosts.map((host) => host.host)).toEqual(['h1']);
    const facts = factsOf(document, 'h1');
    await expectFactsOfHost(facts, onHost);
    expect(facts).toMatchObject({ init: 'systemd', packageManager: 'apt', os: { family: 'debian' } });
    expect(facts.defaultRoute).toEqual({ interface: 'eth0', gateway: lab.gateway });
  });

  it('changes nothing on the host that a login running `true` does not change too', async () => {
    await onHost('touch /root/.facts-marker-login');
    const login = keel(['run', '-i', lab.inventoryPath, '--', 'true']);
    expect(login.code).toBe(0);
    const byLogin = await changedSince('/root/.facts-marker-login');
    await onHost('touch /root/.facts-marker');
    gathered();
    const byFacts = await changedSince('/root/.facts-marker');
    expect(byFacts.filter((path) => !byLogin.includes(path))).toEqual([]);
    await onHost('echo written > /tmp/.facts-written');
    expect(await changedSince('/root/.facts-marker')).toContain('/tmp/.facts-written');
  });

  it('exits 8 and says so for a host it cannot reach, still printing the others', () => {
    const inventory = `${recipeProject({})}/gone.yaml`;
    const text = readFileSync(lab.inventoryPath, 'utf8').replace(
      /^hosts:\n/m,
      'hosts:\n  gone:\n    address: 10.77.0.99\n    connectTimeout: 3\n',
    );
    writeFileSync(inventory, text);
    const result = keel(['facts', '-i', inventory]);
    expect(result.code).toBe(8);
    const document = JSON.parse(result.stdout) as FactsDocument;
    expect(document.hosts.map((host) => [host.host, 'facts' in host ? 'facts' : host.outcome])).toEqual([
      ['gone', 'unreachable'],
      ['h1', 'facts'],
    ]);
    expect(result.stderr).toContain('keel: gone: ');
  });
});

describe('a recipe with facts: true', () => {
  it('builds from the host’s facts, reports them once, and gathers them in the session that reads the resources', () => {
    const project = recipeProject({ 'web.ts': readFileSync(`${REPO}/docs/examples/facts/web.ts`, 'utf8') });
    const result = keel(['check', `${project}/web.ts`, '-i', lab.inventoryPath, '--json', '-']);
    expect(result.code, result.stderr).toBe(2);
    const report = JSON.parse(result.stdout) as Report;
    const host = report.hosts[0]!;
    expect(host.resources.map((r) => r.id)).toEqual([
      'package[apache2]',
      'sysctl[net.ipv4.conf.eth0.arp_ignore]',
      'sysctl[net.ipv4.conf.eth0.arp_announce]',
    ]);
    expect(host.execs).toEqual({ total: 1, read: 1 });
    expect(host.facts).toEqual(factsOf(gathered(), 'h1'));
    expect(result.stdout.match(/"facts":/g)).toHaveLength(1);
  });

  it('shows the facts invocation under -v, before the read of the resources built from them', () => {
    const project = recipeProject({ 'web.ts': readFileSync(`${REPO}/docs/examples/facts/web.ts`, 'utf8') });
    const result = keel(['check', `${project}/web.ts`, '-i', lab.inventoryPath, '-v']);
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stdout.split('\n');
    const facts = lines.indexOf('h1: invocation 1 sent: 1 section');
    expect(facts, result.stdout).toBeGreaterThanOrEqual(0);
    expect(lines[facts + 1]).toBe('h1:   gather facts');
    expect(lines[facts + 2]).toBe('h1:     $ exec 2>/dev/null');
    expect(lines).toContainEqual(expect.stringMatching(/^h1: invocation 1 returned in \d+ ms: exit 0$/));
    // The package's read, and the two sysctls' read together.
    expect(lines.indexOf('h1: invocation 2 sent: 2 sections')).toBeGreaterThan(facts);
  });

  it('is refused by plan --out, before any host is contacted: a saved plan fixes resources facts would build', () => {
    const project = recipeProject({ 'web.ts': readFileSync(`${REPO}/docs/examples/facts/web.ts`, 'utf8') });
    const result = keel(['plan', `${project}/web.ts`, '-i', lab.inventoryPath, '--out', `${project}/plan.json`]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('--out: a saved plan cannot hold resources built from facts (recipes with facts: true, on h1)');
  });

  it('leaves a run without facts at one invocation, and its report without facts', () => {
    const project = recipeProject({
      'plain.ts':
        "import { recipe, sysctl } from 'keel';\nexport default recipe({ name: 'plain', resources: () => [sysctl({ key: 'net.ipv4.ip_forward', value: 1 })] });\n",
    });
    const result = keel(['check', `${project}/plain.ts`, '-i', lab.inventoryPath, '--json', '-']);
    const host = (JSON.parse(result.stdout) as Report).hosts[0]!;
    expect(host.execs).toEqual({ total: 1, read: 1 });
    expect(host.facts).toBeUndefined();
  });
});
