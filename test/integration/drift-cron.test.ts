/**
 * The drift-check contract, as operators use it: the cron line from docs/drift.md run exactly as written,
 * under `env -i` with only PATH and HOME, against real SSH hosts. /etc and /var/lib are overlaid in a private
 * mount namespace so the documented paths (/etc/keel, /var/lib/keel, …) exist without touching the machine's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { KEEL, keel, recipeProject } from '../support/cli.js';

const docs = readFileSync(new URL('../../docs/drift.md', import.meta.url), 'utf8');
const cronEntry = /<!-- cron-line -->\n```\n(.+)\n```/.exec(docs)![1]!;
/** The command of an /etc/cron.d line: after five time fields and the user. */
const cronCommand = cronEntry.split(/\s+/).slice(6).join(' ');

let lab: Lab;
let site: string;
let scratch: string;
let bin: string;

const RECIPE = `
import { recipe, sysctl, Vars, InterfaceName } from 'keel';

export default recipe({
  name: 'arp',
  vars: Vars({ lanInterface: InterfaceName }),
  resources: ({ vars }) => [
    sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1, file: '/etc/sysctl.d/60-lvs-dr.conf' }),
    sysctl({ key: \`net.ipv4.conf.\${vars.lanInterface}.arp_announce\`, value: 2, file: '/etc/sysctl.d/60-lvs-dr.conf' }),
  ],
});
`;

function writeInventory(extra = ''): void {
  const base = readFileSync(lab.inventoryPath, 'utf8');
  writeFileSync(join(site, 'inventory.yaml'), `${base}${extra}vars:\n  lanInterface: eth0\n`);
}

interface CronRun {
  code: number;
  output: string;
  report: Report;
  metrics: string;
}

/** Runs the documented command with /etc/keel = the site directory and fresh /var/lib, as cron would. */
function runCronLine(): CronRun {
  const upper = mkdtempSync(join(scratch, 'overlay-'));
  const script = `
set -e
for dir in etc varlib; do mkdir -p "$U/$dir/upper" "$U/$dir/work"; done
mount -t overlay overlay -o lowerdir=/etc,upperdir="$U/etc/upper",workdir="$U/etc/work" /etc
mount -t overlay overlay -o lowerdir=/var/lib,upperdir="$U/varlib/upper",workdir="$U/varlib/work" /var/lib
mkdir -p /etc/keel /var/lib/keel /var/lib/prometheus/node-exporter
mount --bind "$SITE" /etc/keel
set +e
env -i PATH="$BIN:/usr/local/bin:/usr/bin:/bin" HOME=/root sh -c "$LINE" > "$U/output" 2>&1
echo $? > "$U/code"
cp /var/lib/keel/last-check.json /var/lib/prometheus/node-exporter/keel.prom "$U/" 2>/dev/null
exit 0
`;
  execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    env: { ...process.env, U: upper, SITE: site, BIN: bin, LINE: cronCommand },
  });
  const read = (name: string) => readFileSync(join(upper, name), 'utf8');
  return {
    code: Number(read('code')),
    output: read('output'),
    report: JSON.parse(read('last-check.json')) as Report,
    metrics: read('keel.prom'),
  };
}

function metric(text: string, name: string, host: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{host="${host}",`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'drift', count: 2, kind: 'light' });
  site = recipeProject({ 'recipes/arp.ts': RECIPE });
  scratch = mkdtempSync(join(tmpdir(), 'keel-cron-'));
  bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(KEEL, join(bin, 'keel'));
  writeInventory();
  const apply = keel(['apply', 'recipes/arp.ts', '-i', 'inventory.yaml'], { cwd: site });
  expect(apply.code).toBe(0);
});

afterAll(async () => {
  await lab?.down();
});

describe('the documented cron line', () => {
  it('is quiet and exits 0 when every host is in sync, and still writes the report and metrics', () => {
    const run = runCronLine();
    expect(run).toMatchObject({ code: 0, output: '' });
    expect(run.report.hosts.map((h) => h.outcome)).toEqual(['ok', 'ok']);
    for (const host of ['h1', 'h2']) {
      expect(metric(run.metrics, 'keel_drifted_resources', host)).toBe(0);
      expect(metric(run.metrics, 'keel_host_reachable', host)).toBe(1);
      expect(metric(run.metrics, 'keel_last_check_timestamp_seconds', host)).toBeGreaterThan(Date.now() / 1000 - 300);
      expect(metric(run.metrics, 'keel_check_duration_seconds', host)).toBeGreaterThan(0);
    }
  });

  it('exits 2 on drift, naming the resource, with expected and actual values in the report', async () => {
    await lab.exec('h1', 'sysctl -w net.ipv4.conf.all.arp_ignore=0');
    const run = runCronLine();
    expect(run.code).toBe(2);
    expect(run.output).toContain('h1: sysctl[net.ipv4.conf.all.arp_ignore] drifted: value: "0" → "1"');
    expect(run.output).not.toContain('h2:');
    const drifted = run.report.hosts[0]!.resources.find((r) => r.outcome === 'drifted')!;
    expect(drifted).toMatchObject({ id: 'sysctl[net.ipv4.conf.all.arp_ignore]', changes: [{ field: 'value', from: '0', to: '1' }] });
    expect(drifted.actual).toMatchObject({ value: '0', persisted: '1' });
    expect(metric(run.metrics, 'keel_drifted_resources', 'h1')).toBe(1);
    expect(metric(run.metrics, 'keel_drifted_resources', 'h2')).toBe(0);
  });

  it('exits 10 with drift on one host and another host unreachable', () => {
    writeInventory('  gone:\n    address: 10.77.0.99\n    connectTimeout: 2\n');
    const run = runCronLine();
    expect(run.code).toBe(2 | 8);
    expect(run.output).toMatch(/^gone: unreachable: .*10\.77\.0\.99/m);
    expect(metric(run.metrics, 'keel_host_reachable', 'gone')).toBe(0);
    writeInventory();
  });

  it('exits 4 when a resource cannot be read', () => {
    writeFileSync(join(site, 'recipes/arp.ts'), RECIPE.replace('arp_announce', 'no_such_key'));
    try {
      const run = runCronLine();
      expect(run.code & 4).toBe(4);
      expect(run.output).toMatch(/h2: sysctl\[net\.ipv4\.conf\.eth0\.no_such_key\] failed: cannot read: .*does not exist/);
    } finally {
      writeFileSync(join(site, 'recipes/arp.ts'), RECIPE);
    }
  });
});

describe('the documented systemd units', () => {
  it('pass systemd-analyze verify', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-units-'));
    for (const [marker, name] of [
      ['systemd-service', 'keel-check.service'],
      ['systemd-timer', 'keel-check.timer'],
    ] as const) {
      writeFileSync(join(directory, name), new RegExp(`<!-- ${marker} -->\\n\`\`\`ini\\n([\\s\\S]+?)\`\`\``).exec(docs)![1]!);
    }
    const verify = spawnSync('systemd-analyze', ['verify', join(directory, 'keel-check.timer'), join(directory, 'keel-check.service')], {
      encoding: 'utf8',
    });
    expect(verify.stderr.split('\n').filter((line) => line.includes('keel-check'))).toEqual([]);
  });
});
