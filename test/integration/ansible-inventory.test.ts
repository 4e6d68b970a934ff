/**
 * Ansible's own documented inventory examples (test/fixtures/ansible-inventory/docs, in INI and YAML, with
 * group_vars/ and host_vars/), read by the real ansible-inventory and by keel's CLI: the same hosts, the same
 * group membership, the same merged vars. keel takes the connection variables out of the vars as its own
 * settings, and leaves out those it does not use: both are checked against Ansible's values too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keel, REPO } from '../support/cli.js';

const DOCS = join(REPO, 'test/fixtures/ansible-inventory/docs');

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList['_meta'];
}

interface KeelList {
  hosts: Record<string, { address: string; groups: string[]; connection: Record<string, unknown>; vars: Record<string, unknown> }>;
}

function ansibleInventory(file: string): AnsibleList {
  const result = spawnSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' },
  });
  if (result.status !== 0) throw new Error(`ansible-inventory -i ${file} --list exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as AnsibleList;
}

/** Each host's groups as Ansible's group tree has them: every group that holds it, directly or through children. */
function ansibleGroups(list: AnsibleList): Map<string, string[]> {
  const groups = Object.entries(list).filter(([name]) => name !== '_meta' && name !== 'all') as [
    string,
    { hosts?: string[]; children?: string[] },
  ][];
  const tree = new Map(groups);
  const hostsOf = (name: string): string[] => [...(tree.get(name)?.hosts ?? []), ...(tree.get(name)?.children ?? []).flatMap(hostsOf)];
  const byHost = new Map<string, string[]>();
  for (const [name] of groups) for (const host of new Set(hostsOf(name))) byHost.set(host, [...(byHost.get(host) ?? []), name]);
  return byHost;
}

/** How keel's settings read back as Ansible's connection variables, for the values this fixture uses. */
function asAnsibleVars(name: string, host: KeelList['hosts'][string]): Record<string, unknown> {
  const { connection } = host;
  return {
    ...(host.address !== name ? { ansible_host: host.address } : {}),
    ...(connection.port !== undefined ? { ansible_port: connection.port } : {}),
    ...(connection.user !== undefined ? { ansible_user: connection.user } : {}),
    ...(connection.identityFile !== undefined ? { ansible_ssh_private_key_file: connection.identityFile } : {}),
    ...(connection.connection === 'local' ? { ansible_connection: 'local' } : {}),
  };
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe.each(['hosts.ini', 'hosts.yml'])(
  "Ansible's documented inventory examples (%s) read by keel as ansible-inventory reads them",
  (name) => {
    const file = join(DOCS, name);
    const ansible = ansibleInventory(file);
    const listed = keel(['inventory', 'list', '-i', file, '--json']);
    const mine = JSON.parse(listed.stdout) as KeelList;

    it('lists the same hosts', () => {
      expect(listed.code, listed.stderr).toBe(0);
      expect(sorted(Object.keys(mine.hosts))).toEqual(sorted(Object.keys(ansible._meta.hostvars)));
      expect(Object.keys(mine.hosts).length).toBeGreaterThan(30);
    });

    it('puts each host in the same groups, ancestors included', () => {
      const groups = ansibleGroups(ansible);
      for (const [host, entry] of Object.entries(mine.hosts)) expect(sorted(entry.groups), host).toEqual(sorted(groups.get(host) ?? []));
    });

    it('merges the same vars, group_vars/ and host_vars/ included', () => {
      for (const [host, entry] of Object.entries(mine.hosts)) {
        const theirs = ansible._meta.hostvars[host] ?? {};
        const plain = Object.fromEntries(Object.entries(theirs).filter(([key]) => !key.startsWith('ansible_')));
        expect(entry.vars, host).toEqual(plain);
      }
    });

    it('takes the connection variables as its settings, and names the ones it does not use', () => {
      for (const [host, entry] of Object.entries(mine.hosts)) {
        const theirs = ansible._meta.hostvars[host] ?? {};
        const mapped = asAnsibleVars(host, entry);
        for (const [key, value] of Object.entries(mapped)) expect(theirs[key], `${host} ${key}`).toEqual(value);
      }
      const unused = sorted(
        Object.values(ansible._meta.hostvars).flatMap((vars) => Object.keys(vars).filter((key) => /_interpreter$/.test(key))),
      );
      expect(unused).toEqual(['ansible_python_interpreter', 'ansible_ruby_interpreter']);
      const warnings = listed.stderr.split('\n').filter((line) => line.startsWith('keel: warning:'));
      expect(warnings).toHaveLength(1);
      for (const key of unused) expect(warnings[0]).toContain(key);
    });

    it('imports as a keel inventory that lists the same', () => {
      const imported = keel(['inventory', 'import', file]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/^# yaml-language-server: \$schema=\/.*\/inventory\/schema\.json\n/);
      const keelFile = join(mkdtempSync(join(tmpdir(), 'keel-import-')), 'site.yaml');
      writeFileSync(keelFile, imported.stdout);
      const again = keel(['inventory', 'list', '-i', keelFile, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).hosts).toEqual(mine.hosts);
    });
  },
);
