/**
 * Captures resources' read command output for their parsers' fixtures: on a throwaway lab host, over SSH, each case
 * sets the host up by hand, then runs the resource's own read command with sh, as a batch does. Run as root from the
 * repository's root, through a fixture directory's capture.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHosts } from '../../lab/hosts.js';
import type { ResourceInstance } from '../../src/engine/resource.js';
import { loadInventory } from '../../src/inventory/load.js';
import { connectHost } from '../../src/planner/connect.js';

export interface Capture {
  name: string;
  instance: ResourceInstance;
  /** Run on the host by hand before the read; it sets everything the read looks at. */
  setup: string[];
}

export async function captureReads(lab: string, directory: string, captures: Capture[]): Promise<void> {
  const started = await startHosts({ lab, count: 1, kind: 'light' });
  try {
    const transport = await connectHost(loadInventory(started.inventoryPath).hosts[0]!, { kind: 'ssh' });
    try {
      const run = async (command: string): Promise<string> => {
        const result = await transport.exec('sh -s', { stdin: command });
        if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr.toString().trim()}`);
        return result.stdout.toString();
      };
      const system = `Debian ${(await run('cat /etc/debian_version')).trim()}`;
      for (const capture of captures) {
        await run(['set -e', ...capture.setup].join('\n'));
        const { definition, params, id } = capture.instance;
        const output = await run(definition.read(params).command.text);
        const header = `# captured: the read command of ${id}, run by sh over SSH on a lab host (${system}) as root, after: ${capture.setup.join('; ') || 'nothing'}\n`;
        writeFileSync(join(directory, `${capture.name}.txt`), header + output);
        console.log(`${capture.name}.txt`);
      }
    } finally {
      await transport.close();
    }
  } finally {
    await started.down();
  }
}
