/** Asking the person at the terminal for a secret, without echoing it. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Secret } from '../shell/index.js';

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

/** The prompt goes to stderr; what is typed is read from the terminal on stdin and never shown. */
export function promptSecret(question: string): Promise<Secret> {
  if (!process.stdin.isTTY) return Promise.reject(new PromptError(`cannot ask "${question.trim()}": standard input is not a terminal`));
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  // The terminal leaves echo mode when the interface opens: only then may the prompt invite typing.
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  process.stderr.write(question);
  return new Promise((resolve) => {
    reader.question('', (answer) => {
      reader.close();
      process.stderr.write('\n');
      resolve(new Secret(answer));
    });
  });
}
