import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/savedPlans.js';
import {
  canonicalJson,
  fingerprintOf,
  PLAN_VERSION,
  PlanRefusedError,
  refuseChangedSources,
  type SavedPlan,
} from '../../src/planner/savedPlan.js';
import { Secret } from '../../src/shell/index.js';

const sources = {
  keel: '0.1.0',
  recipes: [{ file: 'recipes/web.ts', sha256: 'a'.repeat(64) }],
  inventory: { file: 'inventory.yaml', sha256: 'b'.repeat(64) },
  selection: { tags: ['web'] },
};
const plan: SavedPlan = { version: PLAN_VERSION, createdAt: new Date().toISOString(), ...sources, hosts: [] };

describe('saved plans', () => {
  it('fingerprints each field of a state, the same whatever the key order, with secrets redacted first', () => {
    const a = fingerprintOf({ value: '1', persisted: null, file: { b: 1, a: 2 } }, []);
    const b = fingerprintOf({ file: { a: 2, b: 1 }, persisted: null, value: '1' }, []);
    expect(a).toEqual(b);
    expect(Object.keys(a)).toEqual(['file', 'persisted', 'value']);
    expect(fingerprintOf({ value: '2', persisted: null, file: { a: 2, b: 1 } }, []).value).not.toBe(a.value);
    const secret = new Secret('hunter2');
    expect(fingerprintOf({ content: 'password hunter2' }, [secret])).toEqual(fingerprintOf({ content: 'password [redacted]' }, []));
    expect(Object.keys(fingerprintOf(null, []))).toEqual(['(state)']);
  });

  it('writes canonical JSON', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  it('refuses a plan whose keel, recipes, inventory, tags or age differ, naming each', () => {
    expect(() => refuseChangedSources(plan, sources)).not.toThrow();
    const now = {
      keel: '0.2.0',
      recipes: [
        { file: 'recipes/web.ts', sha256: 'c'.repeat(64) },
        { file: 'recipes/db.ts', sha256: 'd'.repeat(64) },
      ],
      inventory: { file: 'inventory.yaml', sha256: 'e'.repeat(64) },
      selection: {},
    };
    expect(() => refuseChangedSources(plan, now)).toThrow(PlanRefusedError);
    expect(() => refuseChangedSources(plan, now)).toThrow(
      "the plan is refused: keel is 0.2.0, the plan was made by 0.1.0; recipe recipes/web.ts changed since the plan; recipe recipes/db.ts is not in the plan; the inventory inventory.yaml changed since the plan; --tags differ from the plan's",
    );
    const old = { ...plan, createdAt: new Date(Date.now() - 7_200_000).toISOString() };
    expect(() => refuseChangedSources(old, sources, parseDuration('1h'))).toThrow(
      /the plan is 7200 s old, more than --max-age allows \(3600 s\)/,
    );
    expect(() => refuseChangedSources(old, sources, parseDuration('3h'))).not.toThrow();
  });

  it('reads durations in s, m, h and d', () => {
    expect([parseDuration('90s'), parseDuration('30m'), parseDuration('1.5h'), parseDuration('1d')]).toEqual([
      90_000, 1_800_000, 5_400_000, 86_400_000,
    ]);
    expect(() => parseDuration('10')).toThrow('--max-age "10": a duration such as 90s, 30m, 4h or 1d');
  });
});
