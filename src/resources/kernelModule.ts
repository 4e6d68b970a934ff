/**
 * A kernel module: loaded now (`modprobe`), and (unless `persist: false`) listed in
 * /etc/modules-load.d/NAME.conf so systemd-modules-load loads it at every boot.
 */
import { Type } from '@sinclair/typebox';
import { defineResource } from '../engine/resource.js';
import { atomicWriteScript, ensureDirectory, printTextFile, type ShellCommand, sh } from '../shell/index.js';

const KernelModuleParams = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$', title: 'a module name such as ip_vs' }),
    persist: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export interface KernelModuleState {
  loaded: boolean;
  /** Whether the modules-load.d file names the module. */
  persisted: boolean;
}

const MODULES_LOAD_DIRECTORY = '/etc/modules-load.d';

function loadFile(name: string): string {
  return `${MODULES_LOAD_DIRECTORY}/${name}.conf`;
}

/** The kernel writes `-` in module names as `_` (/sys/module/ip_vs_rr). */
function sysfsName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Read output: `loaded` or `not-loaded`, then the modules-load.d file (or nothing). */
export function parseKernelModuleRead(stdout: string, name: string): KernelModuleState {
  const [first = '', ...file] = stdout.split('\n');
  if (first !== 'loaded' && first !== 'not-loaded') throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const listed = file.map((line) => line.replace(/#.*/, '').trim()).some((line) => sysfsName(line) === sysfsName(name));
  return { loaded: first === 'loaded', persisted: listed };
}

export const kernelModule = defineResource({
  type: 'kernelModule',
  schema: KernelModuleParams,
  key: (params) => params.name,
  read(params) {
    return {
      command: sh`if [ -d ${`/sys/module/${sysfsName(params.name)}`} ]; then echo loaded; else echo not-loaded; fi
if [ -f ${loadFile(params.name)} ]; then ${printTextFile(loadFile(params.name))}; fi`,
      parse: (output) => parseKernelModuleRead(output.stdout, params.name),
    };
  },
  desired: (params) => (params.persist === false ? { loaded: true } : { loaded: true, persisted: true }),
  apply(params, _current, changes) {
    const steps: ShellCommand[] = [];
    if (changes.some((c) => c.field === 'loaded')) steps.push(sh`modprobe ${params.name}`);
    if (changes.some((c) => c.field === 'persisted')) {
      steps.push(
        ensureDirectory(MODULES_LOAD_DIRECTORY),
        atomicWriteScript(
          loadFile(params.name),
          `# Written by keel (kernelModule): loaded at boot by systemd-modules-load.\n${params.name}\n`,
        ),
      );
    }
    return steps;
  },
});
