/** `keel new recipe|resource NAME`: a starting file that compiles and passes the idempotence harness. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class ScaffoldError extends Error {
  constructor(message: string) {
    super(`keel new: ${message}`);
    this.name = 'ScaffoldError';
  }
}

export const SCAFFOLD_NAME = /^[a-z][A-Za-z0-9]*$/;

function recipeTemplate(name: string): string {
  return `import { recipe, sysctl, Vars, InterfaceName } from 'keel';

/** ${name}: describe what this recipe makes true on its hosts. */
export default recipe({
  name: '${name}',
  // Which hosts it applies to: a group, a host name or a glob of the inventory.
  hosts: 'all',
  // The vars it needs from the inventory, checked before any host is contacted.
  vars: Vars({ lanInterface: InterfaceName }),
  resources: ({ vars }) => [
    sysctl({ key: \`net.ipv4.conf.\${vars.lanInterface}.rp_filter\`, value: 2 }),
  ],
});
`;
}

function resourceTemplate(name: string): string {
  return `import { defineResource, fieldChange, sh, Type, writeFileScript, AbsolutePath } from 'keel';

/**
 * ${name}: a text file holding one value. Replace the read, diff and apply with what your resource manages;
 * keep read side-effect free.
 */
export const ${name} = defineResource({
  type: '${name}',
  schema: Type.Object({ path: AbsolutePath, value: Type.String({ maxLength: 4096 }) }, { additionalProperties: false }),
  key: (params) => params.path,
  read: (params) => ({
    command: sh\`if [ -f \${params.path} ]; then echo present; cat \${params.path}; else echo absent; fi\`,
    parse: ({ stdout }) => {
      const [status, ...rest] = stdout.split('\\n');
      return { value: status === 'present' ? rest.join('\\n') : null };
    },
  }),
  diff: (params, current) => (current.value === params.value ? [] : [fieldChange('value', current.value, params.value)]),
  apply: (params) => [writeFileScript(params.path, params.value, { mode: 0o644 })],
});
`;
}

export function scaffold(kind: 'recipe' | 'resource', name: string, file: string): string {
  if (!SCAFFOLD_NAME.test(name))
    throw new ScaffoldError(`"${name}" is not a usable name: use letters and digits, starting with a lower-case letter`);
  if (existsSync(file)) throw new ScaffoldError(`${file} exists already; keel new never overwrites`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, kind === 'recipe' ? recipeTemplate(name) : resourceTemplate(name));
  return file;
}
