/**
 * Rolling changes on the LVS-DR lab under real traffic: a client loop through the VIP counts every request that is
 * not answered 200 while keel restarts nginx on both real servers, with the rollout (`--serial 1`: drain, change,
 * health check, restore) and without it. Then a change that breaks rs1's web server, and keel killed while rs1 is
 * drained. The lab arrives converged and is left converged.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
import { type LoadResult, startLoad } from '../../lab/traffic.js';
import type { Report } from '../../src/report/json.js';
import { sh } from '../../src/shell/index.js';
import { type CliResult, keel, REPO, recipeProject } from '../support/cli.js';
import { startKeel } from '../support/keelProcess.js';

const VIP = '192.168.9.100';
const LVS_RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const DROP_IN = '/etc/systemd/system/nginx.service.d/keel-slow-start.conf';
const SITE = '/etc/nginx/sites-available/default';
const KEEL_TIMEOUT_MS = 900_000;

/** A drop-in that makes every start of nginx wait 2 s, so that a restart leaves a gap; `revision` makes it a change. */
const SLOW_START = `
import { command, file, Ipv4, lvsRollout, recipe, service, Type, Vars } from 'keel';

export default recipe({
  name: 'slow-start',
  hosts: 'realservers',
  vars: Vars({ vip: Ipv4, revision: Type.String() }),
  resources: ({ vars }) => {
    const nginx = service({ name: 'nginx', running: true, enabled: true });
    return [
      nginx,
      file(
        { path: '${DROP_IN}', makeParents: true, content: \`# revision \${vars.revision}\\n[Service]\\nExecStartPre=/bin/sleep 2\\n\` },
        { notify: nginx.on('restart') },
      ),
      command({
        name: 'daemon-reload',
        run: 'systemctl daemon-reload',
        unless: 'systemctl show nginx -p DropInPaths --value | grep -q keel-slow-start',
      }),
    ];
  },
  rollout: (host) => lvsRollout(host, { health: { vip: host.vars.vip, body: \`from \${host.name}\` } }),
});
`;

/** The default site with a page root of choice: a root without the page makes nginx answer 404. */
const SITE_ROOT = `
import { file, Ipv4, lvsRollout, recipe, service, Type, Vars } from 'keel';

export default recipe({
  name: 'site-root',
  hosts: 'realservers',
  vars: Vars({ vip: Ipv4, root: Type.String() }),
  resources: ({ vars }) => {
    const nginx = service({ name: 'nginx', running: true, enabled: true });
    return [
      nginx,
      file(
        { path: '${SITE}', content: \`server {\\n  listen 80 default_server;\\n  root \${vars.root};\\n  index index.html;\\n}\\n\` },
        { notify: nginx.on('reload') },
      ),
    ];
  },
  rollout: (host) => lvsRollout(host, { health: { vip: host.vars.vip, deadlineSeconds: 6 } }),
});
`;

let lab: LvsLab;
let slowStart: string;
let siteRoot: string;
const originalSite = new Map<string, string>();

interface KeelRun extends CliResult {
  report: Report;
}

