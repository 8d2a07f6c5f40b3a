import { describe, expect, it } from 'vitest';
import type { ProcessEvent, QueueEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, type RunResult } from '../helpers/run.ts';

// Queue, as Python 3.11's multiprocessing.Queue behaves, plus what the broker logs: every put and
// every get is a `queue` event carrying the exact depth after it.

const run = leavingNoSurvivors(runScenario);

/** Prepended to scenarios: prints `label ok` or `label <ErrorName>` and whether it is the exported class. */
const ATTEMPT = `
async function attempt(label: string, fn: () => unknown, cls?: new () => Error): Promise<void> {
  try {
    const v = await fn();
    console.log(label, 'ok', v === undefined ? '' : String(v));
  } catch (err) {
    const e = err as Error;
    console.log(label, e.name + (e.message ? ': ' + e.message : ''), cls ? e instanceof cls : '');
  }
}
`;

function proc(r: RunResult, name: string): ProcessEvent {
  const p = r.processes().find((e) => e.name === name);
  if (!p) throw new Error(`expected a process named ${name}; the log has ${r.processes().map((e) => e.name).join(', ')}`);
  return p;
}

function queueEvents(r: RunResult, queue?: string): QueueEvent[] {
  return r.logged.filter((e): e is QueueEvent => e.type === 'queue' && (queue === undefined || e.queue === queue));
}

/** Replays a queue's log: each put adds one, each get takes one, and the logged depth must agree. */
function expectExactDepths(events: QueueEvent[]): void {
  let depth = 0;
  events.forEach((e, i) => {
    if (e.op === 'put') depth += 1;
    if (e.op === 'get') depth -= 1;
    expect(e.depth, `depth after event #${i} (${e.op} by ${e.pid}) of ${e.queue}`).toBe(depth);
    expect(e.depth, `depth of ${e.queue} is never negative`).toBeGreaterThanOrEqual(0);
  });
}

const count = (events: QueueEvent[], op: QueueEvent['op']) => events.filter((e) => e.op === op).length;

