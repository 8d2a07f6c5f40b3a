import { describe, expect, it } from 'vitest';
import type { ProcessEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, type RunResult } from '../helpers/run.ts';

// Process, as Python 3.11's multiprocessing.Process behaves (checked against python3 3.11 with the
// spawn start method). Every scenario prints what it sees; the tests read it back from the run log.

const run = leavingNoSurvivors(runScenario);

/** Prepended to scenarios: prints `label ok` or `label <ErrorName>: <message>`, as Python's repr would. */
const ATTEMPT = `
async function attempt(label: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
    console.log(label, 'ok');
  } catch (err) {
    console.log(label, (err as Error).name + ': ' + (err as Error).message);
  }
}
`;

/** A child that must stay alive to be signalled: it says so on `ready`, then waits to be ended. */
const SLEEPY = `
export async function sleepy(ready: Queue<string>): Promise<void> {
  await ready.put(currentProcess().name);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
`;

function proc(r: RunResult, name: string): ProcessEvent {
  const p = r.processes().find((e) => e.name === name);
  if (!p) throw new Error(`expected a process named ${name}; the log has ${r.processes().map((e) => e.name).join(', ')}`);
  return p;
}

describe('Process names and pids', () => {
  it('default names are Process-1, Process-2… per process; a child names its children Process-1:1…; a subclass Foo is Foo-N', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';

export function leaf(): void {}

export async function spawnTwo(): Promise<void> {
  const a = new Process({ target: leaf });
  const b = new Process({ target: leaf });
  console.log('grandchildren', a.name, b.name);
  a.start();
  await a.join();
}

export class Foo extends Process {
  override run(): void {
    console.log('run as', this.name);
  }
}

export default async function main(): Promise<void> {
  const p1 = new Process({ target: spawnTwo });
  const p2 = new Process({ target: leaf });
  const foo = new Foo();
  const named = new Process({ target: leaf, name: 'worker' });
  const p5 = new Process({ target: leaf });
  console.log('names', p1.name, p2.name, foo.name, named.name, p5.name);
  console.log('pid before start', p1.pid);
  p1.start();
  foo.start();
  await p1.join();
  await foo.join();
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    // Python 3.11: Process-1 Process-2 Foo-3 worker Process-5 (a given name still takes a number).
    expect(r.stdout(r.root)).toEqual(['names Process-1 Process-2 Foo-3 worker Process-5', 'pid before start null']);
    const p1 = proc(r, 'Process-1');
    expect(r.stdout(p1.pid)).toEqual(['grandchildren Process-1:1 Process-1:2']);
    expect(proc(r, 'Process-1:1').ppid, 'Process-1:1 is a child of Process-1').toBe(p1.pid);
    expect(r.stdout(proc(r, 'Foo-3').pid)).toEqual(['run as Foo-3']);
  });

  it("pid is set when start() returns, and each process's ppid is its real parent (child and grandchild)", async () => {
    const r = await run(
      scenarioFile(`
import { Process, currentProcess } from 'procscope';

export function report(): void {
  const me = currentProcess();
  console.log('me', me.name, me.pid, me.ppid, me.daemon);
}

export async function middle(): Promise<void> {
  report();
  const g = new Process({ target: report });
  g.start();
  console.log('started', g.pid);
  await g.join();
}

export default async function main(): Promise<void> {
  report();
  const p = new Process({ target: middle });
  p.start();
  console.log('started', p.pid);
  await p.join();
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const root = proc(r, 'MainProcess');
    const child = proc(r, 'Process-1');
    const grandchild = proc(r, 'Process-1:1');
    expect(root.pid).toBe(r.root);
    expect(root.ppid, 'the root is a child of the monitor').toBe(process.pid);
    expect(child.ppid, 'Process-1 is a child of the root').toBe(root.pid);
    expect(grandchild.ppid, 'Process-1:1 is a child of Process-1').toBe(child.pid);
    // currentProcess() agrees with the log, and start() returned the same pid.
    expect(r.stdout(root.pid)).toEqual([`me MainProcess ${root.pid} ${root.ppid} false`, `started ${child.pid}`]);
    expect(r.stdout(child.pid)).toEqual([`me Process-1 ${child.pid} ${root.pid} false`, `started ${grandchild.pid}`]);
    expect(r.stdout(grandchild.pid)).toEqual([`me Process-1:1 ${grandchild.pid} ${child.pid} false`]);
  });
  it("String(process) reads like Python's repr, from initial to closed; classes keep their names", async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Pool, Process, Queue } from 'procscope';

export function leaf(): void {}
export class Foo extends Process {}

export default async function main(): Promise<void> {
  const p = new Process({ target: leaf });
  console.log(String(p));
  p.start();
  console.log(String(p));
  await p.join();
  console.log(String(p));
  p.close();
  console.log(String(p));
  const f = new Foo({ daemon: true });
  console.log(String(f));
  console.log('class names', Process.name, Queue.name, Lock.name, Pool.name, f.constructor.name);
}
`),
    );
    const child = proc(r, 'Process-1').pid;
    expect(r.stdout(r.root)).toEqual([
      `<Process name='Process-1' parent=${r.root} initial>`,
      `<Process name='Process-1' pid=${child} parent=${r.root} started>`,
      `<Process name='Process-1' pid=${child} parent=${r.root} stopped exitcode=0>`,
      `<Process name='Process-1' parent=${r.root} closed>`,
      `<Foo name='Foo-2' parent=${r.root} initial daemon>`,
      'class names Process Queue Lock Pool Foo',
    ]);
  });
});

