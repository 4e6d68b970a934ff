/**
 * The ground floor for everything that builds shell text: the one quoting primitive, the `Secret` that can never be
 * printed, and the fragments resources share. It imports nothing of keel.
 */

export { atomicWriteScript, type FileAttributes } from './atomicWrite.js';
export { ensureDirectory, joinCommands, printTextFile, quote, ShellCommand, type ShellValue, script, sh } from './command.js';
export { containsSecret, REDACTED, redact, redactDeep, Secret, SecretInterpolationError } from './secret.js';
