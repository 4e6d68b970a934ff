import { sh } from '../shell/index.js';
import type { Become } from './types.js';

/**
 * Wraps a command for sudo. A password goes to `sudo -S` as the first line of stdin; the prompt is emptied
 * so it never lands in stderr.
 */
export function becomeCommand(command: string, become: Become): { command: string; stdinPrefix: string } {
  if (become.password === undefined) return { command: sh`sudo -n -- sh -c ${command}`.text, stdinPrefix: '' };
  return { command: sh`sudo -S -p '' -- sh -c ${command}`.text, stdinPrefix: `${become.password.reveal()}\n` };
}
