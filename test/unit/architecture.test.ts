/** The floors of docs/architecture.md hold: imports only run downward, and nothing imports in a cycle. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, describeCycle, describeViolation, importSites, readSources, staleRules } from '../../scripts/check-imports.js';

const check = (sources: Record<string, string>) => checkImports(new Map(Object.entries(sources)));
const brokenImports = (sources: Record<string, string>): string[] => check(sources).violations.map((v) => `${v.file} → ${v.imports}`);

describe('the source tree', () => {
  const sources = readSources(fileURLToPath(new URL('../..', import.meta.url)));

  it('imports only downward, with no cycle between files or floors', () => {
    expect(sources.get('src/engine/run.ts')).toBeDefined();
    const { violations, cycles } = checkImports(sources);
    expect(violations.map(describeViolation)).toEqual([]);
    expect(cycles.map(describeCycle)).toEqual([]);
  });

  it('has a file for every floor and allowance the rules name', () => {
    expect(staleRules(sources)).toEqual([]);
  });
});

describe('reading imports', () => {
  it('finds every kind of import with its line, by parsing rather than by pattern', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import './side-effect.js';",
      "export { c } from './c.js';",
      "export * as d from './d.js';",
      'const e = await import(`./e.js`);',
      "type F = import('./f.js').F;",
      "import g = require('./g.js');",
      "// import { h } from './h.js';",
      'const i = "import { i } from \'./i.js\'";',
      'export const j = 1;',
    ].join('\n');
    expect(importSites('src/x.ts', text)).toEqual([
      { specifier: './a.js', line: 1 },
      { specifier: './b.js', line: 2 },
      { specifier: './side-effect.js', line: 3 },
      { specifier: './c.js', line: 4 },
      { specifier: './d.js', line: 5 },
      { specifier: './e.js', line: 6 },
      { specifier: './f.js', line: 7 },
      { specifier: './g.js', line: 8 },
    ]);
  });

  it('reads JSX files', () => {
    expect(importSites('src/ui/View.tsx', "import { x } from './x.js';\nexport const View = () => <Text>{x}</Text>;")).toEqual([
      { specifier: './x.js', line: 1 },
    ]);
  });
});

describe('the import check', () => {
  it.each([
    ['src/transport/ssh.ts', "import { run } from '../engine/run.js';", 'src/engine/run.ts'],
    ['src/transport/local.ts', "import type { InventoryHost } from '../inventory/load.js';", 'src/inventory/load.ts'],
    ['src/inventory/load.ts', "export { LocalTransport } from '../transport/local.js';", 'src/transport/local.ts'],
    ['src/resources/file.ts', "const { LocalTransport } = await import('../transport/local.js');", 'src/transport/local.ts'],
    ['src/resources/file.ts', "import type { Transport } from '../transport/types.js';", 'src/transport/types.ts'],
    ['src/resources/service.ts', "import { file } from './file.js';", 'src/resources/file.ts'],
    ['src/engine/run.ts', "import { TIMEOUT_EXIT_CODE } from '../transport/local.js';", 'src/transport/local.ts'],
    ['src/engine/host.ts', "type Ssh = import('../transport/ssh.js').SshTransport;", 'src/transport/ssh.ts'],
    ['src/engine/converge.ts', "import { file } from '../resources/file.js';", 'src/resources/file.ts'],
    ['src/engine/run.ts', "import type { InventoryHost } from '../inventory/load.js';", 'src/inventory/load.ts'],
    ['src/engine/run.ts', "import { planHosts } from '../planner/targets.js';", 'src/planner/targets.ts'],
    ['src/shell/command.ts', "import type { Ipv4 } from '../schema/values.js';", 'src/schema/values.ts'],
    ['src/shell/secret.ts', "import type { EngineEvent } from '../engine/events.js';", 'src/engine/events.ts'],
    ['src/schema/validate.ts', "import type { EngineEvent } from '../engine/events.js';", 'src/engine/events.ts'],
    ['src/schema/values.ts', "export { TIMEOUT_EXIT_CODE } from '../transport/types.js';", 'src/transport/types.ts'],
    ['src/schema/values.ts', "import { file } from 'keel';", 'src/index.ts'],
    ['src/report/json.ts', "import type { Transport } from '../transport/types.js';", 'src/transport/types.ts'],
    ['src/report/text.ts', "import { buildModel } from '../ui/model.js';", 'src/ui/model.ts'],
    ['src/ui/App.tsx', "import { LocalTransport } from '../transport/local.js';", 'src/transport/local.ts'],
    ['src/cli/main.ts', "const { runLab } = await import('../../lab/cliLab.js');", 'lab/cliLab.ts'],
    ['src/index.ts', "export * from '../bench/recipe.js';", 'bench/recipe.ts'],
    ['src/testing.ts', "export { hostFile } from '../test/support/hostFile.js';", 'test/support/hostFile.ts'],
    ['src/engine/run.ts', "import { buildKeel } from '../../scripts/build.mjs';", 'scripts/build.mjs'],
    ['src/extras/thing.ts', "import { quote } from '../shell/index.js';", 'src/shell/index.ts'],
    ['src/cli/main.ts', 'const module = await import(name);', '(computed)'],
  ])('fails on %s: %s', (file, text, target) => {
    expect(brokenImports({ [file]: text })).toEqual([`${file} → ${target}`]);
  });

  it.each([
    ['src/schema/values.ts', "import { quote } from '../shell/index.js';"],
    ['src/transport/ssh.ts', "import { Secret } from '../shell/index.js';\nimport type { Ipv4 } from '../schema/index.js';"],
    ['src/engine/run.ts', "import { TIMEOUT_EXIT_CODE, type Transport } from '../transport/types.js';"],
    ['src/resources/file.ts', "import { defineResource } from '../engine/resource.js';"],
    ['src/planner/connect.ts', "const { SshTransport } = await import('../transport/ssh.js');"],
    ['src/ui/App.tsx', "import { colorEnabled } from '../report/color.js';"],
    ['src/cli/main.ts', "import { run } from '../engine/run.js';\nimport { loadInventory } from '../inventory/load.js';"],
    ['src/shell/command.ts', "import { readFileSync } from 'node:fs';\nimport ts from 'typescript';"],
  ])('passes %s: %s', (file, text) => {
    expect(brokenImports({ [file]: text })).toEqual([]);
  });

  it('names the line and the rule broken', () => {
    const [violation] = check({
      'src/transport/ssh.ts': "import { quote } from '../shell/index.js';\n\nimport { run } from '../engine/run.js';",
    }).violations;
    expect(violation && describeViolation(violation)).toBe(
      'src/transport/ssh.ts:3 imports src/engine/run.ts: src/transport may import only src/transport, src/shell, src/schema, src/compiledCode',
    );
  });

  it('finds a .tsx source behind its .js specifier', () => {
    const { cycles } = check({
      'src/ui/start.ts': "import { App } from './App.js';",
      'src/ui/App.tsx': "import { start } from './start.js';",
    });
    expect(cycles.map(describeCycle)).toEqual(['files import each other in a cycle: src/ui/App.tsx → src/ui/start.ts → src/ui/App.tsx']);
  });

  it('fails on a cycle of type-only imports between files of one floor', () => {
    const { violations, cycles } = check({
      'src/engine/a.ts': "import type { B } from './b.js';\nexport type A = { b: B };",
      'src/engine/b.ts': "import type { C } from './c.js';\nexport type B = { c: C };",
      'src/engine/c.ts': "export type C = { a: import('./a.js').A };",
    });
    expect(violations).toEqual([]);
    expect(cycles).toEqual([{ of: 'files', path: ['src/engine/a.ts', 'src/engine/b.ts', 'src/engine/c.ts', 'src/engine/a.ts'] }]);
  });

  it('fails on a file that imports itself', () => {
    expect(check({ 'src/engine/a.ts': "export * from './a.js';" }).cycles).toEqual([
      { of: 'files', path: ['src/engine/a.ts', 'src/engine/a.ts'] },
    ]);
  });

  it('fails on a cycle between floors that no file cycle shows', () => {
    const { violations, cycles } = check({
      'src/index.ts': "export { main } from './cli/main.js';",
      'src/cli/main.ts': 'export const main = (): void => {};',
      'src/cli/scaffold.ts': "import { file } from '../index.js';",
    });
    expect(violations).toEqual([]);
    expect(cycles).toEqual([{ of: 'floors', path: ['src/cli', 'src/index.ts', 'src/cli'] }]);
  });

  it('fails on the cycle an upward import makes, besides the import itself', () => {
    const { violations, cycles } = check({
      'src/engine/run.ts': "import type { Transport } from '../transport/types.js';",
      'src/transport/types.ts': "import type { EngineEvent } from '../engine/events.js';",
    });
    expect(violations.map((v) => v.file)).toEqual(['src/transport/types.ts']);
    expect(cycles.map(describeCycle)).toEqual(['floors import each other in a cycle: src/engine → src/transport → src/engine']);
  });

  it('checks only files under src', () => {
    expect(
      brokenImports({
        'lab/cliLab.ts': "import { loadInventory } from '../src/inventory/load.js';\nimport { run } from '../src/engine/run.js';",
      }),
    ).toEqual([]);
  });

  it('calls a rule stale when no file is where it points', () => {
    expect(staleRules(new Map([['src/shell/index.ts', '']]))).toContain('src/transport/types.ts');
  });
});