describe('start() and join()', () => {
  it("start() twice fails with 'cannot start a process twice'", async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
export function leaf(): void {}

export default async function main(): Promise<void> {
  const p = new Process({ target: leaf });
  p.start();
  await attempt('second start', () => p.start());
  await p.join();
  console.log('exitcode', p.exitcode);
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['second start AssertionError: cannot start a process twice', 'exitcode 0']);
    expect(r.processes().map((p) => p.name), 'only one child was started').toEqual(['MainProcess', 'Process-1']);
  });

  it("start() in a daemon process fails with 'daemonic processes are not allowed to have children'", async () => {
    const r = await run(
      scenarioFile(`
import { Process, currentProcess } from 'procscope';
${ATTEMPT}
export function leaf(): void {}

export async function daemonic(): Promise<void> {
  console.log('daemon flag', currentProcess().daemon);
  await attempt('start in daemon', () => new Process({ target: leaf }).start());
}

export default async function main(): Promise<void> {
  const p = new Process({ target: daemonic, daemon: true });
  p.start();
  await p.join();
  console.log('exitcode', p.exitcode);
}
`),
    );
    const d = proc(r, 'Process-1');
    expect(d.daemon, 'the log marks the child daemonic').toBe(true);
    expect(r.stdout(d.pid)).toEqual([
      'daemon flag true',
      'start in daemon AssertionError: daemonic processes are not allowed to have children',
    ]);
    expect(r.stdout(r.root)).toEqual(['exitcode 0']);
    expect(r.processes()).toHaveLength(2);
  });

  it("join() before start() fails with 'can only join a started process'", async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
export function leaf(): void {}

export default async function main(): Promise<void> {
  await attempt('join', () => new Process({ target: leaf }).join());
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['join AssertionError: can only join a started process']);
  });

  it('isAlive()/exitcode: false/null before start, true/null while running, join(timeout) returns with it alive, -15 after terminate()', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';
${SLEEPY}
export default async function main(): Promise<void> {
  const ready = new Queue<string>();
  const p = new Process({ target: sleepy, args: [ready] });
  console.log('before start', p.isAlive(), p.exitcode);
  p.start();
  console.log('just started', p.isAlive(), p.exitcode);
  await ready.get();
  await p.join(0.2);
  console.log('after join(0.2)', p.isAlive(), p.exitcode);
  p.terminate();
  await p.join();
  console.log('after terminate', p.isAlive(), p.exitcode);
  console.log(String(p).replace(/pid=\\d+ parent=\\d+ /, ''));
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'before start false null',
      'just started true null',
      'after join(0.2) true null',
      'after terminate false -15',
      "<Process name='Process-1' stopped exitcode=-SIGTERM>",
    ]);
    expect(r.exits().get(proc(r, 'Process-1').pid), 'the log records SIGTERM as -15').toBe(-15);
  });
});

