import { describe, expect, it } from 'vitest';
import type { DeadlockEvent, LockEvent, QueueEvent, RunEvent, SharedEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, waitFor, type RunResult } from '../helpers/run.ts';
import { expectAbortThenReset, expectNotifiedOnce, expectNotifyTwoThenAll, expectWaitFor, goPath, letGo, locksOf, sorted, syncsOf } from '../helpers/sync-log.ts';

// The TypeScript twins of python-sync.test.ts and python-sync-makers.test.ts: the runtime's
// Semaphore, BoundedSemaphore, Event, Condition (waitFor, notify(n), notifyAll), Barrier (abort,
// reset), a blocked get, a Manager's dict and list and its synchronisation objects, and what the
// log says of them, the same as of Python's. A program that must be blocked before it is let go waits for a "go"
// file that the test writes once the log shows the block.

const run = leavingNoSurvivors(runScenario);

const ofType = <T extends RunEvent['type']>(r: RunResult, type: T) => r.logged.filter((e) => e.type === type) as Extract<RunEvent, { type: T }>[];
const children = (r: RunResult) => r.processes().filter((p) => p.pid !== r.root);

/** A path for a go file, and TypeScript that waits for it (`go()`). */
function goFile(): { file: string; ts: string } {
  const file = goPath();
  return {
    file,
    ts: `
import fs from 'node:fs';
async function go(): Promise<void> {
  while (!fs.existsSync(${JSON.stringify(file)})) await new Promise((r) => setTimeout(r, 10));
}
`,
  };
}

/** Runs `source`; once `block` is seen in the events, writes the go file. */
function runLettingGo(source: string, go: string, block: (e: RunEvent) => boolean): Promise<RunResult> {
  return run(scenarioFile(source), { during: letGo(go, block) });
}

