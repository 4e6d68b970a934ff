/** The shape of what `keel new resource motdLine` writes, for typing the dynamic import in tests. */
import type { ResourceFactory, TSchema } from '../../src/index.js';

export declare const motdLine: ResourceFactory<TSchema, { value: string | null }> &
  ((params: { path: string; value: string }) => ReturnType<ResourceFactory<TSchema, unknown>>);
