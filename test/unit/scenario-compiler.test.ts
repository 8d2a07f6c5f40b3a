import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clauseOf, compileScenario, type CompileResult } from '../../src-main/core/scenario-compiler.ts';

// The compiler turns a scenario's own modules into plain ES modules that Node loads without
// hooks; whatever it cannot reproduce exactly, it declines with a reason (the run then uses hooks).

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-compiler-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A stand-in for out/runtime/procscope.mjs: the compiler reads its export names. */
const runtimeFile = path.join(tmp, 'runtime', 'procscope.mjs');
fs.mkdirSync(path.dirname(runtimeFile), { recursive: true });
fs.writeFileSync(runtimeFile, `export class Process {}\nexport function currentProcess() { return { name: 'MainProcess' }; }\n`);
const runtimeUrl = pathToFileURL(runtimeFile).href;

let n = 0;
/** Writes `files` under a fresh folder; returns the folder. */
function tree(files: Record<string, string>): string {
  const dir = path.join(tmp, `t${++n}`);
  for (const [rel, source] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), source);
  }
  return dir;
}

function compile(dir: string, entry = 'main.ts'): { result: CompileResult; outDir: string } {
  const outDir = path.join(dir, '..', `${path.basename(dir)}-out`);
  return { result: compileScenario(path.join(dir, entry), outDir, runtimeUrl), outDir };
}

function entryOf(result: CompileResult): string {
  if (!('entry' in result)) throw new Error(`expected the scenario to compile, it fell back: ${result.fallback}`);
  return result.entry;
}

function fallbackOf(result: CompileResult): string {
  if (!('fallback' in result)) throw new Error(`expected a fallback, it compiled to ${result.entry}`);
  return result.fallback;
}

/** Imports the compiled entry in a plain Node (no hooks, no loader flags) and runs its default export. */
function runCompiled(entry: string, cwd = tmp): { stdout: string; stderr: string; status: number | null } {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(entry).href)}); const v = await m.default(); if (v !== undefined) console.log(JSON.stringify(v));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
  return { stdout: r.stdout.trim(), stderr: r.stderr, status: r.status };
}

describe('compileScenario: what it rewrites', () => {
  it("maps 'procscope' to the runtime URL, local imports to compiled siblings, and leaves builtins alone", () => {
    const dir = tree({
      'main.ts': `
import { Process, currentProcess, type Target } from 'procscope';
import { readFileSync } from 'node:fs';
import path from 'path';
import { twice } from './lib.js';
export * from './more.mjs';
export default async function main(): Promise<string[]> {
  const t: Target | null = null;
  const { late } = await import('./late.mjs');
  return [currentProcess().name, String(twice(21)), late, typeof readFileSync, path.basename('/a/b'), String(Process !== undefined && t === null)];
}
`,
      'lib.ts': `export function twice(n: number): number { return n * 2; }\n`,
      'more.mjs': `export const more = 1;\n`,
      'late.mjs': `export const late = 'late';\n`,
    });
    const { result, outDir } = compile(dir);
    const entry = entryOf(result);
    expect(path.dirname(entry)).toBe(outDir);
    const code = fs.readFileSync(entry, 'utf8');
    expect(code).toContain(`from ${JSON.stringify(runtimeUrl)}`);
    expect(code).toContain(`from 'node:fs'`);
    expect(code).toContain(`from 'path'`);
    expect(code, 'types stripped').not.toContain('Promise<string[]>');
    expect(code).not.toMatch(/['"]\.\/(lib|more|late)/);
    expect(code).toContain(`//# sourceURL=${pathToFileURL(path.join(dir, 'main.ts')).href}`);
    // One compiled file per source module, each with a distinct .mjs name.
    expect(fs.readdirSync(outDir).sort()).toEqual([
      expect.stringMatching(/^late\.mjs\.[0-9a-f]{12}\.mjs$/),
      expect.stringMatching(/^lib\.ts\.[0-9a-f]{12}\.mjs$/),
      expect.stringMatching(/^main\.ts\.[0-9a-f]{12}\.mjs$/),
      expect.stringMatching(/^more\.mjs\.[0-9a-f]{12}\.mjs$/),
    ]);
    const r = runCompiled(entry);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['MainProcess', '42', 'late', 'function', 'b', 'true']);
  });

  it('./x.js finds x.ts when there is no x.js, and prefers x.js when there is one', () => {
    const dir = tree({
      'main.ts': `
import { a } from './a.js';
import { b } from './b.js';
export default function main() { return [a, b]; }
`,
      'a.ts': `export const a: string = 'a from ts';\n`,
      'b.ts': `export const b: string = 'b from ts';\n`,
      'b.js': `export const b = 'b from js';\n`,
      'package.json': '{ "type": "module" }',
    });
    const r = runCompiled(entryOf(compile(dir).result));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['a from ts', 'b from js']);
  });

  it("keeps import.meta.url, .dirname and .filename the original file's: new URL('./data.txt', import.meta.url) reads the user's file", () => {
    const dir = tree({
      'main.ts': `
import fs from 'node:fs';
import { fromLib } from './sub/lib.ts';
export default function main() {
  const here: string = import.meta.url;
  return [fs.readFileSync(new URL('./data.txt', here), 'utf8'), import.meta.dirname, import.meta.filename, fromLib()];
}
`,
      'data.txt': 'next to main',
      'sub/lib.ts': `
import fs from 'node:fs';
export const fromLib = (): string => fs.readFileSync(new URL('./data.txt', import.meta.url), 'utf8');
`,
      'sub/data.txt': 'next to lib',
    });
    const r = runCompiled(entryOf(compile(dir).result));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['next to main', dir, path.join(dir, 'main.ts'), 'next to lib']);
  });

  it('stack traces name the original file and line', () => {
    const dir = tree({
      'main.ts': `
function inner(): never {
  throw new RangeError('kaboom');
}
export default function main(): void {
  inner();
}
`,
    });
    const r = runCompiled(entryOf(compile(dir).result));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`at inner (${pathToFileURL(path.join(dir, 'main.ts')).href}:3:9)`);
  });

  it('a module imported twice, under two names, is one module (one compiled file)', () => {
    const dir = tree({
      'main.ts': `
import { counter as a } from './count.js';
import { counter as b } from './count.ts';
export default function main() { return a === b; }
`,
      'count.ts': `export const counter = {};\n`,
    });
    const { result, outDir } = compile(dir);
    expect(runCompiled(entryOf(result)).stdout).toBe('true');
    expect(fs.readdirSync(outDir)).toHaveLength(2);
  });
});