describe('TypeScript runtime: synchronisation objects in the log', () => {
  it('Semaphore(2): holders and waiters at each step, never more than two holders; a third waits until one leaves', async () => {
    const g = goFile();
    const source = `
import { Process, Semaphore } from 'procscope';
${g.ts}
export async function worker(s: Semaphore, n: number): Promise<void> {
  await s.with(async () => {
    if (n < 2) await go();
  });
}

export default async function main(): Promise<void> {
  const s = new Semaphore(2);
  const ps = [0, 1].map((n) => new Process({ target: worker, args: [s, n] }));
  for (const p of ps) p.start();
  while ((await s.getValue()) > 0) await new Promise((r) => setTimeout(r, 10));
  ps.push(new Process({ target: worker, args: [s, 2] }));
  ps[2].start();
  for (const p of ps) await p.join();
  console.log('value', await s.getValue());
}
`;
    const r = await runLettingGo(source, g.file, (e) => e.type === 'lock' && e.op === 'request' && e.waiters.length === 1);
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['value 2']);
    const ev = locksOf(r, 'semaphore');
    expect(ev[0]).toMatchObject({ op: 'create', kind: 'semaphore', capacity: 2, holders: [], value: 2 });
    const [first, second, third] = children(r).map((p) => p.pid);
    for (const e of ev) {
      expect(e.holders?.length, `${e.op}: at most two holders`).toBeLessThanOrEqual(2);
      expect(e.value, `${e.op}: the value is what the holders left`).toBe(2 - (e.holders?.length ?? 0));
    }
    const acquires = ev.filter((e) => e.op === 'acquire');
    expect(acquires).toHaveLength(3);
    expect(sorted(acquires.slice(0, 2).map((e) => e.pid))).toEqual(sorted([first, second]));
    expect(acquires[2].pid).toBe(third);
    expect(sorted(acquires[1].holders ?? [])).toEqual(sorted([first, second]));
    const waiting = ev.find((e) => e.op === 'request' && e.pid === third);
    expect(waiting).toMatchObject({ waiters: [third], value: 0 });
    expect(sorted(waiting?.holders ?? [])).toEqual(sorted([first, second]));
    expect(ev.slice(ev.indexOf(waiting as LockEvent), ev.indexOf(acquires[2])).some((e) => e.op === 'release')).toBe(true);
    expect(acquires[2].waiters).toEqual([]);
    expect(ev.at(-1)).toMatchObject({ op: 'release', holders: [], value: 2 });
  });

  it("BoundedSemaphore: a release past its bound rejects with Python's ValueError, logged as an error", async () => {
    const r = await run(
      scenarioFile(`
import { BoundedSemaphore, Process } from 'procscope';

export async function twice(b: BoundedSemaphore): Promise<void> {
  await b.acquire();
  await b.release();
  try {
    await b.release();
  } catch (err) {
    console.log((err as Error).name + ':', (err as Error).message);
  }
}

export default async function main(): Promise<void> {
  const p = new Process({ target: twice, args: [new BoundedSemaphore(1)] });
  p.start();
  await p.join();
}
`),
    );
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['ValueError: semaphore or lock released too many times']);
    const ev = locksOf(r, 'bounded-semaphore');
    expect(ev.map((e) => e.op)).toEqual(['create', 'request', 'acquire', 'release', 'error']);
    expect(ev.at(-1)).toMatchObject({ pid: child.pid, holders: [], value: 1, error: 'ValueError: semaphore or lock released too many times' });
  });

  it('Event: two processes wait; set() releases both; a wait(timeout) on another runs out', async () => {
    const g = goFile();
    const source = `
import { Event, Process } from 'procscope';
${g.ts}
export async function runner(e: Event): Promise<void> {
  console.log('went', await e.wait());
}

export default async function main(): Promise<void> {
  const e = new Event();
  const ps = [0, 1].map(() => new Process({ target: runner, args: [e] }));
  for (const p of ps) p.start();
  await go();
  e.set();
  for (const p of ps) await p.join();
  console.log('timed', await e.isSet(), await new Event().wait(0.01));
}
`;
    const r = await runLettingGo(source, g.file, (e) => e.type === 'sync' && e.op === 'wait' && e.waiters.length === 2);
    expect(r.stdout(r.root)).toEqual(['timed true false']);
    const kids = sorted(children(r).map((p) => p.pid));
    for (const k of kids) expect(r.stdout(k)).toEqual(['went true']);
    const events = syncsOf(r, 'event');
    const ev = events.filter((e) => e.sync === events[0].sync);
    const other = events.filter((e) => e.sync !== events[0].sync);
    expect(ev.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'set']);
    expect(sorted(ev.slice(1, 3).map((e) => e.pid))).toEqual(kids);
    expect(ev[3]).toMatchObject({ pid: r.root, set: true, waiters: [] });
    expect(sorted(ev[3].released ?? [])).toEqual(kids);
    expect(other.map((e) => e.op)).toEqual(['create', 'wait', 'timeout']);
  });

  it('Condition: wait() releases its lock (logged), notify() wakes the waiter, by the notifier', async () => {
    const r = await run(
      scenarioFile(`
import { Condition, Process, Queue } from 'procscope';

export async function waiter(c: Condition, ready: Queue<string>): Promise<void> {
  await c.with(async () => {
    await ready.put('in');
    await c.wait();
    console.log('notified');
  });
}

export default async function main(): Promise<void> {
  const c = new Condition();
  const ready = new Queue<string>();
  const p = new Process({ target: waiter, args: [c, ready] });
  p.start();
  await ready.get();
  await c.with(() => c.notify());
  await p.join();
}
`),
    );
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['notified']);
    expectNotifiedOnce(r, syncsOf(r, 'condition'), child.pid);
  });

  it('Barrier(3): parties arrive one by one; the last releases the generation', async () => {
    const r = await run(
      scenarioFile(`
import { Barrier, Process } from 'procscope';

export async function party(b: Barrier): Promise<void> {
  await b.wait();
}

export default async function main(): Promise<void> {
  const b = new Barrier(3);
  const ps = [0, 1].map(() => new Process({ target: party, args: [b] }));
  for (const p of ps) p.start();
  await b.wait();
  for (const p of ps) await p.join();
  console.log('broken', await b.broken());
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['broken false']);
    const all = sorted([r.root, ...children(r).map((p) => p.pid)]);
    const bar = syncsOf(r, 'barrier');
    expect(bar.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'wait', 'release']);
    expect(bar.slice(1, 4).map((e) => e.waiters.length)).toEqual([1, 2, 3]);
    expect(sorted(bar.slice(1, 4).map((e) => e.pid))).toEqual(all);
    expect(bar[4]).toMatchObject({ parties: 3, generation: 1, broken: false, waiters: [] });
    expect(bar[4].pid).toBe(bar[3].pid);
    expect(sorted(bar[4].released ?? [])).toEqual(all);
  });

  it('a get on an empty queue is a wait, with the getter listed, then woken by the put', async () => {
    const g = goFile();
    const source = `
import { Process, Queue } from 'procscope';
${g.ts}
export async function getter(q: Queue<string>): Promise<void> {
  console.log('got', await q.get());
}

export default async function main(): Promise<void> {
  const q = new Queue<string>();
  const p = new Process({ target: getter, args: [q] });
  p.start();
  await go();
  await q.put('x');
  await p.join();
}
`;
    const r = await runLettingGo(source, g.file, (e) => e.type === 'queue' && e.op === 'wait');
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['got x']);
    const q = ofType(r, 'queue') as QueueEvent[];
    expect(q.map((e) => `${e.op}:${e.pid === r.root ? 'main' : 'child'}`)).toEqual(['create:main', 'wait:child', 'put:main', 'woken:child', 'get:child']);
    expect(q[1]).toMatchObject({ side: 'get', getters: [child.pid], putters: [], depth: 0 });
    expect(q[3]).toMatchObject({ side: 'get', getters: [], putters: [] });
  });

  it('two Semaphores taken in opposite order: a deadlock of the two holders is reported', async () => {
    let cycle: DeadlockEvent['cycle'] = [];
    const r = await run(
      scenarioFile(`
import { Barrier, Process, Semaphore } from 'procscope';

export async function take(first: Semaphore, second: Semaphore, both: Barrier): Promise<void> {
  await first.acquire();
  await both.wait();
  await second.acquire();
}

export default async function main(): Promise<void> {
  const a = new Semaphore(1);
  const b = new Semaphore(1);
  const both = new Barrier(2);
  const ps = [new Process({ target: take, args: [a, b, both] }), new Process({ target: take, args: [b, a, both] })];
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
}
`),
      {
        during: async (s, events) => {
          cycle = (await waitFor(s, events, (e): e is DeadlockEvent => e.type === 'deadlock')).cycle;
          await s.stop();
        },
      },
    );
    const kids = sorted(children(r).map((p) => p.pid));
    expect(sorted(cycle.map((e) => e.pid))).toEqual(kids);
    expect(sorted(cycle.map((e) => e.holder))).toEqual(kids);
    const sems = new Set(ofType(r, 'lock').filter((e) => e.kind === 'semaphore').map((e) => e.lock));
    expect(new Set(cycle.map((e) => e.lock))).toEqual(sems);
  });

  it("a Manager's dict and list: reads and writes counted per process", async () => {
    const r = await run(
      scenarioFile(`
import { DictProxy, ListProxy, Manager, Process } from 'procscope';

export async function user(d: DictProxy<number | string, number>, l: ListProxy<number>): Promise<void> {
  for (let i = 0; i < 3; i++) await d.setItem(i, i);
  console.log(await d.get(0), await d.getItem(2), await l.len());
  await l.append(1);
}

export default async function main(): Promise<void> {
  const m = new Manager();
  const d = m.dict<number | string, number>();
  const l = m.list<number>();
  const p = new Process({ target: user, args: [d, l] });
  p.start();
  await p.join();
  await d.setItem('main', 1);
  console.log(await d.len(), await l.getItem(0));
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['4 1']);
    const [user] = children(r);
    const shared = ofType(r, 'shared') as SharedEvent[];
    const counts = (kind: string, pid: number) =>
      shared.filter((e) => e.kind === kind && e.op === 'use' && e.pid === pid).reduce((c, e) => [c[0] + (e.reads ?? 0), c[1] + (e.writes ?? 0)], [0, 0]);
    expect(shared.filter((e) => e.op === 'create').map((e) => [e.kind, e.pid])).toEqual([
      ['dict', r.root],
      ['list', r.root],
    ]);
    expect(counts('dict', user.pid)).toEqual([2, 3]);
    expect(counts('list', user.pid)).toEqual([1, 1]);
    expect(counts('dict', r.root)).toEqual([1, 1]);
    expect(counts('list', r.root)).toEqual([1, 0]);
    expect(shared.filter((e) => e.op === 'call')).toEqual([]);
  });

  it('Condition.waitFor: a predicate true at once waits not; one made true by a notify wakes by the notifier; one never true times out', async () => {
    const r = await run(
      scenarioFile(`
import { Condition, Manager, Process, Queue, type ValueProxy } from 'procscope';

export async function waiter(c: Condition, flag: ValueProxy<number>, ready: Queue<number>): Promise<void> {
  await c.with(async () => {
    console.log('at once', await c.waitFor(() => true));
    await ready.put(1);
    console.log('notified', await c.waitFor(async () => (await flag.get()) === 1));
    console.log('timed', await c.waitFor(() => false, 0.3));
  });
}

export default async function main(): Promise<void> {
  const m = new Manager();
  const c = new Condition();
  const flag = m.Value('i', 0);
  const ready = new Queue<number>();
  const p = new Process({ target: waiter, args: [c, flag, ready] });
  p.start();
  await ready.get();
  await c.with(async () => {
    await flag.set(1);
    c.notify();
  });
  await p.join();
}
`),
    );
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['at once true', 'notified true', 'timed false']);
    expectWaitFor(r, syncsOf(r, 'condition'), child.pid);
  });

  it('notify(2) wakes exactly two of three waiters and notifyAll the last, each woken by the notifier', async () => {
    const r = await run(
      scenarioFile(`
import { Condition, Process, Queue } from 'procscope';

export async function waiter(c: Condition, ready: Queue<number>, done: Queue<number>, i: number): Promise<void> {
  await c.with(async () => {
    await ready.put(i);
    await c.wait();
    await done.put(i);
  });
  console.log('woken', i);
}

export default async function main(): Promise<void> {
  const c = new Condition();
  const ready = new Queue<number>();
  const done = new Queue<number>();
  const ps = [0, 1, 2].map((i) => new Process({ target: waiter, args: [c, ready, done, i] }));
  for (const p of ps) p.start();
  for (const _ of ps) await ready.get();
  await c.with(() => c.notify(2));
  for (let i = 0; i < 2; i++) await done.get();
  await c.with(() => c.notifyAll());
  await done.get();
  for (const p of ps) await p.join();
}
`),
    );
    expectNotifyTwoThenAll(r, syncsOf(r, 'condition'), children(r).map((p) => p.pid));
  });

  it('Barrier: abort() lets its waiters go with BrokenBarrierError and breaks it; reset() lets them go and mends it', async () => {
    const r = await run(
      scenarioFile(`
import { Barrier, BrokenBarrierError, Process } from 'procscope';

export async function party(b: Barrier): Promise<void> {
  try {
    await b.wait();
  } catch (err) {
    if (!(err instanceof BrokenBarrierError)) throw err;
    console.log('broken');
  }
}

async function twoWait(b: Barrier): Promise<Process[]> {
  const ps = [0, 1].map(() => new Process({ target: party, args: [b] }));
  for (const p of ps) p.start();
  while ((await b.nWaiting()) < 2) await new Promise((res) => setTimeout(res, 10));
  return ps;
}

export default async function main(): Promise<void> {
  const b = new Barrier(3);
  let ps = await twoWait(b);
  b.abort();
  for (const p of ps) await p.join();
  try {
    await b.wait();
  } catch (err) {
    if (!(err instanceof BrokenBarrierError)) throw err;
    console.log('refused', await b.broken());
  }
  b.reset();
  console.log('mended', await b.broken());
  ps = await twoWait(b);
  b.reset();
  for (const p of ps) await p.join();
  console.log('after', await b.broken());
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['refused true', 'mended false', 'after false']);
    const kids = children(r).map((p) => p.pid);
    for (const k of kids) expect(r.stdout(k)).toEqual(['broken']);
    expectAbortThenReset(r, syncsOf(r, 'barrier'), kids);
  });

  it("a Manager's Semaphore, BoundedSemaphore, Condition, Event and Barrier are logged as the runtime's own", async () => {
    const r = await run(
      scenarioFile(`
import { Barrier, BoundedSemaphore, Condition, Event, Manager, Process, Queue, Semaphore } from 'procscope';

export async function child(s: Semaphore, b: BoundedSemaphore, c: Condition, e: Event, bar: Barrier, ready: Queue<number>): Promise<void> {
  await s.with(() => undefined);
  await b.acquire();
  await b.release();
  try {
    await b.release();
  } catch (err) {
    console.log((err as Error).name + ':', (err as Error).message);
  }
  await c.with(async () => {
    await ready.put(1);
    await c.wait();
  });
  console.log('set', await e.wait());
  await bar.wait();
}

export default async function main(): Promise<void> {
  const m = new Manager();
  const [s, b, c, e, bar] = [m.Semaphore(2), m.BoundedSemaphore(1), m.Condition(), m.Event(), m.Barrier(2)];
  const ready = m.Queue<number>();
  const p = new Process({ target: child, args: [s, b, c, e, bar, ready] });
  p.start();
  await ready.get();
  await c.with(() => c.notify());
  e.set();
  await bar.wait();
  await p.join();
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const [kid] = children(r);
    expect(r.stdout(kid.pid)).toEqual(['ValueError: semaphore or lock released too many times', 'set true']);
    const sem = locksOf(r, 'semaphore');
    expect(sem[0]).toMatchObject({ op: 'create', capacity: 2, pid: r.root });
    expect(sem.find((x) => x.op === 'acquire')).toMatchObject({ pid: kid.pid, holders: [kid.pid], value: 1 });
    expect(locksOf(r, 'bounded-semaphore').map((x) => x.op)).toEqual(['create', 'request', 'acquire', 'release', 'error']);
    expect(syncsOf(r, 'condition').map((x) => x.op)).toEqual(['create', 'wait', 'notify', 'woken']);
    expect(syncsOf(r, 'condition').at(-1)).toMatchObject({ pid: kid.pid, by: r.root });
    const ev = syncsOf(r, 'event');
    expect(ev.filter((x) => x.op === 'set')).toEqual([expect.objectContaining({ pid: r.root, set: true })]);
    expect(ev.some((x) => x.op === 'wait' && x.pid === kid.pid)).toBe(true);
    expect(syncsOf(r, 'barrier').find((x) => x.op === 'release')).toMatchObject({ parties: 2, generation: 1 });
    expect(sorted(syncsOf(r, 'barrier').find((x) => x.op === 'release')?.released ?? [])).toEqual(sorted([r.root, kid.pid]));
  });
});
