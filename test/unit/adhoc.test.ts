/** The ad-hoc runner on this machine's shell (LocalTransport): what it hands back, and how it stops. */
import { describe, expect, it } from 'vitest';
import { type AdhocEvent, runAdhoc } from '../../src/engine/adhoc.js';
import { Secret } from '../../src/shell/index.js';
import { LocalTransport } from '../../src/transport/local.js';

const local = (name: string, secrets: Secret[] = []) => ({ name, secrets, connect: async () => new LocalTransport(name) });

describe('runAdhoc', () => {
  it('runs the command as written on every host, keeping stdout and stderr apart and the host’s secrets out', async () => {
    const events: AdhocEvent[] = [];
    const summary = await runAdhoc({
      command: 'echo "out $((1 + 1))"; echo "the password is hunter2" >&2; exit 3',
      hosts: [local('a', [new Secret('hunter2')]), local('b')],
      forks: 2,
      emit: (event) => events.push(event),
    });
    expect(summary.hosts).toMatchObject([
      { host: 'a', outcome: 'failed', exitCode: 3, stdout: 'out 2\n', stderr: 'the password is [redacted]\n' },
      { host: 'b', outcome: 'failed', exitCode: 3, stderr: 'the password is hunter2\n' },
    ]);
    expect(summary.exitCode).toBe(4);
    expect(events.map((event) => event.type).sort()).toEqual(
      ['adhoc-start', 'adhoc-host-start', 'adhoc-host-start', 'adhoc-host-end', 'adhoc-host-end', 'adhoc-end'].sort(),
    );
  });

  it('starts no host once interrupted, and exits 130', async () => {
    const controller = new AbortController();
    controller.abort();
    let connects = 0;
    const summary = await runAdhoc({
      command: 'true',
      hosts: [
        {
          name: 'a',
          connect: async () => {
            connects += 1;
            return new LocalTransport('a');
          },
        },
      ],
      forks: 1,
      emit: () => undefined,
      signal: controller.signal,
    });
    expect(connects).toBe(0);
    expect(summary).toMatchObject({
      interrupted: true,
      exitCode: 130,
      hosts: [{ outcome: 'failed', error: 'interrupted before this host started' }],
    });
  });

  it('reports a host it cannot reach as unreachable', async () => {
    const summary = await runAdhoc({
      command: 'true',
      hosts: [{ name: 'gone', connect: async () => Promise.reject(new Error('gone (10.0.0.9:22): connect timed out after 10 s')) }],
      forks: 1,
      emit: () => undefined,
    });
    expect(summary).toMatchObject({
      exitCode: 8,
      hosts: [{ outcome: 'unreachable', error: 'gone (10.0.0.9:22): connect timed out after 10 s' }],
    });
  });
});
