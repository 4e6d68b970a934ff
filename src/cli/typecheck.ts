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

type TypeScript = typeof import('typescript');

const SECRET_HINT = 'give it to the command as `env: { NAME: secret }`';

/**
 * TypeScript accepts any value in a template literal, `+` and String(); keel's Secret throws there at run time.
 * These find it before: each place text is made of a value whose type is, or may be, a Secret.
 */
function secretsMadeText(ts: TypeScript, program: import('typescript').Program, files: readonly string[]): string[] {
  const checker = program.getTypeChecker();
  const isSecret = (type: import('typescript').Type): boolean =>
    type.isUnion()
      ? type.types.some(isSecret)
      : type.getSymbol()?.getName() === 'Secret' && checker.getPropertyOfType(type, 'reveal') !== undefined;
  const found: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    const check = (expression: import('typescript').Expression, where: string): void => {
      if (!isSecret(checker.getTypeAtLocation(expression))) return;
      const { line, character } = source.getLineAndCharacterOfPosition(expression.getStart(source));
      found.push(
        `${relative(process.cwd(), file)}:${line + 1}:${character + 1}: error: a Secret (${expression.getText(source)}) in ${where}; ${SECRET_HINT}`,
      );
    };
    const visit = (node: import('typescript').Node): void => {
      if (ts.isTemplateExpression(node)) for (const span of node.templateSpans) check(span.expression, 'a template literal');
      if (
        ts.isBinaryExpression(node) &&
        (node.operatorToken.kind === ts.SyntaxKind.PlusToken || node.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken)
      ) {
        check(node.left, 'a + concatenation');
        check(node.right, 'a + concatenation');
      }
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'String') {
        for (const argument of node.arguments) check(argument, 'String()');
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

export interface TypecheckResult {
  files: string[];
  errors: number;
  report: string;
}

export async function typecheck(paths: readonly string[]): Promise<TypecheckResult> {
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
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
  const secrets = secretsMadeText(ts, program, files);
  return {
    files: files.map((file) => relative(process.cwd(), file)),
    errors: diagnostics.length + secrets.length,
    report: report + secrets.map((line) => `${line}\n`).join(''),
  };
}
