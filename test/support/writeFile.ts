import { atomicWriteScript, type FileAttributes } from '../../src/shell/index.js';
import type { Transport } from '../../src/transport/types.js';

/** Writes a file on a host the way resources do: the atomic-write fragment, in one invocation, run as become. */
export async function writeFileOver(
  transport: Pick<Transport, 'exec'>,
  path: string,
  content: Buffer | string,
  attributes: FileAttributes = {},
): Promise<void> {
  const result = await transport.exec('sh -s', { stdin: atomicWriteScript(path, content, attributes).text, sudo: true });
  if (result.code !== 0) throw new Error(`writing ${path} failed (exit ${result.code}): ${result.stderr.toString().trim()}`);
}
