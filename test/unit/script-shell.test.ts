/**
 * The host's long-lived shell, on this machine's own sh: scripts share one exec session, and neither `exit`, a
 * timeout nor a daemon a script starts ends that shell or holds a script's result back.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalTransport } from '../../src/transport/local.js';

let transport: LocalTransport;

afterEach(async () => {
  await transport.close();
});

const processesWith = (token: string): string[] =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(token));

describe('the long-lived shell', () => {
  it('runs script after script in one exec session, each with its own output and exit code', async () => {
    transport = new LocalTransport('box');
    const first = await transport.runScript('echo one; echo oops >&2; exit 3');
    const second = await transport.runScript('printf two');
    const third = await transport.runScript('exit 0');
    expect([first.stdout.toString(), first.stderr.toString(), first.code]).toEqual(['one\n', 'oops\n', 3]);
    expect([second.stdout.toString(), second.code]).toEqual(['two', 0]);
    expect(third.code).toBe(0);
    expect(transport.execCount).toBe(1);
  });

  it('gives a script /dev/null for stdin, so it cannot read the scripts after it', async () => {
    transport = new LocalTransport('box');
    const [reader, after] = await Promise.all([transport.runScript('cat; echo read'), transport.runScript('echo after')]);
    expect(reader.stdout.toString()).toBe('read\n');
    expect(after.stdout.toString()).toBe('after\n');
  });

  it('at a timeout kills the script with its process group, and the shell runs the next one', async () => {
    transport = new LocalTransport('box');
    const token = `keel-shell-timeout-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const result = await transport.runScript(`sh -c 'sleep 60; : ${token}' & sh -c 'sleep 61; : ${token}'; echo never`, {
      timeoutMs: 800,
    });
    expect(result.code).toBe(124);
    expect(result.stdout.toString()).not.toContain('never');
    expect(result.stderr.toString()).toBe('keel: command timed out after 800 ms\n');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(processesWith(token)).toEqual([]);
    expect((await transport.runScript('echo still here')).stdout.toString()).toBe('still here\n');
    expect(transport.execCount).toBe(1);
  });

  it('leaves no watchdog behind a script that ends before its timeout, and keeps no file once it ends', async () => {
    transport = new LocalTransport('box');
    const results = [];
    for (let round = 0; round < 200; round += 1) results.push(await transport.runScript('echo "$0 $PPID"', { timeoutMs: 47_000 }));
    expect(results.every((result) => result.code === 0)).toBe(true);
    const [scriptFile, shell] = results[0]!.stdout.toString().trim().split(' ');
    // The shell ends each script's watchdog, and waits for it, before it tells of the script's end.
    const children = execFileSync('ps', ['-eo', 'ppid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim().split(/\s+/)[0] === shell);
    expect(children).toEqual([]);
    expect(readdirSync(dirname(scriptFile!)).filter((name) => name.startsWith(basename(scriptFile!)))).not.toEqual([]);
    await transport.close();
    await expect.poll(() => readdirSync(dirname(scriptFile!)).filter((name) => name.startsWith(basename(scriptFile!)))).toEqual([]);
  });

  it('lets the script in flight finish when the shell is closed, its timeout not yet up', async () => {
    transport = new LocalTransport('box');
    const running = transport.runScript('sleep 0.5; echo finished', { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await transport.close();
    const result = await running;
    expect([result.stdout.toString(), result.code]).toEqual(['finished\n', 0]);
  });

  it('does not wait for a daemon a script started', async () => {
    transport = new LocalTransport('box');
    const token = `keel-shell-daemon-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const result = await transport.runScript(`sh -c 'sleep 30; : ${token}' >/dev/null 2>&1 </dev/null & echo $!`);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(processesWith(token)).toHaveLength(1);
    process.kill(Number(result.stdout.toString()), 'SIGTERM');
  });
});