function reportOf(result: CliResult, what: string): KeelRun {
  if (result.stdout.trim() === '') throw new Error(`${what} wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { ...result, report: JSON.parse(result.stdout) as Report };
}

function keelArgs(recipe: string, ...flags: string[]): string[] {
  return ['apply', recipe, '-i', lab.inventoryPath, '--ui', 'plain', '--json', '-', ...flags];
}

/** A keel run (in the background, so the load loop goes on) during a client load loop through the VIP. */
async function underLoad(args: string[]): Promise<{ run: KeelRun; load: LoadResult }> {
  const load = startLoad(lab, { client: 'client', vip: VIP, minRequests: 1000, maxRequests: 20_000 });
  const run = await startKeel(args, { cwd: REPO }).done;
  const counted = await load.stop();
  console.log(`[e2e] keel ${args.slice(1, 2).concat(args.slice(8)).join(' ')}: ${counted.requests} requests, ${counted.failures} failed`);
  return { run: reportOf(run, `keel ${args.join(' ')}`), load: counted };
}

/** The real servers' entries of the director's live table: `192.168.9.11:80` → its `-w` weight. */
async function liveWeights(): Promise<Map<string, number>> {
  const table = await lab.output('director', 'ipvsadm -Sn');
  return new Map([...table.matchAll(/^-a -t \S+ -r (\S+) -g -w (\d+)/gm)].map((match) => [match[1]!, Number(match[2])]));
}

function phases(run: KeelRun, host: string): string[] {
  return (run.report.hosts.find((h) => h.host === host)?.rollout ?? []).map((step) => step.phase);
}

function converge(): void {
  const result = keel(['apply', ...LVS_RECIPES, '-i', lab.inventoryPath, '--ui', 'plain'], { timeoutMs: KEEL_TIMEOUT_MS });
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

beforeAll(async () => {
  lab = openLvsLab();
  const project = recipeProject({ 'recipes/slow-start.ts': SLOW_START, 'recipes/site-root.ts': SITE_ROOT });
  slowStart = join(project, 'recipes/slow-start.ts');
  siteRoot = join(project, 'recipes/site-root.ts');
  converge();
  for (const host of ['rs1', 'rs2']) originalSite.set(host, await lab.output(host, sh`base64 -w0 ${SITE}`.text));
});

afterAll(async () => {
  for (const host of ['rs1', 'rs2']) {
    const site = originalSite.get(host);
    const restore = site ? sh`printf %s ${site} | base64 -d > ${SITE}; ` : sh``;
    await lab.exec(host, sh`${restore}rm -f ${DROP_IN}; systemctl daemon-reload; systemctl restart nginx`.text);
  }
  converge();
});

describe('a rolling apply on the LVS lab, under load', () => {
  it('restarts nginx on both real servers, one at a time, and fails no request of the load', async () => {
    const { run, load } = await underLoad(keelArgs(slowStart, '--serial', '1', '-e', 'revision=1'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.report.rollout?.batches).toEqual([['rs1'], ['rs2']]);
    for (const host of ['rs1', 'rs2']) {
      expect(phases(run, host)).toEqual(['draining', 'changing', 'checking', 'restored']);
      expect(run.report.hosts.find((h) => h.host === host)!.handlers.map((h) => [h.action, h.outcome])).toEqual([['restart', 'ran']]);
      expect(await lab.output(host, 'systemctl show nginx -p ExecStartPre')).toContain('/bin/sleep');
    }
    expect(load.requests).toBeGreaterThanOrEqual(1000);
    expect(load.failures).toBe(0);
    expect([...(await liveWeights()).values()]).toEqual([1, 1]);
  });

  it('negative control: the same change without the rollout fails requests', async () => {
    const { run, load } = await underLoad(keelArgs(slowStart, '-e', 'revision=2'));
    expect(run.code, run.stderr).toBe(0);
    expect(load.requests).toBeGreaterThanOrEqual(1000);
    expect(load.failures).toBeGreaterThanOrEqual(20);
  });

  it('stops after rs1 when the change breaks its web server: rs1 stays out, rs2 untouched, no request fails', async () => {
    const { run, load } = await underLoad(keelArgs(siteRoot, '--serial', '1', '-e', 'root=/nonexistent'));
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^rs1: fails its health check, so it stays out of service: rs1: GET http:\/\/192\.168\.9\.100:80\/ answered 404, not 200/m,
    );
    expect(run.stderr).toMatch(/^rs2: not attempted: 1 failed host \(rs1\) went past --max-fail 0 after batch 1 of 2$/m);
    expect(phases(run, 'rs1')).toEqual(['draining', 'changing', 'checking', 'left out']);
    expect(run.report.rollout?.notAttempted).toEqual(['rs2']);
    expect(await lab.output('rs2', `grep -c nonexistent ${SITE} || true`)).toBe('0\n');
    expect(await liveWeights()).toEqual(
      new Map([
        ['192.168.9.11:80', 0],
        ['192.168.9.12:80', 1],
      ]),
    );
    expect(load.failures).toBe(0);

    // Fixed, rs1 comes first, passes its check and is back in rotation.
    const repaired = reportOf(
      keel(keelArgs(siteRoot, '--serial', '1', '-e', 'root=/var/www/html'), { timeoutMs: KEEL_TIMEOUT_MS }),
      'repair',
    );
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(phases(repaired, 'rs1').at(-1)).toBe('restored');
    expect([...(await liveWeights()).values()]).toEqual([1, 1]);
  });

  it('killed while rs1 is drained: check reports the weight as drift, and the next rolling apply restores it', async () => {
    const running = startKeel(keelArgs(slowStart, '--serial', '1', '-e', 'revision=3'), { cwd: REPO });
    const deadline = Date.now() + 120_000;
    while ((await liveWeights()).get('192.168.9.11:80') !== 0) {
      if (Date.now() > deadline) throw new Error(`rs1 was never drained:\n${await lab.output('director', 'ipvsadm -Sn')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    running.kill();
    await running.done;
    expect((await liveWeights()).get('192.168.9.11:80')).toBe(0);

    const check = keel(['check', ...LVS_RECIPES, '-i', lab.inventoryPath, '--ui', 'plain'], { timeoutMs: KEEL_TIMEOUT_MS });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/^director: ipvsRule\[web\] drifted: real server 192\.168\.9\.11:80: "-g -w 0" → "-g -w 1"/m);

    const next = reportOf(keel(keelArgs(slowStart, '--serial', '1', '-e', 'revision=3'), { timeoutMs: KEEL_TIMEOUT_MS }), 'next apply');
    expect(next.code, next.stderr).toBe(0);
    expect(next.report.hosts.find((h) => h.host === 'rs1')!.rollout?.[0]).toMatchObject({
      phase: 'draining',
      detail: 'left out of service by an earlier run',
    });
    expect(phases(next, 'rs1').at(-1)).toBe('restored');
    expect([...(await liveWeights()).values()]).toEqual([1, 1]);
  });
});
