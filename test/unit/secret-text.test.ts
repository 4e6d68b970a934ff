/** A Secret made into text is refused; shown by reports, JSON and inspection it is "[redacted]". */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/resources/command.js';
import { Secret, SecretInterpolationError } from '../../src/shell/index.js';

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
