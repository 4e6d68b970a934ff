/**
 * ipvsRule's parser and planner, on `ipvsadm -Sn` tables captured from the lab director's kernel by
 * test/fixtures/ipvsadm/capture.ts (this machine's kernel has no IP_VS).
 */
import { describe, expect, it } from 'vitest';
import { ResourceParamsError, Unknowable } from '../../src/engine/resource.js';
import {
  autoValue,
  diffIpvsRule,
  type IpvsRuleState,
  ipvsRule,
  ipvsRuleSteps,
  parseIpvsadmRules,
  parseIpvsRuleRead,
  realServerAddress,
  splitAddressPort,
  withAutoTrue,
  withServiceRules,
} from '../../src/resources/ipvsRule.js';
import { fixture } from '../support/fixtures.js';

type Params = Parameters<typeof ipvsRule>[0];

const lab: Params = {
  name: 'web',
  protocol: 'tcp',
  address: '192.168.9.100',
  port: 80,
  scheduler: 'rr',
  realServers: [{ address: '192.168.9.11' }, { address: '192.168.9.12' }],
  persist: false,
};

const table = (name: string): string => fixture('ipvsadm', `${name}.captured`);
/** A file field as the read prints it: `+` and each line headed by `|`, or `-` for no file. */
const fileField = (name: string, text: string | null): string =>
  text === null
    ? `@${name} -`
    : [
        `@${name} +`,
        ...text
          .replace(/\n$/, '')
          .split('\n')
          .map((line) => `|${line}`),
      ].join('\n');

interface HostFiles {
  recorded?: string | null;
  flavour?: 'debian' | 'rhel' | 'other';
  defaults?: string | null;
  boot?: boolean;
  rules?: string | null;
}

/** The resource's read output around an `ipvsadm -Sn` table. */
function readOutput(ipvsadmSn: string, files: HostFiles = {}): string {
  return [
    '@table',
    `${ipvsadmSn}${fileField('recorded', files.recorded === undefined ? '-t 192.168.9.100:80\n' : files.recorded)}`,
    `@flavour ${files.flavour ?? 'debian'}`,
    fileField('defaults', files.defaults ?? null),
    `@boot ${files.boot ? 'enabled' : 'disabled'}`,
    fileField('rules', files.rules ?? null),
    '',
  ].join('\n');
}

function stateOf(output: string): IpvsRuleState {
  const state = parseIpvsRuleRead(output);
  if (state instanceof Unknowable) throw new Error(state.reason);
  return state;
}

/** The plan (field changes) and the commands apply would run, for a desired rule on a host. */
function planFor(params: Params, output: string): { changes: string[]; steps: string[] } {
  const instance = ipvsRule(params);
  const state = stateOf(output);
  const changes = diffIpvsRule(instance.params, state);
  return {
    changes: changes.map((c) => `${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`),
    steps: ipvsRuleSteps(instance.params, state, changes).map((step) => step.text),
  };
}

