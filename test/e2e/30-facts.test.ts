/**
 * Facts from the LVS lab's hosts of both kinds: the director (a qemu guest with its own kernel) and a real server (an
 * nspawn container), as `keel facts` gathers them over SSH, held against what each host itself says.
 */
import { describe, expect, it } from 'vitest';
import { openLvsLab } from '../../lab/lvsLab.js';
import type { FactsDocument } from '../../src/facts/model.js';
import { keel } from '../support/cli.js';
import { expectFactsOfHost, factsOf } from '../support/hostFacts.js';

describe('keel facts on the LVS lab', () => {
  const lab = openLvsLab();
  const result = keel(['facts', '-i', lab.inventoryPath, '-l', 'director,rs1']);
  const document = JSON.parse(result.stdout || '{"hosts": []}') as FactsDocument;

  it('gathers the director and rs1, and exits 0', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(document.hosts.map((host) => host.host)).toEqual(['director', 'rs1']);
  });

  it.each(['director', 'rs1'])('%s: match ip -j addr, /etc/os-release and nproc on the host', async (name) => {
    const facts = factsOf(document, name);
    await expectFactsOfHost(facts, (command) => lab.output(name, command));
    expect(facts.os.family).toBe('debian');
    expect(facts.defaultRoute?.interface).toBe('eth0');
  });

  it('tell the guest kernel from the container’s (which is this machine’s)', async () => {
    const local = (await import('node:os')).release();
    expect(factsOf(document, 'rs1').kernel.release).toBe(local);
    expect(factsOf(document, 'director').kernel.release).not.toBe(local);
  });
});
