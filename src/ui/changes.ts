/** The end-of-run list of what changed, per host. Hosts with identical changes share one entry, so a fleet stays short. */
import type { ResourceOutcome, RunSummary } from '../engine/events.js';
import { OUTCOME_STYLE, type Style } from '../report/color.js';
import { handlerLine, resultLine } from '../report/format.js';

export interface ChangeLine {
  text: string;
  style?: Style | undefined;
  /** Unified diffs of text content. */
  patches: string[];
}

export interface ChangeBlock {
  hosts: string[];
  results: ChangeLine[];
}

const REPORTED: ReadonlySet<ResourceOutcome> = new Set(['changed', 'drifted', 'pending']);

export function changeBlocks(summary: RunSummary): ChangeBlock[] {
  const blocks = new Map<string, ChangeBlock>();
  for (const host of summary.hosts) {
    const results: ChangeLine[] = host.resources
      .filter((result) => REPORTED.has(result.outcome))
      .map((result) => ({
        text: resultLine(summary.mode, result),
        style: OUTCOME_STYLE[result.outcome],
        patches: result.changes.flatMap((change) => (change.patch ? [change.patch] : [])),
      }));
    for (const handler of host.handlers) if (handler.outcome !== 'failed') results.push({ text: handlerLine(handler), patches: [] });
    if (results.length === 0) continue;
    const key = JSON.stringify(results);
    const block = blocks.get(key);
    if (block) block.hosts.push(host.host);
    else blocks.set(key, { hosts: [host.host], results });
  }
  return [...blocks.values()];
}

const LISTED_HOSTS = 4;

/** `web1, web2` or, for many, `h001, h002, h003, h004 and 36 more (40 hosts)`. */
export function hostList(hosts: readonly string[]): string {
  if (hosts.length <= LISTED_HOSTS) return hosts.join(', ');
  return `${hosts.slice(0, LISTED_HOSTS).join(', ')} and ${hosts.length - LISTED_HOSTS} more (${hosts.length} hosts)`;
}
