/** Options the commands that reach hosts share, and parsers for option values, with messages in keel's words. */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import isInCi from 'is-in-ci';
import { parseShard, type Shard, ShardError } from '../inventory/shard.js';
import type { ConnectionKind } from '../planner/connect.js';

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

export function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return parsed;
}

function shardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (error) {
    if (error instanceof ShardError) throw new InvalidArgumentError(error.message.replace(/^--shard \S+: /, ''));
    throw error;
  }
}

/** What addHostOptions and addConnectionOptions parse, with --json and --ui, which every host command has too. */
export interface HostFlags {
  inventory: string;
  limit?: string;
  shard?: Shard;
  forks: number;
  connection: ConnectionKind;
  json?: string | true;
  acceptNew?: boolean;
  knownHosts?: string;
  askBecomePass?: boolean;
  timeout?: number;
  ui: 'auto' | 'live' | 'plain';
}

/** -i and -l: which hosts. */
export function addHostOptions(command: Command): Command {
  return command
    .requiredOption('-i, --inventory <file>', 'inventory file: keel YAML or JSON, or Ansible INI or YAML')
    .option('-l, --limit <patterns>', 'only these hosts: names, groups or globs, comma-separated; !pattern excludes')
    .option('--shard <K/N>', 'only the K-th of N deterministic shares of the selected hosts (hashed by host name)', shardOption);
}

// Measured (bench/README.md, 1,000 hosts on 2 CPUs): checks took 55.7 s at --forks 10, 51.2 s at 20, 38.4 s at 50, 39.7 s at 100, 41.5 s at 200.
export const DEFAULT_FORKS = Math.min(200, 25 * availableParallelism());

/** How hosts are reached, and how many at once. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('-f, --forks <n>', 'hosts worked on in parallel: 25 per CPU, at most 200', positiveInteger, DEFAULT_FORKS)
    .addOption(new Option('-c, --connection <kind>', 'how to reach hosts').choices(['ssh', 'local']).default('ssh'))
    .option('--accept-new', 'record the host keys of hosts not yet in known_hosts (trust on first use)')
    .option('--ask-become-pass', 'ask for the sudo password of the hosts that become root')
    .option(
      '--known-hosts <file>',
      "a known_hosts file read besides ~/.ssh/known_hosts and the inventory's; --accept-new records keys in it",
    )
    .option('--timeout <seconds>', 'per remote command', positiveNumber);
}

/** `--connection local` runs on this machine, so it takes exactly one host; false (and said why) otherwise. */
export function localTakesOneHost(connection: string, hosts: readonly string[]): boolean {
  if (connection !== 'local' || hosts.length <= 1) return true;
  process.stderr.write(
    `keel: --connection local runs on this machine, so it takes exactly one host; ${hosts.length} are selected (${hosts.join(', ')}). Use --limit.\n`,
  );
  return false;
}

/** Ink's own test: under CI it draws no frame until the end, so a live view there would show nothing. */
export function wantsLiveView(ui: 'auto' | 'live' | 'plain', jsonToStdout: boolean): boolean {
  return !jsonToStdout && (ui === 'live' || (ui === 'auto' && process.stdout.isTTY === true && !isInCi));
}

/** `--json`: the report to stdout (`--json` or `--json -`), or to the file it names. */
export function writeJsonReport(json: string | true, report: unknown): void {
  const document = `${JSON.stringify(report, null, 2)}\n`;
  if (json === true || json === '-') process.stdout.write(document);
  else writeFileSync(json, document);
}
