import { describe, expect, it } from 'vitest';
import { ResourceParamsError } from '../../src/engine/resource.js';
import { matchesVersion, type PackageState, parseAptPolicy, parsePackageRead, pkg } from '../../src/resources/package.js';
import { fixture } from '../support/fixtures.js';
import { planChange } from '../support/planChange.js';

const APT_NAMES = ['curl', 'nginx', 'nosuchpkg', 'mail-transport-agent'];

function aptState(): PackageState {
  return parsePackageRead(fixture('package', 'apt-mixed'), APT_NAMES);
}

/** Only the first line of each step: the rest of an apt-get step reports the dpkg lock's holders when it fails. */
function plan(params: Parameters<typeof pkg>[0], current: PackageState) {
  const { changes, steps } = planChange(pkg(params), current);
  return { changes, steps: steps.map((step) => step.split('\n')[0]) };
}

const APT_INSTALL =
  'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
/** The first line of an apt-get step; the rest reports the dpkg lock's holders when it fails. */
const ON_FAILURE = ' || { status=$?';

describe('package: parsing dpkg-query, apt-cache policy and rpm output', () => {
  it('reads installed versions, candidates and the version table', () => {
    expect(aptState()).toEqual({
      manager: 'apt',
      packages: {
        curl: {
          installed: '7.88.1-10+deb12u14',
          candidate: '7.88.1-10+deb12u15',
          available: ['7.88.1-10+deb12u15', '7.88.1-10+deb12u14', '7.88.1-10+deb12u5'],
        },
        nginx: { installed: null, candidate: '1.22.1-9+deb12u11', available: ['1.22.1-9+deb12u11', '1.22.1-9+deb12u9'] },
        nosuchpkg: { installed: null, candidate: null, available: [] },
        'mail-transport-agent': { installed: null, candidate: null, available: [] },
      },
    });
  });

  it('counts a package removed with its configuration files left as not installed', () => {
    const state = parsePackageRead(fixture('package', 'apt-config-files'), ['keel-probe']);
    expect(state.packages['keel-probe']).toEqual({ installed: null, candidate: null, available: ['1.0-1'] });
  });

  it('reads rpm versions with and without an epoch, and skips names that are not installed', () => {
    expect(parsePackageRead(fixture('package', 'rpm-mixed'), ['keel-probe', 'nginx', 'keel-epoch-probe'])).toEqual({
      manager: 'dnf',
      packages: {
        'keel-probe': { installed: '1.20.1-14.el9' },
        nginx: { installed: null },
        'keel-epoch-probe': { installed: '2:3.0-1' },
      },
    });
  });

  it('asks the package lists only of what an install or a version choice needs', () => {
    const readCommand = (params: Parameters<typeof pkg>[0]): string => {
      const instance = pkg(params);
      return instance.definition.read(instance.params).command.text;
    };
    expect(readCommand({ name: ['nginx', 'ipvsadm'] })).toContain('apt-cache policy $__keel_missing');
    for (const params of [
      { name: 'nginx', state: 'latest' as const },
      { name: 'nginx', version: '1.22.*' },
    ])
      expect(readCommand(params)).toContain('apt-cache policy nginx');
    expect(readCommand({ name: 'nginx', state: 'absent' })).not.toContain('apt-cache');

    const someInstalled = parsePackageRead(fixture('package', 'apt-present-asks-missing'), ['nginx', 'ipvsadm'], 'not-installed');
    expect(someInstalled.packages).toEqual({
      nginx: { installed: '1.22.1-9+deb12u9' },
      ipvsadm: { installed: null, candidate: '1:1.31-1+b1', available: ['1:1.31-1+b1'] },
    });
    expect(plan({ name: ['nginx', 'ipvsadm'] }, someInstalled)).toEqual({
      changes: [{ field: 'ipvsadm', from: null, to: '1:1.31-1+b1' }],
      steps: [`${APT_INSTALL} -- ipvsadm${ON_FAILURE}`],
    });

    const allInstalled = parsePackageRead(fixture('package', 'apt-present-installed'), ['ipvsadm'], 'not-installed');
    expect(allInstalled.packages).toEqual({ ipvsadm: { installed: '1:1.31-1+b1' } });
    expect(plan({ name: 'ipvsadm' }, allInstalled).changes).toEqual([]);
  });

  it('refuses a host without a package manager it knows, and output it does not understand', () => {
    expect(() => parsePackageRead('manager none\n', ['nginx'])).toThrow(/neither apt .* nor dnf/);
    expect(() => parsePackageRead('sh: 1: dpkg-query: Permission denied\n', ['nginx'])).toThrow(/unexpected output/);
    expect(() => parseAptPolicy('W: Unable to read /etc/apt/sources.list.d/ - DirectoryExists\n')).toThrow(
      /unexpected apt-cache policy line/,
    );
  });
});

