/**
 * The import check: every file under src/ stands on a floor, and imports only what its floor may use
 * (docs/architecture.md); neither files nor floors import each other in a cycle, type-only imports included.
 * `npm run check:imports` runs it on this tree; test/unit/architecture.test.ts runs it in the suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface Floor {
  /** A folder (every file under it) or one file, from the repository root. */
  readonly path: string;
  /** The folders and files its files may import. */
  readonly mayImport: readonly string[];
}

const GROUND = ['src/shell', 'src/schema', 'src/compiledCode'];

export const FLOORS: readonly Floor[] = [
  { path: 'src/shell', mayImport: ['src/shell'] },
  { path: 'src/schema', mayImport: ['src/schema', 'src/shell'] },
  { path: 'src/compiledCode', mayImport: ['src/compiledCode'] },
  { path: 'src/transport', mayImport: ['src/transport', ...GROUND] },
  { path: 'src/inventory', mayImport: ['src/inventory', ...GROUND] },
  // Facts stand on the transport alone: the engine knows only their type (recipes' `host.facts`), never how they are gathered.
  { path: 'src/facts', mayImport: ['src/facts', 'src/transport/types.ts', ...GROUND] },
  { path: 'src/engine', mayImport: ['src/engine', 'src/transport/types.ts', 'src/facts/model.ts', ...GROUND] },
  // One resource never builds on another: each stands on the engine's contract alone.
  { path: 'src/resources', mayImport: ['src/engine', ...GROUND] },
  // A rollout module stands on the engine's rollout contract and the resource code whose commands it shares.
  { path: 'src/rollout', mayImport: ['src/rollout', 'src/engine', 'src/resources', 'src/transport/types.ts', ...GROUND] },
  { path: 'src/planner', mayImport: ['src/planner', 'src/inventory', 'src/transport', 'src/engine', 'src/facts', ...GROUND] },
  { path: 'src/report', mayImport: ['src/report', 'src/engine', 'src/facts/model.ts', ...GROUND] },
  { path: 'src/ui', mayImport: ['src/ui', 'src/report', 'src/engine', ...GROUND] },
  // doctor reads hosts through the engine's batches and the resources' own parsers; nothing below imports it.
  { path: 'src/doctor', mayImport: ['src/doctor', 'src/resources', 'src/engine', 'src/report', 'src/transport/types.ts', ...GROUND] },
  { path: 'src/cli', mayImport: ['src'] },
  { path: 'src/index.ts', mayImport: ['src'] },
  { path: 'src/testing.ts', mayImport: ['src'] },
];

/** What the package's own name resolves to (package.json "exports"): an import of it is an import of src. */
const PACKAGE_ENTRIES: ReadonlyMap<string, string> = new Map([
  ['keel', 'src/index.ts'],
  ['keel/testing', 'src/testing.ts'],
]);

export interface ImportSite {
  readonly specifier: string;
  readonly line: number;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  /** The file imported, from the repository root, or the specifier when it cannot be resolved. */
  readonly imports: string;
  readonly reason: string;
}

export interface Cycle {
  readonly of: 'files' | 'floors';
  /** Each imports the next; the last is the first again. */
  readonly path: readonly string[];
}

export interface ImportReport {
  readonly violations: readonly Violation[];
  readonly cycles: readonly Cycle[];
}

/** A module specifier that no static reading can know: `import(name)` with a computed name. */
const COMPUTED = '(computed)';

