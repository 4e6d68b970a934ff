/** A user's recipe project whose one custom resource writes files in a temp directory, slowly when asked to. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recipeProject } from './cli.js';

const SITE_RECIPE = `
import { defineResource, recipe, sh, Type, Vars } from 'keel';

/** A text file that takes a while to write, like a package download. */
const slowFile = defineResource({
  type: 'slowFile',
  schema: Type.Object({ path: Type.String(), content: Type.String(), seconds: Type.Number() }),
  key: (params) => params.path,
  read: (params) => ({
    command: sh\`cat \${params.path} 2>/dev/null || printf '%s' '<absent>'\`,
    parse: ({ stdout }) => ({ content: stdout === '<absent>' ? null : stdout }),
  }),
  desired: (params) => ({ content: params.content }),
  apply: (params) => [sh\`sleep \${params.seconds}\`, sh\`printf '%s' \${params.content} > \${params.path}\`],
});

export default recipe({
  name: 'site',
  vars: Vars({ dir: Type.String(), seconds: Type.Number() }),
  resources: ({ vars }) => [
    slowFile({ path: \`\${vars.dir}/motd\`, content: 'welcome\\n', seconds: vars.seconds }),
    slowFile({ path: \`\${vars.dir}/app.conf\`, content: 'listen 8080\\nworkers 4\\nlog info\\n', seconds: vars.seconds }),
    slowFile({ path: \`\${vars.dir}/release\`, content: '2.4.1', seconds: vars.seconds }),
  ],
});
`;

export interface SiteProject {
  directory: string;
  /** The directory the recipe manages. */
  state: string;
  /** Puts the managed files back in their old state and writes an inventory whose changes take `seconds` each. */
  reset(seconds: number): void;
  /** keel arguments for a mode, against the one local host. */
  args(mode: 'plan' | 'apply' | 'check', ...extra: string[]): string[];
}

export function siteProject(): SiteProject {
  const directory = recipeProject({ 'recipes/site.ts': SITE_RECIPE });
  const state = join(directory, 'state');
  return {
    directory,
    state,
    reset(seconds) {
      rmSync(state, { recursive: true, force: true });
      mkdirSync(state);
      writeFileSync(join(state, 'app.conf'), 'listen 80\nworkers 4\nlog debug\n');
      writeFileSync(join(state, 'release'), '2.4.0');
      writeFileSync(join(directory, 'inventory.yaml'), `hosts:\n  box:\n    vars:\n      dir: ${state}\n      seconds: ${seconds}\n`);
    },
    args: (mode, ...extra) => [mode, 'recipes/site.ts', '-i', 'inventory.yaml', '--connection', 'local', ...extra],
  };
}