describe('package: diff', () => {
  it('is one field per package that differs, showing the version apt would install', () => {
    expect(plan({ name: ['curl', 'nginx'] }, aptState()).changes).toEqual([{ field: 'nginx', from: null, to: '1.22.1-9+deb12u11' }]);
  });

  it('upgrades to the candidate with state latest', () => {
    expect(plan({ name: 'curl', state: 'latest' }, aptState()).changes).toEqual([
      { field: 'curl', from: '7.88.1-10+deb12u14', to: '7.88.1-10+deb12u15' },
    ]);
  });

  it('pins an exact version, up or down', () => {
    expect(plan({ name: 'curl', version: '7.88.1-10+deb12u5' }, aptState()).changes).toEqual([
      { field: 'curl', from: '7.88.1-10+deb12u14', to: '7.88.1-10+deb12u5' },
    ]);
    expect(plan({ name: 'curl', version: '7.88.1-10+deb12u14' }, aptState()).changes).toEqual([]);
  });

  it('pins a pattern: the installed version when it matches, else the newest match the lists know', () => {
    expect(plan({ name: 'curl', version: '7.88.1-10+deb12u1*' }, aptState()).changes).toEqual([]);
    expect(plan({ name: 'curl', version: '7.88.1-10+deb12u5*' }, aptState())).toEqual({
      changes: [{ field: 'curl', from: '7.88.1-10+deb12u14', to: '7.88.1-10+deb12u5' }],
      steps: [`${APT_INSTALL} --allow-downgrades -- curl=7.88.1-10+deb12u5${ON_FAILURE}`],
    });
    expect(plan({ name: 'nginx', version: '1.22.*' }, aptState()).changes).toEqual([
      { field: 'nginx', from: null, to: '1.22.1-9+deb12u11' },
    ]);
  });

  it('refreshes the lists for a pattern they know no match of, and installs by the pattern', () => {
    expect(plan({ name: 'curl', version: '8.*' }, aptState())).toEqual({
      changes: [{ field: 'curl', from: '7.88.1-10+deb12u14', to: '8.*' }],
      steps: ['apt-get update -q -o DPkg::Lock::Timeout=60', `${APT_INSTALL} --allow-downgrades -- 'curl=8.*'${ON_FAILURE}`],
    });
  });

  it('reads a pattern pin against versions captured from a host with three of them', () => {
    const probe = parsePackageRead(fixture('package', 'apt-pattern-versions'), ['keel-pin-probe']);
    expect(probe.packages['keel-pin-probe']!.available).toEqual(['1.1.0-1', '1.0.2-1', '1.0.1-1']);
    expect(plan({ name: 'keel-pin-probe', version: '1.0.*' }, probe).changes).toEqual([]);
    expect(plan({ name: 'keel-pin-probe', version: '1.1.*' }, probe)).toEqual({
      changes: [{ field: 'keel-pin-probe', from: '1.0.1-1', to: '1.1.0-1' }],
      steps: [`${APT_INSTALL} --allow-downgrades -- keel-pin-probe=1.1.0-1${ON_FAILURE}`],
    });
    expect(plan({ name: 'keel-pin-probe', state: 'latest' }, probe).changes).toEqual([
      { field: 'keel-pin-probe', from: '1.0.1-1', to: '1.1.0-1' },
    ]);
  });

  it('matches a pattern literally but for its stars', () => {
    expect(matchesVersion('1.22.*', '1.22.1-9')).toBe(true);
    expect(matchesVersion('1.22.*', '1.220.1')).toBe(false);
    expect(matchesVersion('1.2*', '1x2')).toBe(false);
    expect(matchesVersion('1:2.3+*', '1:2.3+deb12u1')).toBe(true);
  });

  it('removes only what is installed', () => {
    expect(plan({ name: ['curl', 'nginx'], state: 'absent' }, aptState()).changes).toEqual([
      { field: 'curl', from: '7.88.1-10+deb12u14', to: null },
    ]);
  });

  it('refuses a version with several names or with state absent, and latest without apt', () => {
    expect(() => plan({ name: ['curl', 'nginx'], version: '1' }, aptState())).toThrow(/version pins a single package/);
    expect(() => plan({ name: 'curl', version: '1', state: 'absent' }, aptState())).toThrow(/version pins a single package/);
    const rpm = parsePackageRead(fixture('package', 'rpm-mixed'), ['keel-probe']);
    expect(() => plan({ name: 'keel-probe', state: 'latest' }, rpm)).toThrow(/apt only/);
  });
});

