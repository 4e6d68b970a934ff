import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/**
 * A value that must never be printed: sudo passwords and secret vars. Its text is reachable only
 * through `reveal()`, and every way of turning it into a string yields "[redacted]".
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Replaces every occurrence of the given secrets in a text (error messages, stderr tails). */
export function redact(text: string, secrets: readonly Secret[]): string {
  let result = text;
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value.length > 0) result = result.split(value).join(REDACTED);
  }
  return result;
}

/** Whether plain data (a resource's parameters) holds a Secret anywhere. */
export function containsSecret(value: unknown): boolean {
  if (value instanceof Secret) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(containsSecret);
}

/** A copy of plain data (a result, a diff) with every occurrence of the secrets in its strings replaced. */
export function redactDeep<T>(value: T, secrets: readonly Secret[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, secrets)) as T;
  if (value instanceof Secret || typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, secrets)])) as T;
}