describe('ipvsRule: parsing ipvsadm -Sn', () => {
  it('reads the lab’s converged table', () => {
    expect(parseIpvsadmRules(table('lab-converged'))).toEqual([
      {
        key: '-t 192.168.9.100:80',
        scheduler: 'rr',
        persistence: null,
        options: '',
        realServers: [
          { server: '192.168.9.11:80', forwarding: 'route', weight: 1, options: '' },
          { server: '192.168.9.12:80', forwarding: 'route', weight: 1, options: '' },
        ],
      },
    ]);
  });

  it('reads other owners’ services: persistence, netmask, udp, IPv6, fwmark, tunnels and masquerading', () => {
    const services = parseIpvsadmRules(table('other-owners'));
    expect(services.map((s) => [s.key, s.scheduler, s.persistence, s.options])).toEqual([
      ['-t 192.168.9.100:80', 'rr', null, ''],
      ['-t 192.168.9.200:443', 'wrr', 600, '-M 255.255.255.0'],
      ['-u 192.168.9.200:53', 'sh', null, '-b sh-port'],
      ['-u [fd00:9::100]:53', 'rr', null, ''],
      ['-f 7', 'sh', null, ''],
      ['-f 8 -6', 'rr', 300, '--pe sip'],
    ]);
    expect(services[1]!.realServers).toEqual([
      { server: '10.0.0.21:8443', forwarding: 'masq', weight: 5, options: '' },
      { server: '10.0.0.22:8443', forwarding: 'masq', weight: 0, options: '' },
    ]);
    expect(services[2]!.realServers).toEqual([{ server: '192.168.9.41:53', forwarding: 'tunnel', weight: 1, options: '' }]);
    expect(services[5]!.realServers).toEqual([{ server: '[fd00:9::31]:0', forwarding: 'route', weight: 2, options: '' }]);
  });

  it('splits the ADDRESS:PORT it prints, IPv4 and bracketed IPv6, for VIPs and real servers', () => {
    const services = parseIpvsadmRules(table('other-owners'));
    const vips = services.filter((s) => !s.key.startsWith('-f ')).map((s) => splitAddressPort(s.key.split(' ')[1]!));
    expect(vips).toEqual([
      { address: '192.168.9.100', port: 80 },
      { address: '192.168.9.200', port: 443 },
      { address: '192.168.9.200', port: 53 },
      { address: 'fd00:9::100', port: 53 },
    ]);
    expect(splitAddressPort(services[5]!.realServers[0]!.server)).toEqual({ address: 'fd00:9::31', port: 0 });
    expect(realServerAddress(services[1]!.realServers[0]!.server)).toBe('10.0.0.21');
    expect(realServerAddress('[FD00:9:0::31]:0')).toBe('fd00:9::31');
  });

  it('reads an empty table, and refuses lines it does not understand', () => {
    expect(parseIpvsadmRules(table('empty'))).toEqual([]);
    expect(() => parseIpvsadmRules('-a -t 192.168.9.100:80 -r 192.168.9.11:80 -g -w 1\n')).toThrow(/before its service/);
    expect(() => parseIpvsadmRules('TCP  192.168.9.100:80 rr\n')).toThrow(/no virtual service/);
  });

  it('is unknowable until ipvsadm is installed and ip_vs is loaded, so plan shows it pending', () => {
    expect(parseIpvsRuleRead('@unknowable ipvsadm is not installed\n')).toEqual(new Unknowable('ipvsadm is not installed'));
    expect(parseIpvsRuleRead('@unknowable the ip_vs kernel module is not loaded\n')).toBeInstanceOf(Unknowable);
  });
});

