/** `keel typecheck`: the TypeScript compiler over user recipes, so a misspelt parameter fails before anything runs. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

function tsFilesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.name === 'node_modules'
      ? []
      : entry.isDirectory()
        ? tsFilesUnder(join(path, entry.name))
        : entry.name.endsWith('.ts')
          ? [join(path, entry.name)]
          : [],
  );
}

export interface TypecheckResult {
  files: string[];
  errors: number;
  report: string;
}

export async function typecheck(paths: readonly string[]): Promise<TypecheckResult> {
  const { default: ts } = await import('typescript');
  const files = paths.flatMap((path) => tsFilesUnder(resolve(path)));
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    // keel's own Node type definitions, so a recipe project needs no @types/node of its own.
    typeRoots: [dirname(dirname(createRequire(import.meta.url).resolve('@types/node/package.json'))), resolve('node_modules/@types')],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  const report = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  });
  return { files: files.map((file) => relative(process.cwd(), file)), errors: diagnostics.length, report };
}
