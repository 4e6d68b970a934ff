/** Inventories for lab hosts, with per-host settings that break (or fix) one host at a time. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Lab } from '../../lab/hosts.js';

export interface LabInventoryOptions {
  vars?: Record<string, unknown>;
  /** Settings of one host over the lab's defaults (root, the lab's key, known_hosts and proxy). */
  hosts?: Record<string, Record<string, unknown>>;
}

export function writeLabInventory(path: string, lab: Lab, options: LabInventoryOptions = {}): string {
  const inventory = {
    defaults: { user: 'root', identityFile: lab.keyPath, knownHostsFile: lab.knownHostsPath, proxyCommand: lab.proxyCommand },
    ...(options.vars ? { vars: options.vars } : {}),
    hosts: Object.fromEntries(lab.hosts.map((host) => [host.name, { address: host.address, ...options.hosts?.[host.name] }])),
  };
  writeFileSync(path, stringify(inventory));
  return path;
}
