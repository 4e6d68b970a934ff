import { describe, expect, it } from 'vitest';
import { diffResource } from '../../src/engine/resource.js';
import { kernelModule, parseKernelModuleRead } from '../../src/resources/kernelModule.js';
import { fixture } from '../support/fixtures.js';

describe('kernelModule', () => {
  it('reads a loaded module that no modules-load.d file names', () => {
    expect(parseKernelModuleRead(fixture('kernelModule', 'bridge-loaded'), 'bridge')).toEqual({ loaded: true, persisted: false });
  });

  it('loads a missing module now and at boot', () => {
    const ipVs = kernelModule({ name: 'ip_vs' });
    const state = parseKernelModuleRead(fixture('kernelModule', 'ip_vs-missing'), 'ip_vs');
    const changes = diffResource(ipVs, state);
    expect(changes).toEqual([
      { field: 'loaded', from: false, to: true },
      { field: 'persisted', from: false, to: true },
    ]);
    const steps = ipVs.definition.apply(ipVs.params, state, changes).map((step) => step.text);
    expect(steps.slice(0, 2)).toEqual(['modprobe ip_vs', '[ -d /etc/modules-load.d ] || mkdir -p -- /etc/modules-load.d']);
    expect(steps[2]).toContain('/etc/modules-load.d/ip_vs.conf');
  });

  it('counts the module as persisted when its file names it, with - and _ alike and comments ignored', () => {
    expect(parseKernelModuleRead('loaded\n# for LVS\nip-vs # the director\n', 'ip_vs')).toEqual({ loaded: true, persisted: true });
    expect(parseKernelModuleRead('loaded\n# ip_vs\n', 'ip_vs')).toEqual({ loaded: true, persisted: false });
  });

  it('does not ask for persistence with persist: false', () => {
    expect(
      diffResource(
        kernelModule({ name: 'bridge', persist: false }),
        parseKernelModuleRead(fixture('kernelModule', 'bridge-loaded'), 'bridge'),
      ),
    ).toEqual([]);
  });

  it('rejects names that are not module names', () => {
    expect(() => kernelModule({ name: 'ip_vs; reboot' })).toThrow(/name must be a module name/);
    expect(() => kernelModule({ name: '../ip_vs' })).toThrow(/name must be a module name/);
  });
});
