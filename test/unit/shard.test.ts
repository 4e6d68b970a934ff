import { describe, expect, it } from 'vitest';
import { inShard, parseShard, ShardError, shardOf } from '../../src/inventory/shard.js';

const names = (count: number, prefix = 'web') => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}.dc1.example`);

describe('--shard K/N', () => {
  it('parses K/N and refuses anything else', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['0/3', '4/3', '3', '1/0', 'a/b', '-1/3', '1/3/4', '']) expect(() => parseShard(bad), bad).toThrow(ShardError);
  });

  it('puts every host in exactly one of N shards, in shares of about 1/N', () => {
    const hosts = names(3000);
    for (const count of [1, 2, 3, 7]) {
      const sizes = Array.from({ length: count }, (_, i) => hosts.filter((host) => inShard(host, { index: i + 1, count })).length);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(hosts.length);
      for (const size of sizes) expect(Math.abs(size - hosts.length / count)).toBeLessThan((hosts.length / count) * 0.15);
    }
  });

  it('keeps each host in its shard when hosts are added or removed', () => {
    const fleet = names(500);
    const before = new Map(fleet.map((host) => [host, shardOf(host, 4)]));
    const grown = [...fleet.slice(100), ...names(300, 'db')];
    for (const host of grown) if (before.has(host)) expect(shardOf(host, 4)).toBe(before.get(host));
  });

  it('moves only about 1/(N+1) of the hosts when a shard is added', () => {
    const fleet = names(2000);
    const moved = fleet.filter((host) => shardOf(host, 4) !== shardOf(host, 5) && shardOf(host, 5) !== 5);
    expect(moved).toEqual([]);
    const toNew = fleet.filter((host) => shardOf(host, 5) === 5).length;
    expect(Math.abs(toNew - fleet.length / 5)).toBeLessThan((fleet.length / 5) * 0.15);
  });
});