describe('ipvsRule: the planner', () => {
  it('adds the service, then each real server with -g -w 1, on an empty table', () => {
    const plan = planFor(lab, readOutput(table('empty'), { recorded: null }));
    expect(plan.changes).toEqual([
      'service: null → "-t 192.168.9.100:80 -s rr"',
      'real server 192.168.9.11:80: null → "-g -w 1"',
      'real server 192.168.9.12:80: null → "-g -w 1"',
      'recorded: null → "-t 192.168.9.100:80"',
    ]);
    expect(plan.steps.slice(0, 3)).toEqual([
      'ipvsadm -A -t 192.168.9.100:80 -s rr',
      'ipvsadm -a -t 192.168.9.100:80 -r 192.168.9.11:80 -g -w 1',
      'ipvsadm -a -t 192.168.9.100:80 -r 192.168.9.12:80 -g -w 1',
    ]);
    expect(plan.steps[3]).toBe('[ -d /var/lib/keel/ipvs ] || mkdir -p -- /var/lib/keel/ipvs');
    expect(plan.steps[4]).toContain('/var/lib/keel/ipvs/web');
    expect(plan.steps).toHaveLength(5);
  });

  it('is in sync on the converged table', () => {
    expect(planFor(lab, readOutput(table('lab-converged')))).toEqual({ changes: [], steps: [] });
  });

  it('deletes a foreign real server of the service it manages', () => {
    const plan = planFor(lab, readOutput(table('foreign-real-server')));
    expect(plan.changes).toEqual(['real server 192.168.9.13:80: "-g -w 1" → null']);
    expect(plan.steps).toEqual(['ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.13:80']);
  });

  it('edits a changed scheduler with every service field', () => {
    const plan = planFor({ ...lab, persistence: 300 }, readOutput(table('scheduler-wlc')));
    expect(plan.changes).toEqual(['scheduler: "wlc" → "rr"', 'persistence: null → 300']);
    expect(plan.steps).toEqual(['ipvsadm -E -t 192.168.9.100:80 -s rr -p 300']);
  });

  it('edits a changed weight with every server field', () => {
    const plan = planFor(lab, readOutput(table('weight-changed')));
    expect(plan.changes).toEqual(['real server 192.168.9.12:80: "-g -w 3" → "-g -w 1"']);
    expect(plan.steps).toEqual(['ipvsadm -e -t 192.168.9.100:80 -r 192.168.9.12:80 -g -w 1']);
  });

  it('never touches services it does not manage', () => {
    expect(planFor(lab, readOutput(table('other-owners')))).toEqual({ changes: [], steps: [] });
    const changed = planFor({ ...lab, realServers: [{ address: '192.168.9.12', weight: 2 }] }, readOutput(table('other-owners')));
    expect(changed.steps).toEqual([
      'ipvsadm -e -t 192.168.9.100:80 -r 192.168.9.12:80 -g -w 2',
      'ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.11:80',
    ]);
    expect(changed.steps.join('\n')).not.toMatch(/192\.168\.9\.200|fd00|-f 7|-f 8|-C/);
  });

  it('replaces a changed key (port 80 → 8080): the new service and servers first, then the old servers and service', () => {
    const plan = planFor({ ...lab, port: 8080 }, readOutput(table('lab-converged')));
    expect(plan.changes).toEqual([
      'service: null → "-t 192.168.9.100:8080 -s rr"',
      'real server 192.168.9.11:8080: null → "-g -w 1"',
      'real server 192.168.9.12:8080: null → "-g -w 1"',
      'service -t 192.168.9.100:80: "-s rr" → null',
      'recorded: "-t 192.168.9.100:80" → "-t 192.168.9.100:8080"',
    ]);
    expect(plan.steps.slice(0, 6)).toEqual([
      'ipvsadm -A -t 192.168.9.100:8080 -s rr',
      'ipvsadm -a -t 192.168.9.100:8080 -r 192.168.9.11:8080 -g -w 1',
      'ipvsadm -a -t 192.168.9.100:8080 -r 192.168.9.12:8080 -g -w 1',
      'ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.11:80',
      'ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.12:80',
      'ipvsadm -D -t 192.168.9.100:80',
    ]);
  });

  it('replaces a real server by adding the new one before deleting the old', () => {
    const plan = planFor(
      { ...lab, realServers: [{ address: '192.168.9.11' }, { address: '192.168.9.14' }] },
      readOutput(table('lab-converged')),
    );
    expect(plan.steps).toEqual([
      'ipvsadm -a -t 192.168.9.100:80 -r 192.168.9.14:80 -g -w 1',
      'ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.12:80',
    ]);
  });

  it('drains gracefully when asked: weight 0, a bounded wait on ActiveConn, then the deletion', () => {
    const plan = planFor({ ...lab, drainSeconds: 30 }, readOutput(table('foreign-real-server')));
    expect(plan.steps[0]).toBe('ipvsadm -e -t 192.168.9.100:80 -r 192.168.9.13:80 -g -w 0');
    expect(plan.steps[1]).toMatch(
      /^i=0; while \[ \$i -lt 30 \]; do active=\$\(ipvsadm -Ln -t 192\.168\.9\.100:80 \| awk -v names=192\.168\.9\.13:80 /,
    );
    expect(plan.steps[2]).toBe('ipvsadm -d -t 192.168.9.100:80 -r 192.168.9.13:80');
  });

  it('manages fwmark and IPv6 services with ipvsadm’s own spelling', () => {
    const fwmark = planFor(
      {
        name: 'marked',
        protocol: 'fwmark',
        fwmark: 7,
        scheduler: 'sh',
        realServers: [{ address: '192.168.9.31' }, { address: '192.168.9.32' }],
        persist: false,
      },
      readOutput(table('other-owners'), { recorded: '-f 7' }),
    );
    expect(fwmark.steps).toEqual(['ipvsadm -a -f 7 -r 192.168.9.32 -g -w 1']);
    const ipv6 = planFor(
      {
        name: 'dns6',
        protocol: 'udp',
        address: 'FD00:9:0::100',
        port: 53,
        scheduler: 'rr',
        realServers: [{ address: 'fd00:9::21', forwarding: 'masq' }],
        persist: false,
      },
      readOutput(table('other-owners'), { recorded: '-u [fd00:9::100]:53' }),
    );
    expect(ipv6).toEqual({ changes: [], steps: [] });
  });
});

describe('ipvsRule: persistence', () => {
  const othersRules = '# ipvsadm.rules\n-A -t 192.168.9.200:443 -s wrr -p 600\n-a -t 192.168.9.200:443 -r 10.0.0.21:8443 -m -w 5\n';
  const debianDefaults =
    '# ipvsadm\n\n# if you want to start ipvsadm on boot set this to true\nAUTO="false"\n\n# daemon method (none|master|backup)\nDAEMON="none"\n';

  it('on Debian writes its lines to /etc/ipvsadm.rules keeping other services, sets AUTO="true" and enables the boot service', () => {
    const plan = planFor({ ...lab, persist: true }, readOutput(table('lab-converged'), { rules: othersRules, defaults: debianDefaults }));
    expect(plan.changes).toEqual(['persisted: "no" → "yes"', 'persisted at boot: "no" → "yes"', 'boot service: "disabled" → "enabled"']);
    expect(plan.steps[0]).toContain('/etc/ipvsadm.rules');
    expect(plan.steps[1]).toContain('/etc/default/ipvsadm');
    expect(plan.steps[2]).toBe('update-rc.d ipvsadm defaults >/dev/null && update-rc.d ipvsadm enable');
    expect(withServiceRules(othersRules, ['-t 192.168.9.100:80'], ['-A -t 192.168.9.100:80 -s rr'])).toBe(
      `${othersRules}-A -t 192.168.9.100:80 -s rr\n`,
    );
    expect(withAutoTrue(debianDefaults)).toBe(debianDefaults.replace('AUTO="false"', 'AUTO="true"'));
  });

  it('is in sync when the rules file holds exactly its lines', () => {
    const rules = `${othersRules}-A -t 192.168.9.100:80 -s rr\n-a -t 192.168.9.100:80 -r 192.168.9.11:80 -g -w 1\n-a -t 192.168.9.100:80 -r 192.168.9.12:80 -g -w 1\n`;
    const output = readOutput(table('lab-converged'), { rules, defaults: withAutoTrue(debianDefaults), boot: true });
    expect(planFor({ ...lab, persist: true }, output)).toEqual({ changes: [], steps: [] });
  });

  it('rewrites only its own lines, in place, dropping those of the key it managed before', () => {
    const rules = `-A -t 192.168.9.100:80 -s rr\n-a -t 192.168.9.100:80 -r 192.168.9.11:80 -g -w 1\n${othersRules}`;
    const rewritten = withServiceRules(rules, ['-t 192.168.9.100:8080', '-t 192.168.9.100:80'], ['-A -t 192.168.9.100:8080 -s rr']);
    expect(rewritten).toBe(`-A -t 192.168.9.100:8080 -s rr\n${othersRules}`);
    const plan = planFor(
      { ...lab, port: 8080, persist: true },
      readOutput(table('lab-converged'), { rules, defaults: 'AUTO=true\n', boot: true }),
    );
    expect(plan.changes.at(-1)).toBe('persisted: "outdated" → "yes"');
  });

  it('reads the files it persists to as the converged lab director printed them, and finds nothing to do', () => {
    const state = stateOf(fixture('ipvsadm', 'read-lab-converged.captured'));
    expect(state.recorded).toBe('-t 192.168.9.100:80');
    expect(state.persistence.bootEnabled).toBe(true);
    expect(state.persistence.rules).toBe(
      '# emtpy rules file for ipvsadm\n-A -t 192.168.9.100:80 -s rr\n-a -t 192.168.9.100:80 -r 192.168.9.11:80 -g -w 1\n-a -t 192.168.9.100:80 -r 192.168.9.12:80 -g -w 1\n',
    );
    // Debian's own file, kept byte for byte: its blank lines and a trailing tab.
    expect(state.persistence.defaults).toContain('AUTO="true"\n\n# daemon method');
    expect(state.persistence.defaults).toContain('IFACE="eth0"\t\n');
    const director = {
      ...lab,
      realServers: lab.realServers.map((rs) => ({ ...rs, forwarding: 'route' as const, weight: 1 })),
      persist: true,
    };
    expect(planFor(director, fixture('ipvsadm', 'read-lab-converged.captured'))).toEqual({ changes: [], steps: [] });
  });

  it('keeps a persisted file whose lines look like the read’s own fields', () => {
    const rules = '@rules -\n|-A -t 10.0.0.1:80 -s rr\n@boot enabled\n';
    expect(stateOf(readOutput(table('lab-converged'), { rules })).persistence).toMatchObject({ rules, bootEnabled: false });
  });

  it('on RHEL writes /etc/sysconfig/ipvsadm and enables ipvsadm.service', () => {
    const plan = planFor({ ...lab, persist: true }, readOutput(table('lab-converged'), { flavour: 'rhel' }));
    expect(plan.changes).toEqual(['persisted: "no" → "yes"', 'boot service: "disabled" → "enabled"']);
    expect(plan.steps[0]).toContain('/etc/sysconfig/ipvsadm');
    expect(plan.steps[1]).toBe('systemctl enable --quiet ipvsadm.service');
  });

  it('cannot persist on a host of unknown kind, and says how to go on', () => {
    expect(() => planFor({ ...lab, persist: true }, readOutput(table('lab-converged'), { flavour: 'other' }))).toThrow(
      /set persist: false/,
    );
  });

  it('reads AUTO the way the init script’s shell would', () => {
    expect(autoValue(debianDefaults)).toBe('false');
    expect(autoValue('AUTO=true\n')).toBe('true');
    expect(autoValue("AUTO='true' # on boot\n")).toBe('true');
    expect(autoValue('# AUTO="true"\n')).toBeNull();
  });
});

describe('ipvsRule: parameters', () => {
  it('is identified by its name', () => {
    expect(ipvsRule(lab).id).toBe('ipvsRule[web]');
  });

  it('rejects incomplete services, mixed families, duplicates and hostile values', () => {
    const problems = (params: unknown): string => {
      try {
        ipvsRule(params as Params);
      } catch (error) {
        expect(error).toBeInstanceOf(ResourceParamsError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(problems({ ...lab, port: undefined })).toMatch(/port is required for a tcp service/);
    expect(problems({ name: 'm', protocol: 'fwmark', realServers: [] })).toMatch(/fwmark is required/);
    expect(problems({ ...lab, realServers: [{ address: 'fd00::11' }] })).toMatch(/realServers\[0\]\.address must be IPv4/);
    expect(problems({ ...lab, realServers: [{ address: '192.168.9.11' }, { address: '192.168.9.11', port: 80 }] })).toMatch(
      /realServers\[1\] appears twice/,
    );
    expect(problems({ ...lab, scheduler: 'rr; ipvsadm -C' })).toMatch(/scheduler must be one of: "rr", "wrr"/);
    expect(problems({ ...lab, name: '../../etc/passwd' })).toMatch(/name must be a name of letters/);
  });
});
