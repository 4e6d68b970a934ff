/**
 * A notification owed to a handler is kept on the host, as a marker file, until the handler has run, so no
 * failure loses it: recorded with the change that notifies, cleared by the handler's own invocation.
 */
import { createHash } from 'node:crypto';
import { ensureDirectory, type ShellCommand, sh } from '../shell/index.js';
import type { Section } from './batch.js';
import { STATE_DIRECTORY } from './hostLock.js';
import type { HandlerRef, ResourceInstance } from './resource.js';

export const OWED_DIRECTORY = `${STATE_DIRECTORY}/owed`;

export function owedMarker(ref: HandlerRef): string {
  return createHash('sha256').update(`${ref.resource.id}\0${ref.action}`).digest('hex').slice(0, 32);
}

function markerPath(ref: HandlerRef): string {
  return `${OWED_DIRECTORY}/${owedMarker(ref)}`;
}

export function recordOwed(ref: HandlerRef): ShellCommand {
  return sh`${ensureDirectory(OWED_DIRECTORY)} && printf '%s\n' ${`${ref.resource.id} ${ref.action}`} > ${markerPath(ref)}`;
}

export function clearOwed(ref: HandlerRef): ShellCommand {
  return sh`rm -f ${markerPath(ref)}`;
}

export function owedSection(): Section {
  // A glob rather than ls: starting a program costs more than the whole listing, most of all on an emulated host.
  const listing = sh`for __keel_owed in ${OWED_DIRECTORY}/*; do if [ -e "$__keel_owed" ]; then printf '%s\n' "\${__keel_owed##*/}"; fi; done`;
  return { name: 'owed handlers', command: listing, streamed: true };
}

/** Every handler the resources notify, once each. */
export function handlerRefs(resources: readonly ResourceInstance[]): HandlerRef[] {
  const seen = new Map<string, HandlerRef>();
  for (const resource of resources) {
    for (const ref of resource.notify) seen.set(owedMarker(ref), ref);
  }
  return [...seen.values()];
}

export function owedFromListing(listing: string | undefined, refs: readonly HandlerRef[]): HandlerRef[] {
  const names = new Set((listing ?? '').split('\n').map((line) => line.trim()));
  return refs.filter((ref) => names.has(owedMarker(ref)));
}