describe('exit codes', () => {
  it('exitcode is 0 on return, n for process.exit(n), 1 for an uncaught error (traceback on its stderr) and for an async rejection', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';

export function returns(): string {
  return 'ignored';
}
export function exits(n: number): void {
  process.exit(n);
}
export function boom(): void {
  throw new Error('boom in child');
}
export async function rejects(): Promise<void> {
  await Promise.resolve();
  throw new TypeError('late rejection');
}

export default async function main(): Promise<void> {
  const ps = [
    new Process({ target: returns }),
    new Process({ target: exits, args: [7] }),
    new Process({ target: boom }),
    new Process({ target: rejects }),
  ];
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  console.log('exitcodes', ps.map((p) => p.exitcode).join(' '));
}
`),
    );
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['exitcodes 0 7 1 1']);
    const [ret, ex, boom, rej] = ['Process-1', 'Process-2', 'Process-3', 'Process-4'].map((n) => proc(r, n).pid);
    expect([ret, ex, boom, rej].map((pid) => r.exits().get(pid))).toEqual([0, 7, 1, 1]);
    // Python prints "Process Process-3:" then the traceback, on that process's stderr.
    const err = r.stderr(boom);
    expect(err[0]).toBe('Process Process-3:');
    expect(err[1]).toBe('Error: boom in child');
    expect(err.some((l) => /^\s+at boom \(/.test(l)), `a stack frame of boom in:\n${err.join('\n')}`).toBe(true);
    expect(r.stderr(rej).slice(0, 2)).toEqual(['Process Process-4:', 'TypeError: late rejection']);
    expect(r.stderr(ret)).toEqual([]);
    expect(r.stderr(r.root)).toEqual([]);
  });

  it('kill() gives exitcode -9 and any other signal N gives -N', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';
${SLEEPY}
export default async function main(): Promise<void> {
  const ready = new Queue<string>();
  const killed = new Process({ target: sleepy, args: [ready] });
  const interrupted = new Process({ target: sleepy, args: [ready] });
  const hungup = new Process({ target: sleepy, args: [ready] });
  for (const p of [killed, interrupted, hungup]) p.start();
  for (let i = 0; i < 3; i++) await ready.get();
  killed.kill();
  process.kill(interrupted.pid as number, 'SIGINT');
  process.kill(hungup.pid as number, 'SIGHUP');
  for (const p of [killed, interrupted, hungup]) await p.join();
  console.log('exitcodes', killed.exitcode, interrupted.exitcode, hungup.exitcode);
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['exitcodes -9 -2 -1']);
    expect(['Process-1', 'Process-2', 'Process-3'].map((n) => r.exits().get(proc(r, n).pid))).toEqual([-9, -2, -1]);
  });

  it('terminate() and kill() on a process that has exited do nothing and throw nothing', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
export function leaf(): void {}

export default async function main(): Promise<void> {
  const p = new Process({ target: leaf });
  p.start();
  await p.join();
  await attempt('terminate', () => p.terminate());
  await attempt('kill', () => p.kill());
  console.log('exitcode', p.exitcode);
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['terminate ok', 'kill ok', 'exitcode 0']);
  });
});

describe('daemon', () => {
  it("daemon is settable before start only: afterwards 'process has already started'", async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
export function leaf(): void {}

export default async function main(): Promise<void> {
  const p = new Process({ target: leaf });
  console.log('default', p.daemon);
  p.daemon = true;
  p.start();
  await attempt('set after start', () => {
    p.daemon = false;
  });
  console.log('still', p.daemon);
  await p.join();
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['default false', 'set after start AssertionError: process has already started', 'still true']);
    expect(proc(r, 'Process-1').daemon).toBe(true);
  });

  it("daemon children are terminated (-15) when their parent's main or run returns; non-daemon children are joined", async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';
${SLEEPY}
/** A non-daemon child that leaves a daemon grandchild running when it returns. */
export async function parent(ready: Queue<string>): Promise<void> {
  const mine = new Queue<string>();
  const g = new Process({ target: sleepy, args: [mine], daemon: true });
  g.start();
  await ready.put(await mine.get());
  // Not joined: run() returns while the daemon is alive.
}

export default async function main(): Promise<void> {
  const ready = new Queue<string>();
  const d = new Process({ target: sleepy, args: [ready], daemon: true });
  const c = new Process({ target: parent, args: [ready] });
  d.start();
  c.start();
  const up = [await ready.get(), await ready.get()].sort();
  console.log('up', up.join(' '));
  // main returns with the daemon alive and c not joined.
}
`),
    );
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['up Process-1 Process-2:1']);
    const codes = Object.fromEntries(['MainProcess', 'Process-1', 'Process-2', 'Process-2:1'].map((n) => [n, r.exits().get(proc(r, n).pid)]));
    expect(codes).toEqual({ MainProcess: 0, 'Process-1': -15, 'Process-2': 0, 'Process-2:1': -15 });
  });
});

