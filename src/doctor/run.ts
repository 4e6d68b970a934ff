/** Reading every selected host in one remote invocation each, in parallel, then diagnosing the cluster from what was read. */
import { adhocExitCode } from '../engine/adhoc.js';
import { EXIT } from '../engine/events.js';
import { forEachHost, withConnection } from '../engine/fanout.js';
import { BatchError, runSections } from '../engine/remote.js';
import type { HostTarget } from '../engine/target.js';
import { redact } from '../shell/index.js';
import { arpProbeSection, parseArpProbe } from './arpProbe.js';
import { type ArpProbeResult, type Diagnosis, diagnose } from './findings.js';
import { doctorSections, type HostState, parseHostState, type SectionName } from './state.js';

export type DoctorTarget = Pick<HostTarget, 'name' | 'connect' | 'secrets'> & { address: string };

/** `failed`: the host answered, but its state could not be read. */
export type DoctorOutcome = 'ok' | 'failed' | 'unreachable';

export interface DoctorHostResult {
  host: string;
  address: string;
  outcome: DoctorOutcome;
  error?: string;
  state: HostState | null;
  durationMs: number;
}

export type DoctorEvent =
  | { type: 'doctor-start'; hosts: string[]; at: number }
  | { type: 'doctor-host-start'; host: string; at: number }
  | { type: 'doctor-host-end'; result: DoctorHostResult };

export interface DoctorSummary extends Diagnosis {
  startedAt: string;
  durationMs: number;
  hosts: DoctorHostResult[];
  exitCode: number;
}

export interface DoctorOptions {
  hosts: DoctorTarget[];
  forks: number;
  timeoutMs: number;
  emit(event: DoctorEvent): void;
}

/** 0 nothing wrong; OR-ed: 2 a finding above information, 4 a host could not be read, 8 a host unreachable. */
export function doctorExitCode(diagnosis: Pick<Diagnosis, 'findings'>, hosts: readonly Pick<DoctorHostResult, 'outcome'>[]): number {
  return (diagnosis.findings.some((finding) => finding.severity !== 'info') ? EXIT.drift : EXIT.ok) | adhocExitCode(hosts, false);
}

async function readHost(target: DoctorTarget, timeoutMs: number): Promise<DoctorHostResult> {
  const started = Date.now();
  const clean = (text: string): string => redact(text, target.secrets ?? []);
  const base = { host: target.name, address: target.address, state: null };
  const ended = (outcome: DoctorOutcome, error: string): DoctorHostResult => ({
    ...base,
    outcome,
    error: clean(error),
    durationMs: Date.now() - started,
  });
  return withConnection(
    target,
    async (transport) => {
      const results = await runSections(transport, doctorSections(), timeoutMs);
      const outputs = {} as Record<SectionName, string>;
      for (const section of doctorSections()) {
        const result = results.get(section.name);
        if (result?.code !== 0)
          return ended('failed', `${section.command.display}: ${result ? `exit ${result.code}: ${result.stderr.trim()}` : 'no output'}`);
        outputs[section.name as SectionName] = result.stdout;
      }
      try {
        return { ...base, outcome: 'ok', state: parseHostState(outputs), durationMs: Date.now() - started };
      } catch (error) {
        return ended('failed', `cannot read the host's state: ${(error as Error).message}`);
      }
    },
    (error, connected) =>
      !connected
        ? ended('unreachable', error.message)
        : error instanceof BatchError
          ? ended('failed', error.message)
          : ended('unreachable', `connection lost: ${error.message}`),
  );
}

/** The VIPs of a director's table with the up interface other than lo that holds each. */
function vipInterfaces(state: HostState): { vip: string; device: string }[] {
  const vips = new Set(
    (state.ipvs?.table ?? []).flatMap((service) => {
      const match = /^-[tu] (\d+\.\d+\.\d+\.\d+):\d+$/.exec(service.key);
      return match ? [match[1]!] : [];
    }),
  );
  return [...vips].flatMap((vip) => {
    const link = state.links.find(
      (candidate) => candidate.up && candidate.name !== 'lo' && candidate.addresses.some((entry) => entry.local === vip),
    );
    return link ? [{ vip, device: link.name }] : [];
  });
}

/**
 * One more invocation, on the first director read: the active ARP probe for each of its VIPs. The director answered
 * the read a moment ago, so a probe that fails is no finding: its check is listed as skipped, with why.
 */
async function probeArp(options: DoctorOptions, hosts: readonly DoctorHostResult[]): Promise<ArpProbeResult | undefined> {
  const director = hosts.find((host) => (host.state?.ipvs?.table.length ?? 0) > 0);
  const target = options.hosts.find((candidate) => candidate.name === director?.host);
  if (!director?.state || !target) return undefined;
  const vips = vipInterfaces(director.state);
  if (vips.length === 0) return undefined;
  const sections = vips.map(({ vip, device }) => arpProbeSection(vip, device));
  return withConnection<ArpProbeResult>(
    target,
    async (transport) => {
      const results = await runSections(transport, sections, options.timeoutMs);
      return {
        director: director.host,
        probes: vips.map(({ vip, device }, index) =>
          parseArpProbe(vip, device, results.get(sections[index]!.name)?.stdout ?? '@no-arping'),
        ),
      };
    },
    (error, connected) => ({
      director: director.host,
      failed: redact(`the ARP probe ${connected ? 'failed' : 'could not connect'}: ${error.message}`, target.secrets ?? []),
    }),
  );
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorSummary> {
  const started = Date.now();
  options.emit({ type: 'doctor-start', hosts: options.hosts.map((host) => host.name), at: started });
  const hosts = await forEachHost(options.hosts, options.forks, async (target) => {
    options.emit({ type: 'doctor-host-start', host: target.name, at: Date.now() });
    const result = await readHost(target, options.timeoutMs);
    options.emit({ type: 'doctor-host-end', result });
    return result;
  });
  const arp = await probeArp(options, hosts);
  const diagnosis = diagnose(
    hosts.map((host) => ({ name: host.host, address: host.address, state: host.state })),
    arp,
  );
  return {
    ...diagnosis,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    hosts,
    exitCode: doctorExitCode(diagnosis, hosts),
  };
}