describe('package: apply', () => {
  it('installs every missing package in one non-interactive transaction', () => {
    expect(plan({ name: ['curl', 'nginx', 'mail-transport-agent'] }, aptState()).steps).toEqual([
      'apt-get update -q -o DPkg::Lock::Timeout=60',
      `${APT_INSTALL} -- nginx mail-transport-agent${ON_FAILURE}`,
    ]);
  });

  it('refreshes the empty package lists of a fresh host before installing, and not once they know the packages', () => {
    const names = ['nginx', 'ipvsadm'];
    const fresh = parsePackageRead(fixture('package', 'apt-lists-empty'), names);
    expect(plan({ name: names }, fresh)).toEqual({
      changes: [
        { field: 'nginx', from: null, to: 'present' },
        { field: 'ipvsadm', from: null, to: 'present' },
      ],
      steps: ['apt-get update -q -o DPkg::Lock::Timeout=60', `${APT_INSTALL} -- nginx ipvsadm${ON_FAILURE}`],
    });
    const refreshed = parsePackageRead(fixture('package', 'apt-lab-repo'), names);
    expect(refreshed.packages.ipvsadm).toEqual({ installed: null, candidate: '1:1.31-1+b1', available: ['1:1.31-1+b1'] });
    expect(plan({ name: names }, refreshed).steps).toEqual([`${APT_INSTALL} -- nginx ipvsadm${ON_FAILURE}`]);
    const installed = parsePackageRead(fixture('package', 'apt-lab-installed'), names);
    expect(plan({ name: names }, installed).changes).toEqual([{ field: 'ipvsadm', from: null, to: '1:1.31-1+b1' }]);
    expect(plan({ name: 'nginx', state: 'latest' }, installed).changes).toEqual([]);
  });

  it('refreshes the package lists only when they do not know a package or the pinned version', () => {
    expect(plan({ name: 'nginx' }, aptState()).steps).toEqual([`${APT_INSTALL} -- nginx${ON_FAILURE}`]);
    expect(plan({ name: 'nginx', version: '1.22.1-9+deb12u9' }, aptState()).steps).toEqual([
      `${APT_INSTALL} --allow-downgrades -- nginx=1.22.1-9+deb12u9${ON_FAILURE}`,
    ]);
    expect(plan({ name: 'nginx', version: '1.22.1-9+deb12u12' }, aptState()).steps[0]).toBe('apt-get update -q -o DPkg::Lock::Timeout=60');
  });

  it('removes with apt-get remove, waiting as long as asked for the lock', () => {
    expect(plan({ name: 'curl', state: 'absent', lockWaitSeconds: 5 }, aptState()).steps).toEqual([
      `DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o DPkg::Lock::Timeout=5 -- curl${ON_FAILURE}`,
    ]);
  });

  it('speaks dnf on rpm hosts', () => {
    const rpm = parsePackageRead(fixture('package', 'rpm-mixed'), ['keel-probe', 'nginx']);
    expect(plan({ name: ['keel-probe', 'nginx'] }, rpm).steps).toEqual(['dnf install -y -q -- nginx']);
    expect(plan({ name: 'keel-probe', version: '1.20.1-15.el9' }, rpm).steps).toEqual(['dnf install -y -q -- keel-probe-1.20.1-15.el9']);
    expect(plan({ name: 'keel-probe', state: 'absent' }, rpm).steps).toEqual(['dnf remove -y -q -- keel-probe']);
  });

  it('rejects hostile names and versions in the schema', () => {
    for (const name of [
      'nginx; touch /tmp/canary',
      '$(touch /tmp/canary)',
      '`id`',
      "nginx'",
      'nginx\ncurl',
      '-o=APT::Get::Trivial-Only',
      'Nginx',
    ]) {
      expect(() => pkg({ name })).toThrow(ResourceParamsError);
      expect(() => pkg({ name: ['curl', name] })).toThrow(ResourceParamsError);
    }
    expect(() => pkg({ name: 'nginx', version: '1.0; touch /tmp/canary' })).toThrow(/version must be a package version/);
    expect(() => pkg({ name: [] })).toThrow(ResourceParamsError);
  });

  it('is named by its packages', () => {
    expect(pkg({ name: ['nginx', 'curl'] }).id).toBe('package[nginx,curl]');
  });
});
