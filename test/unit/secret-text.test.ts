/** A Secret made into text is refused; shown by reports, JSON and inspection it is "[redacted]". */
import { inspect } from 'node:util';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineResource } from '../../src/engine/resource.js';
import { command } from '../../src/resources/command.js';
import { SecretString } from '../../src/schema/index.js';
import { Secret, SecretInterpolationError, sh } from '../../src/shell/index.js';
import { runOnce } from '../../src/testing.js';
import { LocalTransport } from '../../src/transport/local.js';

const token = new Secret('tok-123');

describe('a Secret', () => {
  it('cannot be made into text by a template literal, + or String()', () => {
    expect(() => `echo "${token}"`).toThrow(SecretInterpolationError);
    expect(() => `echo ${String(token)}`).toThrow(SecretInterpolationError);
    // biome-ignore lint/style/useTemplate: the + concatenation is what is under test
    expect(() => 'echo ' + token).toThrow(SecretInterpolationError);
    expect(() => token.toString()).toThrow('a Secret cannot be made into text (a template literal, + or String())');
  });

  it('is "[redacted]" in JSON and when inspected', () => {
    expect(JSON.stringify({ token })).toBe('{"token":"[redacted]"}');
    expect(inspect({ token })).toBe('{ token: [redacted] }');
  });
});

describe("a command's env", () => {
  it('is exported in a subshell around the command alone, a Secret shown redacted', () => {
    const instance = command({ run: 'curl -H "Authorization: $TOKEN" localhost', env: { TOKEN: new Secret("it's"), MODE: 'a b' } });
    const [run] = instance.definition.apply!(instance.params, { needsToRun: true, because: '' }, []);
    expect(run!.text).toBe(`(export TOKEN='it'\\''s'; export MODE='a b'; sh -c 'curl -H "Authorization: $TOKEN" localhost')`);
    expect(run!.display).toBe(`(export TOKEN=[redacted]; export MODE='a b'; sh -c 'curl -H "Authorization: $TOKEN" localhost')`);
  });

  it('takes variable names only', () => {
    expect(() => command({ run: 'true', env: { 'A;rm': 'x' } })).toThrow('env.A;rm is not a known key');
  });
});

describe('a resource whose own code makes text of a Secret', () => {
  const leaky = defineResource({
    type: 'leaky',
    schema: Type.Object({ token: SecretString }, { additionalProperties: false }),
    key: () => 'token',
    read: (params) => ({ command: sh`echo ${String(params.token)}`, parse: () => ({ token: null as string | null }) }),
    desired: () => ({ token: 'x' }),
    apply: () => [],
  });

  it('fails its host, naming the line, and sends nothing', async () => {
    const transport = new LocalTransport('box');
    const host = await runOnce('plan', [leaky({ token })], transport);
    expect(host.outcome).toBe('failed');
    expect(host.error).toMatch(/^test\/unit\/secret-text\.test\.ts:\d+: a Secret cannot be made into text/);
    expect(transport.execCount).toBe(0);
  });
});
