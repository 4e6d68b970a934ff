/** `keel typecheck` and `keel new`: the recipe author's commands. */
import { Argument, type Command } from 'commander';
import { EXIT } from '../engine/events.js';

export function registerAuthorCommands(program: Command): void {
  program
    .command('typecheck')
    .description('type-check recipes and resources with the TypeScript compiler')
    .argument('[paths...]', 'files or directories', ['recipes'])
    .action(async (paths: string[]) => {
      const { typecheck } = await import('./typecheck.js');
      const result = await typecheck(paths);
      if (result.files.length === 0) {
        process.stderr.write(`keel typecheck: no .ts files under ${paths.join(', ')}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      if (result.errors > 0) process.stderr.write(result.report);
      process.stdout.write(`${result.files.length} files checked, ${result.errors} errors\n`);
      process.exitCode = result.errors > 0 ? EXIT.usage : EXIT.ok;
    });

  program
    .command('new')
    .description('write a starting recipe or resource that compiles and passes the idempotence harness')
    .addArgument(new Argument('<kind>', 'what to create').choices(['recipe', 'resource']))
    .argument('<name>', 'its name, e.g. webserver or hostsEntry')
    .option('-o, --output <file>', 'where to write it (default recipes/NAME.ts or resources/NAME.ts)')
    .action(async (kind: 'recipe' | 'resource', name: string, flags: { output?: string }) => {
      const { scaffold } = await import('./scaffold.js');
      const file = scaffold(kind, name, flags.output ?? `${kind === 'recipe' ? 'recipes' : 'resources'}/${name}.ts`);
      process.stdout.write(`wrote ${file}\n`);
    });
}
