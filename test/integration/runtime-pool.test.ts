import { describe, expect, it } from 'vitest';
import type { ProcessEvent, QueueEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, type RunResult } from '../helpers/run.ts';

// Pool, as Python 3.11's multiprocessing.Pool behaves with the spawn start method (checked with
// python3 3.11: worker names, chunk sizes, errors, exit codes after close/join and after `with`).

const run = leavingNoSurvivors(runScenario);

/** Prepended to scenarios: prints `label <value>` or `label <ErrorName>: <message>`. */
const ATTEMPT = `
async function attempt(label: string, fn: () => unknown): Promise<void> {
  try {
    console.log(label, JSON.stringify(await fn()));
  } catch (err) {
    console.log(label, (err as Error).name + ': ' + (err as Error).message);
  }
}
`;

/**
 * Prepended to scenarios: a gate is a file in the scenario's folder (every process's working
 * directory). Tasks wait for theirs, so the order they finish in is set, not left to timing.
 */
const GATE = `
function open(name: string): void {
  fs.writeFileSync(name, '');
}

async function gate(name: string): Promise<void> {
  while (!fs.existsSync(name)) await new Promise((resolve) => setTimeout(resolve, 2));
}
`;

const workers = (r: RunResult): ProcessEvent[] => r.processes().filter((p) => p.name.startsWith('SpawnPoolWorker-'));

