/** A resource's diff against a given state, and the text of the apply steps that would remove it (none when in sync). */
import { diffResource, type FieldChange, type ResourceInstance } from '../../src/engine/resource.js';

export function planChange(instance: ResourceInstance, current: unknown): { changes: FieldChange[]; steps: string[] } {
  const changes = diffResource(instance, current);
  const steps = changes.length > 0 ? instance.definition.apply(instance.params, current, changes) : [];
  return { changes, steps: steps.map((step) => step.text) };
}