describe('Queue API', () => {
  it('is FIFO across processes; qsize(), empty() and full() count what is in it', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

export async function drain(q: Queue<string>, n: number): Promise<void> {
  const got: string[] = [];
  for (let i = 0; i < n; i++) got.push(await q.get());
  console.log('got', got.join(' '));
}

export default async function main(): Promise<void> {
  const q = new Queue<string>();
  console.log('fresh', await q.qsize(), await q.empty(), await q.full());
  for (const v of ['a', 'b', 'c', 'd']) await q.put(v);
  console.log('after 4 puts', await q.qsize(), await q.empty(), await q.full());
  const p = new Process({ target: drain, args: [q, 4] });
  p.start();
  await p.join();
  console.log('drained', await q.qsize(), await q.empty());
  const b = new Queue<number>(2);
  await b.put(1);
  console.log('bounded 1/2', await b.qsize(), await b.full(), b.maxsize);
  await b.putNowait(2);
  console.log('bounded 2/2', await b.qsize(), await b.full());
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'fresh 0 true false',
      'after 4 puts 4 false false',
      'drained 0 true',
      'bounded 1/2 1 false 2',
      'bounded 2/2 2 true',
    ]);
    expect(r.stdout(proc(r, 'Process-1').pid)).toEqual(['got a b c d']);
  });

  it('a Queue passed as an argument is a live handle: a child puts, the parent gets', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';

export async function send(out: Queue<[string, number]>): Promise<void> {
  await out.put([currentProcess().name, currentProcess().pid]);
}

export default async function main(): Promise<void> {
  const q = new Queue<[string, number]>();
  const p = new Process({ target: send, args: [q] });
  p.start();
  const [name, pid] = await q.get();
  await p.join();
  console.log('from', name, pid === p.pid);
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['from Process-1 true']);
    const child = proc(r, 'Process-1').pid;
    // The parent's get usually blocks before the child boots (its wait lines: runtime-sync.test.ts).
    const ops = queueEvents(r)
      .filter((e) => e.side === undefined)
      .map((e) => `${e.op}:${e.pid === child ? 'child' : e.pid === r.root ? 'root' : e.pid}`);
    expect(ops).toEqual(['create:root', 'put:child', 'get:root']);
  });

  it('a put on a full bounded queue waits until a get makes room', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

export async function takeOne(q: Queue<number>): Promise<void> {
  console.log('took', await q.get());
}

export default async function main(): Promise<void> {
  const q = new Queue<number>(1);
  await q.put(1);
  let done = false;
  const pending = q.put(2).then(() => {
    done = true;
  });
  // The broker answers in order: this qsize is answered after it has parked the put.
  console.log('while full: qsize', await q.qsize(), 'put done', done);
  const p = new Process({ target: takeOne, args: [q] });
  p.start();
  await p.join();
  await pending;
  console.log('after a get: put done', done, 'qsize', await q.qsize());
  console.log('then', await q.get());
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['while full: qsize 1 put done false', 'after a get: put done true qsize 1', 'then 2']);
    expect(r.stdout(proc(r, 'Process-1').pid)).toEqual(['took 1']);
    const child = proc(r, 'Process-1').pid;
    const events = queueEvents(r);
    // The second put blocks (a wait at the put end) until the child's get makes room.
    expect(events.map((e) => [e.op, e.pid === child ? 'child' : 'root', e.depth])).toEqual([
      ['create', 'root', 0],
      ['put', 'root', 1],
      ['wait', 'root', 1],
      ['get', 'child', 0],
      ['woken', 'root', 0],
      ['put', 'root', 1],
      ['get', 'root', 0],
    ]);
    expect(events[2]).toMatchObject({ side: 'put', putters: [r.root], getters: [] });
    expect(events.every((e) => e.maxsize === 1)).toBe(true);
  });

  it('a non-blocking or timed-out put on a full queue rejects with the exported Full; a get on an empty queue with Empty', async () => {
    const r = await run(
      scenarioFile(`
import { Queue, Full, Empty } from 'procscope';
${ATTEMPT}
export default async function main(): Promise<void> {
  const q = new Queue<string>(1);
  await q.put('x');
  await attempt('putNowait', () => q.putNowait('y'), Full);
  await attempt('put(v, false)', () => q.put('y', false), Full);
  await attempt('put(v, {block: false})', () => q.put('y', { block: false }), Full);
  await attempt('put(v, {timeout: 0.1})', () => q.put('y', { timeout: 0.1 }), Full);
  await attempt('put(v, true, 0.1)', () => q.put('y', true, 0.1), Full);
  console.log('qsize', await q.qsize());
  await attempt('get', () => q.get(), Empty);
  await attempt('getNowait', () => q.getNowait(), Empty);
  await attempt('get(false)', () => q.get(false), Empty);
  await attempt('get({timeout: 0.1})', () => q.get({ timeout: 0.1 }), Empty);
  await attempt('get(true, 0.1)', () => q.get(true, 0.1), Empty);
  const u = new Queue<number>();
  await attempt('unbounded putNowait', () => u.putNowait(1));
  await attempt('unbounded getNowait', () => u.getNowait());
}
`),
    );
    // Python: queue.Full() and queue.Empty() carry no message.
    expect(r.stdout(r.root)).toEqual([
      'putNowait Full true',
      'put(v, false) Full true',
      'put(v, {block: false}) Full true',
      'put(v, {timeout: 0.1}) Full true',
      'put(v, true, 0.1) Full true',
      'qsize 1',
      'get ok x',
      'getNowait Empty true',
      'get(false) Empty true',
      'get({timeout: 0.1}) Empty true',
      'get(true, 0.1) Empty true',
      'unbounded putNowait ok ',
      'unbounded getNowait ok 1',
    ]);
    // Failed attempts change nothing and are not puts or gets; a timed one waited (a wait, then
    // its timeout), one that may not block did not.
    const bounded = queueEvents(r).filter((e) => e.maxsize === 1);
    expect(bounded.map((e) => `${e.op}:${e.depth}${e.side ? `:${e.side}` : ''}`)).toEqual([
      'create:0',
      'put:1',
      'wait:1:put',
      'timeout:1:put',
      'wait:1:put',
      'timeout:1:put',
      'get:0',
      'wait:0:get',
      'timeout:0:get',
      'wait:0:get',
      'timeout:0:get',
    ]);
  });
});

