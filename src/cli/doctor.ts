/** `keel doctor`: read the selected hosts, find the topology in their IPVS tables, and name what is wrong with the DR cluster. */
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { doctorLines, toDoctorReport } from '../doctor/report.js';
import { type DoctorEvent, runDoctor } from '../doctor/run.js';
import { EXIT } from '../engine/events.js';
import { addConnectionOptions, addHostOptions, type HostFlags, wantsLiveView, writeJsonReport } from './options.js';
import { selectedTargets } from './targets.js';

const DOCTOR_HELP = `
doctor needs no recipe: every selected host whose IPVS table has virtual services is a director, and each real
server of its table is matched to an inventory host by address. Each host is read once (one remote invocation),
and nothing is changed. Findings are grouped by host, worst first, each with what was seen, why it matters and
the keel resource that fixes it (docs/doctor.md lists them). Notes (info) never change the exit code.

Examples:
  keel doctor -i inventory/lab.yaml
  keel doctor -i inventory/prod.yaml -l 'lvs*' --json doctor.json
  keel doctor -i inventory/lab.yaml --json - | jq -r '.findings[] | "\\(.host) \\(.id)"'

Exit codes (OR-ed together when several apply):
  0    nothing wrong (notes aside)
  1    usage or inventory error (no host was contacted)
  2    a finding: something is wrong
  4    a host answered but its state could not be read
  8    a host was unreachable`;

const CLEAR_LINE = '\r\x1b[2K';

/** On a terminal: one status line, redrawn as hosts are read, cleared before the findings print. */
function progressLine(stream: NodeJS.WriteStream): { sink(event: DoctorEvent): void; done(): void } {
  let total = 0;
  let finished = 0;
  const running = new Set<string>();
  const draw = (): void => {
    const names = [...running].slice(0, 3).join(', ');
    stream.write(
      `${CLEAR_LINE}keel doctor: ${finished} of ${total} hosts read${running.size ? `; reading ${names}${running.size > 3 ? ', …' : ''}` : ''}`,
    );
  };
  return {
    sink(event) {
      if (event.type === 'doctor-start') total = event.hosts.length;
      else if (event.type === 'doctor-host-start') running.add(event.host);
      else {
        running.delete(event.result.host);
        finished += 1;
      }
      draw();
    },
    done: () => void stream.write(CLEAR_LINE),
  };
}

async function doctor(flags: HostFlags & { html?: string }): Promise<number> {
  const targets = await selectedTargets(flags, 'examine');
  if (!targets) return EXIT.usage;
  const jsonToStdout = flags.json === true || flags.json === '-';
  const output = jsonToStdout ? process.stderr : process.stdout;
  const progress = wantsLiveView(flags.ui, jsonToStdout) ? progressLine(process.stdout) : undefined;
  const summary = await runDoctor({
    hosts: targets,
    forks: flags.forks,
    timeoutMs: (flags.timeout ?? 60) * 1000,
    emit: (event) => progress?.sink(event),
  });
  progress?.done();
  for (const line of doctorLines(summary)) output.write(`${line}\n`);
  if (flags.html !== undefined) {
    // Loaded only when asked for, as for the run commands.
    const { renderDoctorHtml } = await import('../doctor/html.js');
    writeFileSync(flags.html, renderDoctorHtml(summary));
  }
  if (flags.json !== undefined) writeJsonReport(flags.json, toDoctorReport(summary));
  return summary.exitCode;
}

export function registerDoctorCommand(program: Command): void {
  addConnectionOptions(
    addHostOptions(program.command('doctor').description('find what is wrong with an LVS-DR cluster, from the kernel state of its hosts')),
  )
    .option('--json [file]', 'write the JSON report (schema/doctor.v1.json) to a file, or to stdout')
    .option('--html <file>', 'write the findings as one self-contained HTML page, with the cluster drawn')
    .addOption(
      new Option('--ui <kind>', 'live: a progress line while hosts are read; plain: the findings alone; auto: live on a terminal')
        .choices(['auto', 'live', 'plain'])
        .default('auto'),
    )
    .addHelpText('after', DOCTOR_HELP)
    .action(async (flags: HostFlags & { html?: string }) => {
      process.exitCode = await doctor(flags);
    });
}
