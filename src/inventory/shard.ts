/**
 * `--shard K/N`: a deterministic 1/N of the selected hosts, by rendezvous hashing of host names. A host's shard
 * depends only on its name and N, so adding or removing hosts never moves the others between shards.
 */
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based: the K of K/N. */
  index: number;
  count: number;
}

export class ShardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardError';
  }
}

const SHARD = /^([1-9]\d*)\/([1-9]\d*)$/;

export function parseShard(text: string): Shard {
  const match = SHARD.exec(text.trim());
  if (!match) throw new ShardError(`--shard ${JSON.stringify(text)}: expected K/N, such as 2/5, with 1 ≤ K ≤ N`);
  const shard = { index: Number(match[1]), count: Number(match[2]) };
  if (shard.index > shard.count) throw new ShardError(`--shard ${text}: K must be between 1 and N (${shard.count})`);
  return shard;
}

function weight(hostName: string, bucket: number): bigint {
  return createHash('sha256').update(`${bucket}\0${hostName}`).digest().readBigUInt64BE(0);
}

/** The shard (1-based) that owns the host: the bucket with the highest weight for its name. */
export function shardOf(hostName: string, count: number): number {
  let best = 1;
  let bestWeight = -1n;
  for (let bucket = 1; bucket <= count; bucket++) {
    const w = weight(hostName, bucket);
    if (w > bestWeight) {
      best = bucket;
      bestWeight = w;
    }
  }
  return best;
}

export function inShard(hostName: string, shard: Shard): boolean {
  return shardOf(hostName, shard.count) === shard.index;
}
