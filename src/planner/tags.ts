/**
 * `--tags` and `--skip-tags`: which resources a run takes. A resource carries its own tags, its recipe's and its
 * recipe's name; `--tags` takes those with any of the named tags, `--skip-tags` leaves out those with any of its own.
 */
import type { Recipe } from '../engine/recipe.js';
import type { ResourceInstance } from '../engine/resource.js';
import { Tag, validate } from '../schema/index.js';

export class TagSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TagSelectionError';
  }
}

export interface TagSelection {
  tags?: readonly string[];
  skipTags?: readonly string[];
}

export function isSelecting(selection: TagSelection | undefined): selection is TagSelection {
  return (selection?.tags?.length ?? 0) > 0 || (selection?.skipTags?.length ?? 0) > 0;
}

/** `--tags web --skip-tags packages`, for messages. */
export function describeSelection(selection: TagSelection): string {
  return [
    ...(selection.tags?.length ? [`--tags ${selection.tags.join(',')}`] : []),
    ...(selection.skipTags?.length ? [`--skip-tags ${selection.skipTags.join(',')}`] : []),
  ].join(' ');
}

/** Refuses a tag that no recipe could carry (`--tags "web server"`), before anything is planned. */
export function checkSelection(selection: TagSelection): void {
  for (const [option, names] of [
    ['--tags', selection.tags ?? []],
    ['--skip-tags', selection.skipTags ?? []],
  ] as const) {
    for (const name of names) {
      if (validate(Tag, name).length > 0)
        throw new TagSelectionError(`${option} ${JSON.stringify(name)}: must be a tag: letters, digits, _ . : -`);
    }
  }
}

export function tagsOf(recipe: Recipe, instance: ResourceInstance): Set<string> {
  return new Set([...instance.tags, ...(recipe.tags ?? []), recipe.name]);
}

export function isSelected(tags: ReadonlySet<string>, selection: TagSelection): boolean {
  const wanted = selection.tags ?? [];
  if (wanted.length > 0 && !wanted.some((tag) => tags.has(tag))) return false;
  return !(selection.skipTags ?? []).some((tag) => tags.has(tag));
}

/** Names given that no resource of the selected hosts carries: almost always a typo worth stopping for. */
export function unknownTags(selection: TagSelection, carried: ReadonlySet<string>): string[] {
  return [...(selection.tags ?? []), ...(selection.skipTags ?? [])].filter((tag) => !carried.has(tag));
}
