/** sysctl's parser, on its read command's output captured over SSH from a lab host by test/fixtures/sysctl/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource, Unknowable } from '../../src/engine/resource.js';
import { parseSysctlRead, type SysctlState, splitSysctlReads, sysctl, withPersistedValue } from '../../src/resources/sysctl.js';
import { fixture } from '../support/fixtures.js';

const REAL_SERVER_FILE =
  '# LVS-DR real server\nnet.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n# net.ipv4.ip_forward = 1\n';

const read = (name: string, key: string): SysctlState | Unknowable => parseSysctlRead(fixture('sysctl', name), key);

function stateOf(name: string, key: string): SysctlState {
  const state = read(name, key);
  if (state instanceof Unknowable) throw new Error(state.reason);
  return state;
}

describe('sysctl: parsing the read command’s output', () => {
  it('reads a key its sysctl.d file sets, keeping the whole file to rewrite it', () => {
    expect(read('set-in-file', 'net.ipv4.conf.all.arp_ignore')).toEqual({ value: '1', persisted: '1', fileContent: REAL_SERVER_FILE });
  });

  it('reads a key the file leaves out, or names only in a comment, as not persisted', () => {
    expect(read('absent-from-file', 'net.ipv4.ip_forward')).toEqual({ value: '0', persisted: null, fileContent: REAL_SERVER_FILE });
  });

  it('tells a missing file from an empty one', () => {
    expect(read('no-file', 'net.ipv4.ip_forward')).toEqual({ value: '0', persisted: null, fileContent: null });
    expect(read('empty-file', 'net.ipv4.ip_forward')).toEqual({ value: '1', persisted: null, fileContent: '' });
  });

  it('takes the last assignment of a file, in slash or dash spelling, even without a newline at its end', () => {
    expect(read('reassigned-in-file', 'net.ipv4.conf.all.arp_ignore')).toEqual({
      value: '2',
      persisted: '1',
      fileContent: '; kept by hand\nnet/ipv4/conf/all/arp_ignore=2\n\n-net.ipv4.conf.all.arp_ignore = 1\n',
    });
  });

  it('reads the key of an interface whose name holds a dot', () => {
    expect(read('dotted-interface', 'net.ipv4.conf.eth0/5.rp_filter')).toMatchObject({ value: '2', persisted: '2' });
  });

  it('normalises the whitespace of a value of several fields in the file', () => {
    expect(stateOf('two-values', 'net.ipv4.ip_local_port_range').persisted).toBe('32768 60999');
  });

  it('reads a live value of several fields whole, with its whitespace normalised', () => {
    expect(stateOf('two-values', 'net.ipv4.ip_local_port_range').value).toBe('32768 60999');
  });

  it('is unknowable for a key the kernel does not have (net.ipv4.vs.* without ip_vs), whatever the file says', () => {
    expect(read('not-in-kernel', 'net.ipv4.vs.expire_nodest_conn')).toEqual(
      new Unknowable('/proc/sys/net/ipv4/vs/expire_nodest_conn does not exist (is the module loaded, does the interface exist?)'),
    );
  });

  it('refuses output it does not understand', () => {
    expect(() => parseSysctlRead('', 'net.ipv4.ip_forward')).toThrow(/unexpected output/);
    expect(() => parseSysctlRead('live:1\n', 'net.ipv4.ip_forward')).toThrow(/persistence file marker is missing/);
  });
});

describe('sysctl: several keys read together', () => {
  const LVS_FILE = '/etc/sysctl.d/60-lvs-dr.conf';
  const DEFAULT_FILE = '/etc/sysctl.d/99-keel.conf';
  const keys = [
    { key: 'net.ipv4.conf.all.arp_ignore', file: LVS_FILE },
    { key: 'net.ipv4.conf.all.arp_announce', file: LVS_FILE },
    { key: 'net.ipv4.ip_forward', file: DEFAULT_FILE },
    { key: 'net.ipv4.ip_local_port_range', file: LVS_FILE },
    { key: 'net.ipv4.vs.expire_nodest_conn', file: DEFAULT_FILE },
  ];
  const together = { stdout: fixture('sysctl', 'together'), stderr: '', code: 0 };

  it('parse to what each key’s own read of the same host parses to', () => {
    const split = splitSysctlReads(together, keys);
    expect(split).toHaveLength(keys.length);
    keys.forEach(({ key }, index) => {
      expect(parseSysctlRead(split[index]!.stdout, key), key).toEqual(parseSysctlRead(fixture('sysctl', `together-own-${index}`), key));
    });
    expect(parseSysctlRead(split[1]!.stdout, 'net.ipv4.conf.all.arp_announce')).toEqual({
      value: '0',
      persisted: '2',
      fileContent: REAL_SERVER_FILE,
    });
    expect(parseSysctlRead(split[4]!.stdout, 'net.ipv4.vs.expire_nodest_conn')).toBeInstanceOf(Unknowable);
  });

  it('start one program for every key, and read each file once', () => {
    const command = sysctl.definition.readTogether!(keys.map(({ key, file }) => ({ key, value: 1, file }))).command.text;
    expect(command.match(/\bgrep\b/g)).toHaveLength(1);
    expect(command).not.toMatch(/\bcat\b/);
    expect(command.split(`< ${LVS_FILE}`)).toHaveLength(2);
  });

  it('refuse output they do not understand', () => {
    expect(() => splitSysctlReads({ stdout: 'something else\n', stderr: '', code: 0 }, keys)).toThrow(/unexpected output/);
    const noFiles = together.stdout.replace(/^(file|no-file) .*\n/gm, '').replace(/^\|.*\n/gm, '');
    expect(() => splitSysctlReads({ stdout: noFiles, stderr: '', code: 0 }, keys)).toThrow(/60-lvs-dr\.conf is missing from the output/);
  });
});

describe('sysctl: the plan on the captured hosts', () => {
  it('is in sync where the live value and the file agree', () => {
    expect(
      diffResource(sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 }), stateOf('set-in-file', 'net.ipv4.conf.all.arp_ignore')),
    ).toEqual([]);
  });

  it('sets the live value and appends the key to a file that lacks it, keeping the other lines', () => {
    const state = stateOf('absent-from-file', 'net.ipv4.ip_forward');
    expect(diffResource(sysctl({ key: 'net.ipv4.ip_forward', value: 1 }), state)).toEqual([
      { field: 'value', from: '0', to: '1' },
      { field: 'persisted', from: null, to: '1' },
    ]);
    expect(withPersistedValue(state.fileContent, 'net.ipv4.ip_forward', '1')).toBe(`${REAL_SERVER_FILE}net.ipv4.ip_forward = 1\n`);
  });

  it('rewrites the first assignment of a reassigned key and drops the later ones', () => {
    const state = stateOf('reassigned-in-file', 'net.ipv4.conf.all.arp_ignore');
    const instance = sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 2, file: '/etc/sysctl.d/60-lvs-dr.conf' });
    expect(diffResource(instance, state)).toEqual([{ field: 'persisted', from: '1', to: '2' }]);
    expect(withPersistedValue(state.fileContent, 'net.ipv4.conf.all.arp_ignore', '2')).toBe(
      '; kept by hand\nnet.ipv4.conf.all.arp_ignore = 2\n\n',
    );
  });

  it('leaves the file alone with persist: false', () => {
    expect(
      diffResource(sysctl({ key: 'net.ipv4.ip_forward', value: 1, persist: false }), stateOf('no-file', 'net.ipv4.ip_forward')),
    ).toEqual([{ field: 'value', from: '0', to: '1' }]);
  });
});