describe('Queue in the run log', () => {
  it('every put and get is a queue event with the exact depth after it', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

export async function drain(q: Queue<number>): Promise<void> {
  let sum = 0;
  for (let i = 0; i < 3; i++) sum += await q.get();
  console.log('sum', sum);
}

export default async function main(): Promise<void> {
  const q = new Queue<number>();
  for (const v of [1, 2, 3]) await q.put(v);
  const p = new Process({ target: drain, args: [q] });
  p.start();
  await p.join();
}
`),
    );
    const child = proc(r, 'Process-1').pid;
    expect(r.stdout(child)).toEqual(['sum 6']);
    const events = queueEvents(r);
    expect(events.map((e) => [e.op, e.pid === child ? 'child' : e.pid === r.root ? 'root' : e.pid, e.depth, e.maxsize])).toEqual([
      ['create', 'root', 0, 0],
      ['put', 'root', 1, 0],
      ['put', 'root', 2, 0],
      ['put', 'root', 3, 0],
      ['get', 'child', 2, 0],
      ['get', 'child', 1, 0],
      ['get', 'child', 0, 0],
    ]);
  });

  it('one consumer streaming 5000 items (leases): 5000 puts and 5000 gets logged with exact depths, each item once, in order', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

const N = 5000;

export async function produce(q: Queue<number>): Promise<void> {
  for (let i = 0; i < N; i++) await q.put(i);
}

export async function consume(q: Queue<number>): Promise<void> {
  const seen = new Set<number>();
  let sum = 0;
  let inOrder = true;
  for (let i = 0; i < N; i++) {
    const v = await q.get();
    if (v !== i) inOrder = false;
    seen.add(v);
    sum += v;
  }
  console.log('count', N, 'distinct', seen.size, 'sum', sum, 'in order', inOrder);
}

export default async function main(): Promise<void> {
  const q = new Queue<number>();
  const c = new Process({ target: consume, args: [q] });
  const p = new Process({ target: produce, args: [q] });
  c.start();
  p.start();
  await p.join();
  await c.join();
  console.log('left', await q.qsize());
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const consumer = proc(r, 'Process-1').pid;
    const producer = proc(r, 'Process-2').pid;
    expect(r.stdout(consumer)).toEqual([`count 5000 distinct 5000 sum ${(4999 * 5000) / 2} in order true`]);
    expect(r.stdout(r.root)).toEqual(['left 0']);
    const events = queueEvents(r);
    expect(count(events, 'put')).toBe(5000);
    expect(count(events, 'get')).toBe(5000);
    expect(events.filter((e) => e.op === 'put').every((e) => e.pid === producer), 'every put is the producer').toBe(true);
    expect(events.filter((e) => e.op === 'get').every((e) => e.pid === consumer), 'every get is the consumer').toBe(true);
    expectExactDepths(events);
    expect(events.at(-1)?.depth).toBe(0);
  });

  it('two consumers sharing a queue (a lease recalled): gets equal puts and each item is received exactly once', async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

const N = 2000;

async function rest(q: Queue<number | null>, got: number[]): Promise<void> {
  for (;;) {
    const v = await q.get();
    if (v === null) break;
    got.push(v);
  }
  console.log(JSON.stringify(got));
}

/** Takes one item (and so a lease of many), then waits while the second consumer arrives. */
export async function first(q: Queue<number | null>, ctl: Queue<string>, go: Queue<string>): Promise<void> {
  const got = [(await q.get()) as number];
  await ctl.put('first has a lease');
  await go.get();
  await rest(q, got);
}

export async function second(q: Queue<number | null>, ctl: Queue<string>): Promise<void> {
  const got = [(await q.get()) as number];
  await ctl.put('second got one');
  await rest(q, got);
}

export default async function main(): Promise<void> {
  const q = new Queue<number | null>();
  const ctl = new Queue<string>();
  const go = new Queue<string>();
  for (let i = 0; i < N; i++) await q.put(i);
  await q.put(null);
  await q.put(null);
  const a = new Process({ target: first, args: [q, ctl, go] });
  a.start();
  console.log(await ctl.get());
  const b = new Process({ target: second, args: [q, ctl] });
  b.start();
  console.log(await ctl.get());
  await go.put('go');
  await a.join();
  await b.join();
  console.log('left', await q.qsize());
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['first has a lease', 'second got one', 'left 0']);
    const a = JSON.parse(r.stdout(proc(r, 'Process-1').pid)[0]) as number[];
    const b = JSON.parse(r.stdout(proc(r, 'Process-2').pid)[0]) as number[];
    expect(a.length, 'the first consumer got items').toBeGreaterThan(0);
    expect(b.length, 'the second consumer got items').toBeGreaterThan(0);
    const all = [...a, ...b].sort((x, y) => x - y);
    expect(all, 'every item received exactly once').toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const q = queueEvents(r).find((e) => e.op === 'put')?.queue as string;
    const events = queueEvents(r, q);
    expect(count(events, 'put')).toBe(2002);
    expect(count(events, 'get'), 'total gets = total puts').toBe(2002);
    expectExactDepths(events);
    const getsBy = (pid: number) => events.filter((e) => e.op === 'get' && e.pid === pid).length;
    // Each consumer's gets in the log are its items plus its one null.
    expect(getsBy(proc(r, 'Process-1').pid)).toBe(a.length + 1);
    expect(getsBy(proc(r, 'Process-2').pid)).toBe(b.length + 1);
  });

  it('a consumer computing between gets still hands its lease back when a second consumer comes', async () => {
    const r = await run(
      scenarioFile(`
import fs from 'node:fs';
import { Process, Queue } from 'procscope';

const N = 500;
const marker = new URL('./second-got-one', import.meta.url);

/** Sleeps without yielding to the event loop, like CPU-bound work. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Works 20 ms per item (never awaiting anything but get) until the second consumer has an item. */
export async function busy(q: Queue<number | null>, ctl: Queue<string>): Promise<void> {
  const got: number[] = [];
  for (;;) {
    const v = await q.get();
    if (v === null) break;
    if (got.length === 0) await ctl.put('busy has a lease');
    got.push(v);
    if (!fs.existsSync(marker)) blockFor(20);
  }
  console.log(JSON.stringify(got));
}

export async function late(q: Queue<number | null>): Promise<void> {
  const got: number[] = [];
  for (;;) {
    const v = await q.get();
    if (v === null) break;
    if (got.length === 0) fs.writeFileSync(marker, '');
    got.push(v);
  }
  console.log(JSON.stringify(got));
}

export default async function main(): Promise<void> {
  const q = new Queue<number | null>();
  const ctl = new Queue<string>();
  for (let i = 0; i < N; i++) await q.put(i);
  await q.put(null);
  await q.put(null);
  const a = new Process({ target: busy, args: [q, ctl] });
  a.start();
  console.log(await ctl.get());
  const b = new Process({ target: late, args: [q] });
  b.start();
  await a.join();
  await b.join();
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['busy has a lease']);
    const a = JSON.parse(r.stdout(proc(r, 'Process-1').pid)[0]) as number[];
    const b = JSON.parse(r.stdout(proc(r, 'Process-2').pid)[0]) as number[];
    // Python: the second consumer gets items as soon as it asks. Here the busy one's lease held
    // them all; it must give back what it has not consumed when the second one asks.
    expect(b.length, 'the late consumer got items out of the busy one\'s lease').toBeGreaterThan(0);
    expect([...a, ...b].sort((x, y) => x - y), 'every item received exactly once').toEqual(Array.from({ length: 500 }, (_, i) => i));
    expectExactDepths(queueEvents(r, queueEvents(r).find((e) => e.op === 'put')?.queue));
  });

  it("a bounded queue's depth in the log never exceeds its maxsize", async () => {
    const r = await run(
      scenarioFile(`
import { Process, Queue } from 'procscope';

const N = 300;

export async function produce(q: Queue<number>): Promise<void> {
  for (let i = 1; i <= N; i++) await q.put(i);
}

export async function consume(q: Queue<number>): Promise<void> {
  let sum = 0;
  for (let i = 0; i < N; i++) sum += await q.get();
  console.log('sum', sum);
}

export default async function main(): Promise<void> {
  const q = new Queue<number>(3);
  const p = new Process({ target: produce, args: [q] });
  const c = new Process({ target: consume, args: [q] });
  p.start();
  c.start();
  await p.join();
  await c.join();
}
`),
    );
    expect(r.stdout(proc(r, 'Process-2').pid)).toEqual([`sum ${(300 * 301) / 2}`]);
    const events = queueEvents(r);
    expect(count(events, 'put')).toBe(300);
    expect(count(events, 'get')).toBe(300);
    expectExactDepths(events);
    const deepest = Math.max(...events.map((e) => e.depth));
    expect(deepest, 'never deeper than maxsize 3').toBeLessThanOrEqual(3);
    expect(events.every((e) => e.maxsize === 3)).toBe(true);
  });
});