describe('Pool', () => {
  it('map() returns results in input order, even when later items finish first', async () => {
    const r = await run(
      scenarioFile(`
import fs from 'node:fs';
import { Pool } from 'procscope';

${GATE}

/** Item x finishes once item x + 1 has: the last item first, whatever the machine's speed. */
export async function tenfold(x: number): Promise<number> {
  await gate(\`map-\${x}\`);
  fs.appendFileSync('map-finished', \`\${x} \`);
  open(\`map-\${x - 1}\`);
  return x * 10;
}

export default async function main(): Promise<void> {
  open('map-4');
  await Pool.with(5, async (pool) => {
    console.log('map', JSON.stringify(await pool.map(tenfold, [0, 1, 2, 3, 4], 1)));
    console.log('finished', fs.readFileSync('map-finished', 'utf8').trim());
  });
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['map [0,10,20,30,40]', 'finished 4 3 2 1 0']);
  });

  it('map() with the default chunksize and an empty iterable', async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';

export function tenfold(x: number): number {
  return x * 10;
}

export default async function main(): Promise<void> {
  await Pool.with(3, async (pool) => {
    console.log('default chunksize', JSON.stringify(await pool.map(tenfold, [4, 3, 2, 1, 0])));
    console.log('empty', JSON.stringify(await pool.map(tenfold, [])));
  });
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['default chunksize [40,30,20,10,0]', 'empty []']);
  });

  it("splits work into Python's chunks: divmod(len, 4 * processes) rounded up by default, 1 for imap", async () => {
    const r = await run(
      scenarioFile(`
import { Pool, currentProcess } from 'procscope';

export function whoDoes(x: number): [number, string] {
  return [x, currentProcess().name];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export default async function main(): Promise<void> {
  await Pool.with(2, async (pool) => {
    console.log('call map(20)');
    const twenty = await pool.map(whoDoes, range(20));
    console.log('call map(9)');
    await pool.map(whoDoes, range(9));
    console.log('call map(8)');
    await pool.map(whoDoes, range(8));
    console.log('call map(20, 6)');
    await pool.map(whoDoes, range(20), 6);
    console.log('call imap(5)');
    for await (const _ of pool.imap(whoDoes, range(5))) void _;
    console.log('call done');
    // One chunk runs in one worker: items 3k..3k+2 of map(20) share a worker.
    const sameWorker = range(7).every((k) => new Set(twenty.slice(3 * k, 3 * k + 3).map(([, w]) => w)).size === 1);
    console.log('chunks of 3 ran whole', sameWorker);
  });
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const taskQueue = r.logged.find((e): e is QueueEvent => e.type === 'queue' && e.op === 'put' && e.pid === r.root)?.queue;
    expect(taskQueue, "the pool's task queue is fed by the root").toBeDefined();
    // The root's prints and its task puts travel on one connection, so the log keeps their order.
    const tasksPerCall = new Map<string, number>();
    let call = '';
    for (const e of r.logged) {
      if (e.type === 'output' && e.pid === r.root && e.text.startsWith('call ')) call = e.text.slice(5);
      if (e.type === 'queue' && e.queue === taskQueue && e.op === 'put') tasksPerCall.set(call, (tasksPerCall.get(call) ?? 0) + 1);
    }
    // Python 3.11, Pool(2): 20 items -> chunks of 3 (7 tasks); 9 -> 2 (5); 8 -> 1 (8); chunksize 6 -> 4; imap -> 1 each.
    expect(Object.fromEntries(tasksPerCall)).toEqual({ 'map(20)': 7, 'map(9)': 5, 'map(8)': 8, 'map(20, 6)': 4, 'imap(5)': 5 });
    expect(r.stdout(r.root).at(-1)).toBe('chunks of 3 ran whole true');
  });

  it("Pool(5).map over 100 items gives every worker at least one chunk, as Python's forked workers all take part: the last five chunks wait until all five workers are ready", async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';

export function foo(num: number): void {
  console.log(num);
}

export default async function main(): Promise<void> {
  await Pool.with(5, (p) => p.map(foo, Array.from({ length: 100 }, (_, i) => i)));
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const tasks = new Map<number, number>();
    for (const e of r.logged) if (e.type === 'task') tasks.set(e.pid, e.done);
    const perWorker = workers(r).map((w) => `${w.name} ${tasks.get(w.pid) ?? 0}`);
    expect(perWorker, 'each worker should have finished at least one of the 20 chunks').toHaveLength(5);
    for (const line of perWorker) expect(line, perWorker.join(', ')).toMatch(/ [1-9]\d*$/);
    expect([...tasks.values()].reduce((a, b) => a + b, 0), 'chunks of 5: 20 tasks in all').toBe(20);
    expect(r.stdout().filter((l) => /^\d+$/.test(l)).map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a worker that dies before it is ready does not hold the tasks back: the others run the map', async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';

export function double(x: number): number {
  return 2 * x;
}

export default async function main(): Promise<void> {
  await Pool.with(3, async (pool) => {
    pool.processes[0].kill();
    console.log('result', JSON.stringify(await pool.map(double, [1, 2, 3, 4, 5, 6], 1)));
  });
}
`),
    );
    expect(r.stdout(r.root), r.stderr().join('\n')).toEqual(['result [2,4,6,8,10,12]']);
    expect(r.exits().get(workers(r)[0].pid)).toBe(-9);
  });

  it('workers take one task at a time: a task waiting (synchronously) for a later task is not starved by it', async () => {
    const r = await run(
      scenarioFile(`
import fs from 'node:fs';
import { Pool, currentProcess } from 'procscope';

const marker = new URL('./task-1-done', import.meta.url);

/** Sleeps without yielding to the event loop, like a CPU-bound task. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Task 0 blocks until task 1 has run: only possible if another worker takes task 1. */
export function rendezvous(x: number): string {
  const name = currentProcess().name;
  if (x === 1) {
    fs.writeFileSync(marker, '');
    return name;
  }
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(marker)) {
    if (Date.now() > deadline) return 'gave up waiting for task 1';
    blockFor(10);
  }
  return name;
}

export default async function main(): Promise<void> {
  await Pool.with(2, async (pool) => {
    const names = await pool.map(rendezvous, [0, 1], 1);
    console.log('ran in', names.join(' '), names[0] !== names[1] ? 'different workers' : 'one worker');
  });
}
`),
    );
    // Python 3.11 prints ['SpawnPoolWorker-1', 'SpawnPoolWorker-2'] (in either order).
    const [line] = r.stdout(r.root);
    expect(line).toMatch(/^ran in SpawnPoolWorker-[12] SpawnPoolWorker-[12] different workers$/);
  });

  it('an error in a task rejects map() with that error; the pool keeps working', async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';

export function failOn3(x: number): number {
  if (x === 3) throw new RangeError('bad ' + x);
  return x;
}

export class Oops extends Error {
  override name = 'Oops';
}
export function oops(): never {
  throw new Oops('custom');
}

export default async function main(): Promise<void> {
  await Pool.with(2, async (pool) => {
    try {
      await pool.map(failOn3, [0, 1, 2, 3, 4]);
      console.log('map resolved');
    } catch (err) {
      console.log('map rejected', (err as Error).name, (err as Error).message, err instanceof RangeError);
      console.log('stack names the task', /failOn3/.test((err as Error).stack ?? ''));
    }
    await pool.apply(oops).catch((err: Error) => console.log('apply rejected', err.name, err.message));
    console.log('still works', JSON.stringify(await pool.map(failOn3, [0, 1, 2])));
  });
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'map rejected RangeError bad 3 true',
      'stack names the task true',
      'apply rejected Oops custom',
      'still works [0,1,2]',
    ]);
  });

  it('apply() and applyAsync() run one call in a worker and give its result (and call the callback)', async () => {
    const r = await run(
      scenarioFile(`
import { Pool, currentProcess } from 'procscope';

export function add(a: number, b: number): [number, string] {
  return [a + b, currentProcess().name];
}

export default async function main(): Promise<void> {
  await Pool.with(2, async (pool) => {
    const [sum, where] = await pool.apply(add, [2, 3]);
    console.log('apply', sum, where.startsWith('SpawnPoolWorker-'));
    const res = pool.applyAsync(add, [4, 5], ([v]) => console.log('callback', v));
    const [v] = await res.get();
    console.log('applyAsync', v, res.ready(), res.successful());
  });
}
`),
    );
    const out = r.stdout(r.root);
    expect(out[0]).toBe('apply 5 true');
    // The callback runs when the result arrives; get() resolves in the same turn, after it.
    expect(out.slice(1)).toEqual(['callback 9', 'applyAsync 9 true true']);
  });

  it('imap() yields results in input order; imapUnordered() yields each result as it comes, once', async () => {
    const r = await run(
      scenarioFile(`
import fs from 'node:fs';
import { Pool } from 'procscope';

${GATE}

/** Finishes on its turn, the last item first: imap's once item x + 1 has, imapUnordered's once main has had x + 1. */
export async function square([x, prefix]: [number, string]): Promise<number> {
  await gate(\`\${prefix}-\${x}\`);
  if (prefix === 'ordered') open(\`\${prefix}-\${x - 1}\`);
  return x * x;
}

export default async function main(): Promise<void> {
  await Pool.with(5, async (pool) => {
    for (const [prefix, iterate] of [['ordered', pool.imap.bind(pool)], ['unordered', pool.imapUnordered.bind(pool)]] as const) {
      open(\`\${prefix}-4\`);
      const got: number[] = [];
      for await (const v of iterate(square, [0, 1, 2, 3, 4].map((x): [number, string] => [x, prefix]))) {
        got.push(v);
        // imapUnordered: the next item (down) may finish only now, so it yields in finishing order.
        if (prefix === 'unordered') open(\`\${prefix}-\${4 - got.length}\`);
      }
      console.log(prefix, JSON.stringify(got));
    }
  });
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['ordered [0,1,4,9,16]', 'unordered [16,9,4,1,0]']);
  });

  it('workers are daemonic processes named SpawnPoolWorker-N (N from the shared process counter), children of the pool owner', async () => {
    const r = await run(
      scenarioFile(`
import { Pool, Process } from 'procscope';

export function leaf(): void {}

export default async function main(): Promise<void> {
  const p = new Process({ target: leaf });
  p.start();
  await p.join();
  await Pool.with(2, (pool) => {
    console.log('names', pool.processes.map((w) => w.name).join(' '));
  });
}
`),
    );
    // Python 3.11 (spawn): Process-1, then the pool's SpawnPoolWorker-2 and SpawnPoolWorker-3.
    expect(r.stdout(r.root)).toEqual(['names SpawnPoolWorker-2 SpawnPoolWorker-3']);
    expect(workers(r).map((w) => ({ name: w.name, daemon: w.daemon, ppid: w.ppid }))).toEqual([
      { name: 'SpawnPoolWorker-2', daemon: true, ppid: r.root },
      { name: 'SpawnPoolWorker-3', daemon: true, ppid: r.root },
    ]);
  });

  it("close() then join(): queued work finishes and workers exit 0; join() before close fails 'Pool is still running'; map() after close fails 'Pool not running'", async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';
${ATTEMPT}
export function double(x: number): number {
  return 2 * x;
}

export default async function main(): Promise<void> {
  const pool = new Pool(2);
  await attempt('join while running', () => pool.join());
  const pending = pool.mapAsync(double, [1, 2, 3, 4]);
  pool.close();
  await attempt('map after close', () => pool.map(double, [1]));
  await pool.join();
  console.log('queued work', JSON.stringify(await pending.get()));
  console.log('exitcodes', pool.processes.map((w) => w.exitcode).join(' '));
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'join while running ValueError: Pool is still running',
      'map after close ValueError: Pool not running',
      'queued work [2,4,6,8]',
      'exitcodes 0 0',
    ]);
    expect(workers(r).map((w) => r.exits().get(w.pid))).toEqual([0, 0]);
  });

  it('Pool.with(n, fn) terminates the pool when fn settles, as `with Pool(n)` does: workers end with -15', async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';

export function double(x: number): number {
  return 2 * x;
}

export default async function main(): Promise<void> {
  let kept: Pool | null = null;
  const out = await Pool.with(2, async (pool) => {
    kept = pool;
    return pool.map(double, [1, 2, 3]);
  });
  console.log('result', JSON.stringify(out));
  console.log('exitcodes', (kept as unknown as Pool).processes.map((w) => w.exitcode).join(' '));
  try {
    await Pool.with(1, () => {
      throw new Error('inside with');
    });
  } catch (err) {
    console.log('error passes through', (err as Error).message);
  }
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['result [2,4,6]', 'exitcodes -15 -15', 'error passes through inside with']);
    expect(workers(r).map((w) => r.exits().get(w.pid))).toEqual([-15, -15, -15]);
  });

  it('a function that is not exported cannot be sent to the pool, and the error says why', async () => {
    const r = await run(
      scenarioFile(`
import { Pool } from 'procscope';
${ATTEMPT}
function hidden(x: number): number {
  return x;
}

export default async function main(): Promise<void> {
  await Pool.with(1, (pool) => attempt('map', () => pool.map(hidden, [1])));
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      "map PicklingError: cannot send 'hidden' to the pool: it is not exported from the scenario module; " +
        'workers find functions by export name, as pickle finds them by reference',
    ]);
  });
});
