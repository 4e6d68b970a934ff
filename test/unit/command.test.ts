import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffResource, ResourceParamsError } from '../../src/engine/resource.js';
import { command, decide, parseCommandRead } from '../../src/resources/command.js';
import { runOnce } from '../../src/testing.js';
import { LocalTransport } from '../../src/transport/local.js';
import { fixture } from '../support/fixtures.js';

function verdict(params: Parameters<typeof command>[0], name: string) {
  const instance = command(params);
  return instance.definition.read(instance.params).parse({ stdout: fixture('command', name), stderr: '', code: 0 });
}

describe('command: reading the guards', () => {
  it('parses every guard result', () => {
    expect(parseCommandRead(fixture('command', 'all-guards-need-run'))).toEqual({ created: false, unless: 2, onlyIf: 0, ranNow: false });
    expect(parseCommandRead(fixture('command', 'no-guard'))).toEqual({ created: null, unless: null, onlyIf: null, ranNow: false });
    expect(() => parseCommandRead('sh: 1: Syntax error\n')).toThrow(/unexpected output/);
  });

  it('always needs to run without creates or unless, except right after it ran', () => {
    expect(verdict({ run: 'systemctl daemon-reload' }, 'no-guard')).toEqual({
      needsToRun: true,
      because: 'no creates or unless guard: runs on every apply',
    });
    expect(verdict({ run: 'systemctl daemon-reload' }, 'no-guard-ran-now')).toEqual({ needsToRun: false, because: 'ran in this apply' });
  });

  it('is done once creates exists', () => {
    expect(verdict({ run: 'tar -xf /tmp/app.tgz -C /opt', creates: '/opt/app' }, 'creates-present')).toEqual({
      needsToRun: false,
      because: '/opt/app exists',
    });
  });

  it('says which guards still ask for a run', () => {
    expect(verdict({ run: 'make install', creates: '/opt/app', unless: 'true', onlyIf: 'true' }, 'all-guards-need-run')).toEqual({
      needsToRun: true,
      because: '/opt/app does not exist, unless exited 2',
    });
    expect(verdict({ run: 'x', unless: 'no-such-command --check' }, 'unless-not-found')).toEqual({
      needsToRun: true,
      because: 'unless exited 127',
    });
  });

  it('treats a failing onlyIf as "not needed", and a passing one as no verdict', () => {
    expect(verdict({ run: 'update-grub', onlyIf: 'test -f /boot/grub/grub.cfg' }, 'only-if-fails')).toEqual({
      needsToRun: false,
      because: 'onlyIf exited 1',
    });
    expect(decide({}, { created: null, unless: null, onlyIf: 0, ranNow: false }).needsToRun).toBe(true);
    expect(decide({}, { created: null, unless: null, onlyIf: 0, ranNow: true }).needsToRun).toBe(false);
  });

  it('never runs the command itself while reading', () => {
    const instance = command({ run: 'rm -rf /srv/data', unless: 'test -e /srv/keep' });
    const read = instance.definition.read(instance.params).command.text;
    expect(read).not.toContain('rm -rf');
    expect(read).toContain("sh -c 'test -e /srv/keep' >/dev/null 2>&1");
  });
});

describe('command: diff and apply', () => {
  it('shows why it will run and what', () => {
    const instance = command({ run: 'make install', creates: '/opt/app' });
    expect(diffResource(instance, { needsToRun: true, because: '/opt/app does not exist' })).toEqual([
      { field: 'run', from: '/opt/app does not exist', to: 'make install' },
    ]);
    expect(diffResource(instance, { needsToRun: false, because: '/opt/app exists' })).toEqual([]);
  });

  it('passes the command text to sh -c as one quoted argument', () => {
    const instance = command({ run: `echo "it's $(hostname)"; touch /tmp/x` });
    const [run] = instance.definition.apply(instance.params, { needsToRun: true, because: '' }, []);
    expect(run!.text).toBe(`sh -c 'echo "it'\\''s $(hostname)"; touch /tmp/x'`);
  });

  it('names itself by name, or by its command on one line', () => {
    expect(command({ run: 'a\n  b', creates: '/x' }).id).toBe('command[a b]');
    expect(command({ run: 'a', name: 'initialise the database' }).id).toBe('command[initialise the database]');
    expect(() => command({ run: 'a', name: 'x]\n' })).toThrow(ResourceParamsError);
    expect(() => command({ run: 'a', creates: 'relative; touch /tmp/canary' })).toThrow(/must be an absolute path/);
  });

  it('can be a handler target', () => {
    const instance = command({ run: 'nft -f /etc/nftables.conf', name: 'load the firewall' });
    expect(instance.on('run')).toMatchObject({ action: 'run' });
  });
});

describe('command: through a real shell on this machine', () => {
  const directory = mkdtempSync(join(tmpdir(), 'keel-command-'));
  const transport = new LocalTransport();
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('runs once with creates, then stays unchanged', async () => {
    const canary = `keel-canary-${process.pid}`;
    const marker = join(directory, `done; touch ${canary} $(touch ${canary}) \`touch ${canary}\``);
    const resource = command({ run: `echo ran >> '${directory}/log'; : > '${marker}'`, creates: marker });
    expect((await runOnce('plan', [resource], transport)).resources[0]).toMatchObject({
      outcome: 'drifted',
      changes: [{ field: 'run', from: `${marker} does not exist` }],
    });
    expect((await runOnce('apply', [resource], transport)).resources[0]).toMatchObject({ outcome: 'changed' });
    expect((await runOnce('plan', [resource], transport)).resources[0]!.outcome).toBe('unchanged');
    expect((await runOnce('apply', [resource], transport)).resources[0]!.outcome).toBe('unchanged');
    expect(readFileSync(join(directory, 'log'), 'utf8')).toBe('ran\n');
    expect(existsSync(canary)).toBe(false);
  });

  it('runs a guardless command on every apply and verifies that it ran', async () => {
    const resource = command({ run: `echo ran >> '${directory}/every'` });
    for (let round = 0; round < 2; round += 1) {
      expect((await runOnce('plan', [resource], transport)).resources[0]!.outcome).toBe('drifted');
      expect((await runOnce('apply', [resource], transport)).resources[0]!.outcome).toBe('changed');
    }
    expect(readFileSync(join(directory, 'every'), 'utf8')).toBe('ran\nran\n');
  });

  it('fails when its guard still asks for a run after running', async () => {
    const result = (await runOnce('apply', [command({ run: 'true', creates: join(directory, 'never') })], transport)).resources[0]!;
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ phase: 'verify' });
    expect(result.error!.message).toContain('never does not exist');
  });

  it('fails with the exit code and stderr of a failing command', async () => {
    const result = (await runOnce('apply', [command({ run: 'echo broken >&2; exit 7' })], transport)).resources[0]!;
    expect(result).toMatchObject({ outcome: 'failed', error: { phase: 'apply', exitCode: 7, stderr: 'broken' } });
  });
});
