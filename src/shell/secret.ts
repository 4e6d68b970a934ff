import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** A Secret was made into text: a template literal, `+` or String(). Its text would be lost, or leak. */
export class SecretInterpolationError extends Error {
  constructor() {
    super('a Secret cannot be made into text (a template literal, + or String())');
    this.name = 'SecretInterpolationError';
  }
}

/**
 * A value that must never be printed: sudo passwords and secret vars. Its text is reachable only through
 * `reveal()`. Making text of it (`${secret}`, `'x' + secret`, String(secret)) throws a SecretInterpolationError,
 * rather than silently giving "[redacted]" to a command; reports, JSON and inspection show "[redacted]".
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  [Symbol.toPrimitive](): never {
    throw new SecretInterpolationError();
  }
  toString(): never {
    throw new SecretInterpolationError();
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