describe('close()', () => {
  it("close() of a running process throws; after close() pid, exitcode and isAlive() throw 'process object is closed'", async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';
${ATTEMPT}
${SLEEPY}
export default async function main(): Promise<void> {
  const ready = new Queue<string>();
  const p = new Process({ target: sleepy, args: [ready] });
  p.start();
  await ready.get();
  await attempt('close running', () => p.close());
  p.terminate();
  await p.join();
  await attempt('close exited', () => p.close());
  await attempt('pid', () => p.pid);
  await attempt('exitcode', () => p.exitcode);
  await attempt('isAlive', () => p.isAlive());
  await attempt('close again', () => p.close());
  console.log('name', p.name);
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'close running ValueError: Cannot close a process while it is still running. You should first call join() or terminate().',
      'close exited ok',
      'pid ValueError: process object is closed',
      'exitcode ValueError: process object is closed',
      'isAlive ValueError: process object is closed',
      'close again ok',
      'name Process-1',
    ]);
  });
});

describe('arguments and targets', () => {
  it('args cross by value: mutations in the child stay there; a Map and a Date arrive as a Map and a Date', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

export async function mutate(obj: { n: number }, arr: number[], m: Map<string, string>, d: Date, back: Queue<unknown>): Promise<void> {
  console.log('child got', obj.n, arr.join(','), m instanceof Map, m.get('k'), d instanceof Date, d.toISOString());
  obj.n += 1;
  arr.push(99);
  m.set('k', 'changed');
  d.setUTCFullYear(1999);
  await back.put({ n: obj.n, arr, k: m.get('k'), year: d.getUTCFullYear() });
}

export default async function main(): Promise<void> {
  const obj = { n: 1 };
  const arr = [1, 2];
  const m = new Map([['k', 'v']]);
  const d = new Date('2020-01-02T03:04:05.000Z');
  const back = new Queue<{ n: number; arr: number[]; k: string; year: number }>();
  const p = new Process({ target: mutate, args: [obj, arr, m, d, back] });
  p.start();
  const c = await back.get();
  await p.join();
  console.log('child copy', c.n, c.arr.join(','), c.k, c.year);
  console.log('parent', obj.n, arr.join(','), m.get('k'), d.getUTCFullYear());
}
`),
    );
    expect(r.stdout(proc(r, 'Process-1').pid)).toEqual(['child got 1 1,2 true v true 2020-01-02T03:04:05.000Z']);
    expect(r.stdout(r.root)).toEqual(['child copy 2 1,2,99 changed 1999', 'parent 1 1,2 v 2020']);
  });

  it('a target that is not exported fails at start() naming the function and why', async () => {
    const file = scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
function hidden(): void {}

export default async function main(): Promise<void> {
  const p = new Process({ target: hidden });
  await attempt('start', () => p.start());
  console.log('after', p.pid, p.isAlive());
}
`);
    const r = await run(file);
    const [line, after] = r.stdout(r.root);
    expect(line).toMatch(/^start PicklingError: cannot start Process-1: target 'hidden' is not exported from /);
    expect(line).toContain(file);
    expect(line).toContain('a child finds its target by export name');
    expect(after).toBe('after null false');
    expect(r.processes(), 'no child was spawned').toHaveLength(1);
  });

  it('a Process subclass that is not exported fails at start() naming the class and why', async () => {
    const file = scenarioFile(`
import { Process } from 'procscope';
${ATTEMPT}
class Hidden extends Process {
  override run(): void {}
}

export default async function main(): Promise<void> {
  const p = new Hidden();
  await attempt('start', () => p.start());
}
`);
    const r = await run(file);
    const [line] = r.stdout(r.root);
    expect(line).toMatch(/^start PicklingError: cannot start Hidden-1: class Hidden is not exported from /);
    expect(line).toContain(file);
    expect(line).toContain('a child finds its Process subclass by export name');
    expect(r.processes()).toHaveLength(1);
  });

  it("an exported subclass runs its run() in the child with the state its constructor set", async () => {
    const r = await run(
      scenarioFile(`
import { Process, currentProcess } from 'procscope';

export class Greeter extends Process {
  greeting: string;
  constructor(greeting: string) {
    super();
    this.greeting = greeting;
  }
  override run(): void {
    console.log(this.greeting, this.name, currentProcess().name);
  }
}

export default async function main(): Promise<void> {
  const g = new Greeter('hello from');
  g.start();
  await g.join();
  console.log('exitcode', g.exitcode);
}
`),
    );
    expect(r.stdout(proc(r, 'Greeter-1').pid)).toEqual(['hello from Greeter-1 Greeter-1']);
    expect(r.stdout(r.root)).toEqual(['exitcode 0']);
  });
});
