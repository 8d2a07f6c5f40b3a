import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';

// How a scenario file is loaded in every process of a run: JavaScript or TypeScript, from any
// folder, with 'procscope' and `./x.js`-for-`x.ts` imports resolved; and how loading fails.

const run = leavingNoSurvivors(runScenario);

let nested = 0;

/** The repository's own scratch folder (git-ignored): a scenario there resolves its node_modules. */
const repoTmp = path.resolve(import.meta.dirname, '../../.tmp');
const repoDirs: string[] = [];
afterAll(() => {
  for (const d of repoDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes `files` (relative paths) under a fresh folder; returns the folder. */
function writeTree(files: Record<string, string>): string {
  const dir = path.join(tmpRoot, `tree${++nested}`);
  for (const [rel, source] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, source);
  }
  return dir;
}

const childName = (r: RunResult): number => {
  const p = r.processes().find((e) => e.name === 'Process-1');
  if (!p) throw new Error('expected a child named Process-1 in the log');
  return p.pid;
};

describe('scenario loading', () => {
  it('a .js scenario runs, in the root and in a child', async () => {
    const r = await run(
      scenarioFile(
        `
import { Process, currentProcess } from 'procscope';

export function hello(who) {
  console.log('hello', who, 'from', currentProcess().name);
}

export default async function main() {
  hello('js');
  const p = new Process({ target: hello, args: ['child'] });
  p.start();
  await p.join();
}
`,
        'scenario.js',
      ),
    );
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['hello js from MainProcess']);
    expect(r.stdout(childName(r))).toEqual(['hello child from Process-1']);
  });

  it('a .ts scenario with type annotations runs, in the root and in a child', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess, type CurrentProcess } from 'procscope';

interface Point {
  x: number;
  y: number;
}
type Pair<T> = readonly [T, T];
enum Color {
  Red = 'red',
  Blue = 'blue',
}

class Meter {
  constructor(private readonly unit: string) {}
  show(n: number): string {
    return n + this.unit;
  }
}

function first<T>(pair: Pair<T>): T {
  return pair[0];
}

export async function measure(p: Point, out: Queue<string>): Promise<void> {
  const me: CurrentProcess = currentProcess();
  const len = Math.hypot(p.x, p.y) as number;
  await out.put(me.name + ' ' + new Meter('m').show(len) + ' ' + Color.Blue);
}

export default async function main(): Promise<void> {
  const out = new Queue<string>();
  const p = new Process({ target: measure, args: [{ x: 3, y: 4 } satisfies Point, out] });
  p.start();
  console.log(await out.get(), first<string>(['a', 'b']), Color.Red);
  await p.join();
}
`),
    );
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['Process-1 5m blue a red']);
  });

  it("import from 'procscope' works for a scenario in any folder (no node_modules near it)", async () => {
    const dir = writeTree({
      'a/b/c/deep.mjs': `
import { Process, currentProcess } from 'procscope';
export function where() {
  console.log('child in', process.cwd() === new URL('.', import.meta.url).pathname.replace(/\\/$/, ''));
}
export default async function main() {
  const p = new Process({ target: where });
  p.start();
  await p.join();
  console.log('root', currentProcess().name, p.exitcode);
}
`,
    });
    const file = path.join(dir, 'a/b/c/deep.mjs');
    expect(fs.existsSync(path.join(dir, 'node_modules')), 'no node_modules next to the scenario').toBe(false);
    const r = await run(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    // A file runs in its own folder, as `python3 script.py` would from there.
    expect(r.stdout(childName(r))).toEqual(['child in true']);
    expect(r.stdout(r.root)).toEqual(['root MainProcess 0']);
  });

  it('a .ts scenario importing ./lib.js finds lib.ts, and a child can run a target re-exported from it', async () => {
    const dir = writeTree({
      'lib.ts': `
import { currentProcess } from 'procscope';
export const GREETING: string = 'hi';
export function work(n: number): void {
  console.log(GREETING, n * 2, currentProcess().name);
}
`,
      'main.ts': `
import { Process } from 'procscope';
import { work, GREETING } from './lib.js';
export { work };

export default async function main(): Promise<void> {
  console.log('root sees', GREETING);
  const p = new Process({ target: work, args: [21] });
  p.start();
  await p.join();
}
`,
    });
    const r = await run(path.join(dir, 'main.ts'));
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['root sees hi']);
    expect(r.stdout(childName(r))).toEqual(['hi 42 Process-1']);
  });
});

describe('scenario loading without module hooks (compiled by the monitor)', () => {
  /** Prints whether this process loaded a compiled copy (no hooks) and what import.meta says. */
  const probe = `
export function probe(label) {
  console.log(label, process.env.PROCSCOPE_COMPILED ? 'compiled' : 'hooks', currentProcess().name);
}
`;

  it('a .ts scenario with a local TS import runs compiled, in the root and in a child', async () => {
    const dir = writeTree({
      'lib.ts': `
export interface Shape { sides: number }
export function describe(s: Shape): string {
  return s.sides + ' sides';
}
`,
      'main.ts': `
import { Process, currentProcess } from 'procscope';
import { describe, type Shape } from './lib.js';
${probe}
export function work(s: Shape): void {
  probe('child ' + describe(s));
}
export default async function main(): Promise<void> {
  probe('root ' + describe({ sides: 3 }));
  const p = new Process({ target: work, args: [{ sides: 4 }] });
  p.start();
  await p.join();
}
`,
    });
    const r = await run(path.join(dir, 'main.ts'));
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['root 3 sides compiled MainProcess']);
    expect(r.stdout(childName(r))).toEqual(['child 4 sides compiled Process-1']);
  });

  it('a scenario importing an npm package falls back to the hooks, and still runs in the root and a child', async () => {
    // Inside the repository, so that 'pidusage' resolves from its node_modules.
    fs.mkdirSync(repoTmp, { recursive: true });
    const dir = fs.mkdtempSync(path.join(repoTmp, 'loading-'));
    repoDirs.push(dir);
    const file = path.join(dir, 'uses-package.ts');
    fs.writeFileSync(
      file,
      `
import { Process, currentProcess } from 'procscope';
import pidusage from 'pidusage';
${probe}
export function work(): void {
  probe('child ' + typeof pidusage);
}
export default async function main(): Promise<void> {
  probe('root ' + typeof pidusage);
  const p = new Process({ target: work });
  p.start();
  await p.join();
}
`,
    );
    const r = await run(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['root function hooks MainProcess']);
    expect(r.stdout(childName(r))).toEqual(['child function hooks Process-1']);
  });

  it("new URL('./data.txt', import.meta.url) reads the file next to the scenario, in the root and in a child", async () => {
    const dir = writeTree({
      'data.txt': 'beside the scenario',
      'main.ts': `
import fs from 'node:fs';
import { Process, currentProcess } from 'procscope';
${probe}
export function read(who: string): void {
  probe(who + ': ' + fs.readFileSync(new URL('./data.txt', import.meta.url), 'utf8') + ', ' + (import.meta.dirname === process.cwd()));
}
export default async function main(): Promise<void> {
  read('root');
  const p = new Process({ target: read, args: ['child'] });
  p.start();
  await p.join();
}
`,
    });
    const r = await run(path.join(dir, 'main.ts'));
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['root: beside the scenario, true compiled MainProcess']);
    expect(r.stdout(childName(r))).toEqual(['child: beside the scenario, true compiled Process-1']);
  });
});

describe('scenario failures', () => {
  it('a syntax error in a .ts scenario ends the run with reason error, naming the file and the place', async () => {
    const file = scenarioFile(`
export default async function main(): Promise<void> {
  const x: number = = 1;
}
`);
    const r = await run(file);
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.exitcode).toBe(1);
    expect(r.summary.end.error).toBe(`cannot load scenario ${file}: SyntaxError: ${file}:3:21: Unexpected token`);
    expect(r.stderr(r.root)[0]).toBe(`SyntaxError: ${file}:3:21: Unexpected token`);
  });

  it('a syntax error in a .js scenario ends the run with reason error, naming the file', async () => {
    const file = scenarioFile(
      `
export default async function main() {
  let = = 1;
}
`,
      'broken.js',
    );
    const r = await run(file);
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.exitcode).toBe(1);
    expect(r.summary.end.error).toContain(file);
    expect(r.summary.end.error).toMatch(/SyntaxError/);
    expect(r.stderr(r.root).join('\n')).toContain('SyntaxError');
  });

  it('an import of a missing ./x.js is reported with the name the scenario wrote', async () => {
    const file = scenarioFile(`
import { helper } from './missing.js';
export default async function main(): Promise<void> {
  helper();
}
`);
    const r = await run(file);
    expect(r.summary.end.reason).toBe('error');
    const missing = path.join(path.dirname(file), 'missing.js');
    expect(r.summary.end.error).toBe(`cannot load scenario ${file}: Error: Cannot find module '${missing}' imported from ${file}`);
  });

  it("a main that throws ends the run with reason error and exitcode 1, its stack on the root's stderr", async () => {
    const file = scenarioFile(`
function inner(): never {
  throw new RangeError('kaboom');
}
export default async function main(): Promise<void> {
  console.log('before');
  inner();
}
`);
    const r = await run(file);
    expect(r.summary.end).toMatchObject({ reason: 'error', exitcode: 1, error: 'main raised RangeError: kaboom' });
    expect(r.exits().get(r.root)).toBe(1);
    expect(r.stdout(r.root)).toEqual(['before']);
    const err = r.stderr(r.root);
    expect(err[0]).toBe('RangeError: kaboom');
    expect(err.some((l) => l.includes('at inner (') && l.includes(file)), `a frame of inner() in:\n${err.join('\n')}`).toBe(true);
    expect(err.some((l) => l.includes('at main (')), `a frame of main() in:\n${err.join('\n')}`).toBe(true);
  });

  it('a scenario without a default export is reported clearly', async () => {
    const file = scenarioFile(`
export async function main(): Promise<void> {
  console.log('never runs');
}
`);
    const r = await run(file);
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.exitcode).toBe(1);
    const expected = `scenario ${file} has no default export: export default async function main() { ... }`;
    expect(r.summary.end.error).toBe(expected);
    expect(r.stderr(r.root)).toEqual([expected]);
    expect(r.stdout(r.root)).toEqual([]);
  });
});