describe('compileScenario: when it leaves the scenario to the hooks', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a bare package import', { 'main.ts': `import pidusage from 'pidusage';\nexport default function main() { return pidusage; }\n` }, /imports the package 'pidusage'/],
    ['a package import in a local module', { 'main.ts': `import './lib.ts';\nexport default function main() {}\n`, 'lib.ts': `import 'left-pad';\n` }, /lib\.ts imports the package 'left-pad'/],
    ['import() with a computed specifier', { 'main.ts': `export default async function main() { const n = './x.mjs'; await import(n); }\n` }, /computed specifier/],
    ['a JSON import', { 'main.ts': `import data from './data.json' with { type: 'json' };\nexport default function main() { return data; }\n`, 'data.json': '{}' }, /import attributes/],
    ['a .cjs module', { 'main.ts': `import x from './x.cjs';\nexport default function main() { return x; }\n`, 'x.cjs': 'module.exports = 1;\n' }, /\.cjs module/],
    ['a .js module that is CommonJS by its package.json', { 'main.ts': `import x from './x.js';\nexport default function main() { return x; }\n`, 'x.js': 'export default 1;\n', 'package.json': '{ "type": "commonjs" }' }, /x\.js is CommonJS/],
    ['require( in an ES module', { 'main.mjs': `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport default function main() { return require('node:os'); }\n` }, /calls require\(\)/],
    ['a syntax error in TypeScript', { 'main.ts': `export default async function main(): Promise<void> {\n  const x: number = = 1;\n}\n` }, /main\.ts: syntax error/],
    ['an import of a missing file', { 'main.ts': `import { helper } from './missing.js';\nexport default function main() { helper(); }\n` }, /imports '\.\/missing\.js', which is not a file/],
    ['a name the runtime does not export', { 'main.ts': `import { Proces } from 'procscope';\nexport default function main() { return Proces; }\n` }, /imports 'Proces' from 'procscope', which does not export it/],
    ['a name a local module does not export', { 'main.ts': `import { nope } from './lib.ts';\nexport default function main() { return nope; }\n`, 'lib.ts': 'export const yes = 1;\n' }, /imports 'nope' from '\.\/lib\.ts', which does not export it/],
    ['import.meta.resolve', { 'main.ts': `export default function main() { return import.meta.resolve('./x.js'); }\n` }, /import\.meta other than/],
  ];
  for (const [what, files, reason] of cases) {
    it(`${what}: falls back, says why, writes nothing`, () => {
      const dir = tree(files);
      const entry = Object.keys(files)[0];
      const { result, outDir } = compile(dir, entry);
      expect(fallbackOf(result)).toMatch(reason);
      expect(fs.existsSync(outDir), 'no compiled folder for a declined scenario').toBe(false);
    });
  }

  it('names a re-exported star export as exported, and follows export * chains', () => {
    const dir = tree({
      'main.ts': `import { deep } from './a.ts';\nexport default function main() { return deep; }\n`,
      'a.ts': `export * from './b.ts';\n`,
      'b.ts': `export const deep = 'deep';\n`,
    });
    expect(runCompiled(entryOf(compile(dir).result)).stdout).toBe('"deep"');
  });
});

describe('clauseOf: the names an import statement asks of its module', () => {
  it('reads every form of import and re-export', () => {
    expect(clauseOf(`import './x.js'`)).toEqual([]);
    expect(clauseOf(`import d from './x.js';`)).toEqual(['default']);
    expect(clauseOf(`import * as ns from './x.js'`)).toEqual([]);
    expect(clauseOf(`import d, * as ns from './x.js'`)).toEqual(['default']);
    expect(clauseOf(`import d, { a, b as c, default as e, "s t" as u } from "./x.js"`)).toEqual(['default', 'a', 'b', 'default', 's t']);
    expect(clauseOf(`import {\n  a, // first\n  /* second */ b,\n} from './x.js'`)).toEqual(['a', 'b']);
    expect(clauseOf(`export { a, b as c } from './x.js'`)).toEqual(['a', 'b']);
    expect(clauseOf(`export * from './x.js'`)).toBe('star');
    expect(clauseOf(`export * as ns from './x.js'`)).toEqual([]);
  });

  it('gives null for what it cannot read with certainty', () => {
    expect(clauseOf(`import { "a\\u0062" as c } from './x.js'`)).toBeNull();
    expect(clauseOf(`import { a b } from './x.js'`)).toBeNull();
  });
});