/** Every module a file names: import and export declarations, `import x = require()`, `import()` calls and `import('…')` types. */
export function importSites(file: string, text: string): ImportSite[] {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const sites: ImportSite[] = [];
  const record = (node: ts.Node, specifier: string): void => {
    sites.push({ specifier, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      record(node, ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : COMPUTED);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const { expression } = node.moduleReference;
      record(node, ts.isStringLiteral(expression) ? expression.text : COMPUTED);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      record(node, argument !== undefined && ts.isStringLiteralLike(argument) ? argument.text : COMPUTED);
    } else if (ts.isImportTypeNode(node)) {
      const { argument } = node;
      record(node, ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal) ? argument.literal.text : COMPUTED);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

const within = (file: string, path: string): boolean => file === path || file.startsWith(`${path}/`);

/** The floor a file stands on: the most specific one that holds it. */
function floorOf(file: string): Floor | undefined {
  return FLOORS.filter((floor) => within(file, floor.path)).sort((a, b) => b.path.length - a.path.length)[0];
}

/** The floor a file stands on, or its folder when it stands on none. */
const floorName = (file: string): string => floorOf(file)?.path ?? posix.dirname(file);

/**
 * The source file a specifier names, from the repository root; undefined for another package. A `.js` specifier
 * names its `.ts` or `.tsx` source; one that names no source of `files` is still placed by its path alone.
 */
function resolve(importer: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('.')) return PACKAGE_ENTRIES.get(specifier);
  const path = posix.join(posix.dirname(importer), specifier);
  const stem = path.replace(/\.(js|jsx|ts|tsx)$/, '');
  if (stem === path) return path;
  return [`${stem}.ts`, `${stem}.tsx`].find((source) => files.has(source)) ?? `${stem}.ts`;
}

function ruleBroken(file: string, target: string): string | undefined {
  if (!within(target, 'src')) return 'src imports nothing outside src';
  const floor = floorOf(file);
  if (floor === undefined) return `${posix.dirname(file)} is on no floor of scripts/check-imports.ts`;
  if (floor.mayImport.some((allowed) => within(target, allowed))) return undefined;
  return `${floor.path} may import only ${floor.mayImport.join(', ')}`;
}

/** Checks the imports of every file under src/ in `sources` (path from the repository root → text). */
export function checkImports(sources: ReadonlyMap<string, string>): ImportReport {
  const files = new Set(sources.keys());
  const violations: Violation[] = [];
  const fileEdges = new Map<string, Set<string>>();
  const floorEdges = new Map<string, Set<string>>();
  const addEdge = (edges: Map<string, Set<string>>, from: string, to: string): void => {
    edges.set(from, (edges.get(from) ?? new Set()).add(to));
  };
  for (const [file, text] of [...sources].sort(([a], [b]) => a.localeCompare(b))) {
    if (!within(file, 'src')) continue;
    for (const { specifier, line } of importSites(file, text)) {
      if (specifier === COMPUTED) {
        violations.push({ file, line, imports: specifier, reason: 'a computed module name cannot be checked' });
        continue;
      }
      const target = resolve(file, specifier, files);
      if (target === undefined) continue;
      const reason = ruleBroken(file, target);
      if (reason !== undefined) violations.push({ file, line, imports: target, reason });
      if (!within(target, 'src')) continue;
      addEdge(fileEdges, file, target);
      const [from, to] = [floorName(file), floorName(target)];
      if (from !== to) addEdge(floorEdges, from, to);
    }
  }
  const cycles: Cycle[] = [
    ...findCycles(fileEdges).map((path) => ({ of: 'files' as const, path })),
    ...findCycles(floorEdges).map((path) => ({ of: 'floors' as const, path })),
  ];
  return { violations, cycles };
}

/** One cycle through each strongly connected part of the graph (Tarjan's algorithm), the shortest from its root. */
function findCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const next = (node: string): string[] => [...(edges.get(node) ?? [])].sort();
  const visited = new Map<string, { index: number; lowLink: number }>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string): { index: number; lowLink: number } => {
    const state = { index: visited.size, lowLink: visited.size };
    visited.set(node, state);
    stack.push(node);
    onStack.add(node);
    for (const target of next(node)) {
      const seen = visited.get(target);
      if (seen === undefined) state.lowLink = Math.min(state.lowLink, connect(target).lowLink);
      else if (onStack.has(target)) state.lowLink = Math.min(state.lowLink, seen.index);
    }
    if (state.lowLink !== state.index) return state;
    const part = new Set(stack.splice(stack.lastIndexOf(node)));
    for (const member of part) onStack.delete(member);
    if (part.size > 1 || next(node).includes(node)) cycles.push(shortestCycle(node, part, next));
    return state;
  };
  for (const node of [...edges.keys()].sort()) if (!visited.has(node)) connect(node);
  return cycles.sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
}

/** Breadth-first from `start` back to itself, inside its strongly connected part. */
function shortestCycle(start: string, part: ReadonlySet<string>, next: (node: string) => string[]): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (const node of queue) {
    for (const target of next(node)) {
      if (target === start) {
        const steps: string[] = [];
        for (let step = node; step !== start; step = cameFrom.get(step) ?? start) steps.unshift(step);
        return [start, ...steps, start];
      }
      if (part.has(target) && !cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** Rules that name no file of `sources`: a floor that has gone, or an allowance for a file that was renamed. */
export function staleRules(sources: ReadonlyMap<string, string>): string[] {
  const files = [...sources.keys()];
  const paths = new Set(FLOORS.flatMap((floor) => [floor.path, ...floor.mayImport]));
  return [...paths].filter((path) => !files.some((file) => within(file, path)));
}

/** Every TypeScript source under `root`/src, by path from `root`. */
export function readSources(root: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const entry of readdirSync(posix.join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|tsx)$/.test(entry.name)) continue;
    const path = posix.join(entry.parentPath, entry.name);
    sources.set(posix.relative(root, path), readFileSync(path, 'utf8'));
  }
  return sources;
}

export const describeViolation = (violation: Violation): string =>
  `${violation.file}:${violation.line} imports ${violation.imports}: ${violation.reason}`;

export const describeCycle = (cycle: Cycle): string => `${cycle.of} import each other in a cycle: ${cycle.path.join(' → ')}`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sources = readSources(fileURLToPath(new URL('..', import.meta.url)));
  const { violations, cycles } = checkImports(sources);
  const problems = [
    ...violations.map(describeViolation),
    ...cycles.map(describeCycle),
    ...staleRules(sources).map((path) => `scripts/check-imports.ts names ${path}, which holds no source file`),
  ];
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exitCode = 1;
  else console.log(`${sources.size} files under src, each importing only what its floor may`);
}
