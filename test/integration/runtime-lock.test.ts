import { describe, expect, it } from 'vitest';
import type { DeadlockEvent, LockEvent, ProcessEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, waitFor, type RunResult } from '../helpers/run.ts';

// Lock, as Python 3.11's multiprocessing.Lock behaves, plus what the broker logs: holder and
// waiters after every operation, deadlocks, and locks abandoned by a dying holder.

const run = leavingNoSurvivors(runScenario);

/** Prepended to scenarios: prints `label <value>` or `label <ErrorName>: <message>`. */
const ATTEMPT = `
async function attempt(label: string, fn: () => unknown): Promise<void> {
  try {
    console.log(label, String(await fn()));
  } catch (err) {
    console.log(label, (err as Error).name + ': ' + (err as Error).message);
  }
}
`;

function proc(r: RunResult, name: string): ProcessEvent {
  const p = r.processes().find((e) => e.name === name);
  if (!p) throw new Error(`expected a process named ${name}; the log has ${r.processes().map((e) => e.name).join(', ')}`);
  return p;
}

const lockEvents = (r: RunResult): LockEvent[] => r.logged.filter((e): e is LockEvent => e.type === 'lock');

describe('Lock API', () => {
  it('acquire() resolves true; a non-blocking or timed-out acquire of a held lock resolves false', async () => {
    const r = await run(
      scenarioFile(`
import { Lock } from 'procscope';

export default async function main(): Promise<void> {
  const lock = new Lock();
  console.log('acquire()', await lock.acquire());
  // Not re-entrant, as Python's Lock: the holder itself cannot take it again.
  console.log('acquire(false)', await lock.acquire(false));
  console.log('acquire({block: false})', await lock.acquire({ block: false }));
  console.log('acquire({timeout: 0.1})', await lock.acquire({ timeout: 0.1 }));
  console.log('acquire(true, 0.1)', await lock.acquire(true, 0.1));
  lock.release();
  console.log('after release, acquire(false)', await lock.acquire(false));
  lock.release();
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'acquire() true',
      'acquire(false) false',
      'acquire({block: false}) false',
      'acquire({timeout: 0.1}) false',
      'acquire(true, 0.1) false',
      'after release, acquire(false) true',
    ]);
    const ops = lockEvents(r).map((e) => `${e.op}:${e.holder === null ? '-' : 'root'}`);
    expect(ops).toEqual([
      'create:-',
      'request:-',
      'acquire:root',
      ...Array(4).fill(['request:root', 'timeout:root']).flat(),
      'release:-',
      'request:-',
      'acquire:root',
      'release:-',
    ]);
  });

  it("release() of a lock not held fails with 'semaphore or lock released too many times'", async () => {
    const r = await run(
      scenarioFile(`
import { Lock } from 'procscope';
${ATTEMPT}
export default async function main(): Promise<void> {
  const lock = new Lock();
  await attempt('release fresh', () => lock.release());
  await lock.acquire();
  lock.release();
  await attempt('release twice', () => lock.release());
}
`),
    );
    expect(r.stdout(r.root)).toEqual([
      'release fresh ValueError: semaphore or lock released too many times',
      'release twice ValueError: semaphore or lock released too many times',
    ]);
  });

  it('lock.with(fn) holds the lock while fn runs and releases it afterwards, also when fn throws', async () => {
    const r = await run(
      scenarioFile(`
import { Lock } from 'procscope';
${ATTEMPT}
export default async function main(): Promise<void> {
  const lock = new Lock();
  await attempt('with', () =>
    lock.with(async () => {
      console.log('inside, taken by another acquire:', await lock.acquire(false));
      return 42;
    }),
  );
  await attempt('with throwing', () =>
    lock.with(() => {
      throw new Error('inside');
    }),
  );
  console.log('free after', await lock.acquire(false));
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['inside, taken by another acquire: false', 'with 42', 'with throwing Error: inside', 'free after true']);
  });

  it("a Lock passed as an argument is a live handle: while a child holds it the parent's non-blocking acquire fails", async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process, Queue } from 'procscope';

export async function holdUntilTold(lock: Lock, held: Queue<string>, done: Queue<string>): Promise<void> {
  await lock.acquire();
  await held.put('held');
  await done.get();
  lock.release();
}

export default async function main(): Promise<void> {
  const lock = new Lock();
  const held = new Queue<string>();
  const done = new Queue<string>();
  const p = new Process({ target: holdUntilTold, args: [lock, held, done] });
  p.start();
  await held.get();
  console.log('while the child holds it', await lock.acquire(false));
  await done.put('done');
  await p.join();
  console.log('after the child released it', await lock.acquire(false));
  lock.release();
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['while the child holds it false', 'after the child released it true']);
    const child = proc(r, 'Process-1').pid;
    const holders = lockEvents(r)
      .filter((e) => e.op === 'acquire')
      .map((e) => e.holder);
    expect(holders, 'the child held the lock, then the parent').toEqual([child, r.root]);
  });
});

describe('Lock in the run log', () => {
  it("the lock's log never shows two holders at once", async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process, Queue } from 'procscope';

export async function work(lock: Lock, ready: Queue<string>, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    // The first time, say so right before asking: the broker sees the put, then the request.
    if (i === 0) await ready.put('asking');
    await lock.with(async () => {
      // Yield inside the critical section so the others queue up behind it.
      await new Promise((resolve) => setImmediate(resolve));
    });
  }
}

export default async function main(): Promise<void> {
  const lock = new Lock();
  const ready = new Queue<string>();
  // Held while the workers arrive, so all three wait at once when it is released.
  await lock.acquire();
  const ps = [1, 2, 3].map(() => new Process({ target: work, args: [lock, ready, 20] }));
  for (const p of ps) p.start();
  for (const p of ps) await ready.get();
  lock.release();
  for (const p of ps) await p.join();
  console.log('exitcodes', ps.map((p) => p.exitcode).join(' '));
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['exitcodes 0 0 0']);
    const events = lockEvents(r);
    let holder: number | null = null;
    events.forEach((e, i) => {
      const where = `lock event #${i} (${e.op} by ${e.pid})`;
      if (e.op === 'acquire') {
        expect(holder, `${where}: nobody held the lock before`).toBeNull();
        holder = e.pid;
      } else if (e.op === 'release') {
        expect(holder, `${where}: only the holder releases`).toBe(e.pid);
        holder = null;
      }
      expect(e.holder, `${where}: the logged holder`).toBe(holder);
      expect(e.waiters, `${where}: the holder does not wait`).not.toContain(holder);
    });
    expect(events.filter((e) => e.op === 'acquire')).toHaveLength(61);
    expect(events.filter((e) => e.op === 'release')).toHaveLength(61);
    const release = events.find((e) => e.op === 'release' && e.pid === r.root);
    expect(release?.waiters, 'all three workers were waiting when the parent released').toHaveLength(3);
  });

  it('two processes taking two locks in opposite order produce a deadlock event naming both pids and both locks', async () => {
    let deadlock: DeadlockEvent | null = null;
    const r = await run(
      scenarioFile(`
import { Lock, Process, Queue, currentProcess } from 'procscope';

export async function takeBoth(first: Lock, second: Lock, ready: Queue<string>, go: Queue<string>): Promise<void> {
  await first.acquire();
  await ready.put(currentProcess().name);
  await go.get();
  await second.acquire(); // the other process holds it and waits for ours: never returns
  console.log('unreachable');
}

export default async function main(): Promise<void> {
  const a = new Lock();
  const b = new Lock();
  const ready = new Queue<string>();
  const go = new Queue<string>();
  console.log('locks', a.id, b.id);
  const p1 = new Process({ target: takeBoth, args: [a, b, ready, go] });
  const p2 = new Process({ target: takeBoth, args: [b, a, ready, go] });
  p1.start();
  p2.start();
  await ready.get();
  await ready.get();
  await go.put('go');
  await go.put('go');
  await p1.join();
  await p2.join();
}
`),
      {
        during: async (session, events) => {
          deadlock = await waitFor(session, events, (e): e is DeadlockEvent => e.type === 'deadlock');
          await session.stop();
        },
      },
    );
    expect(r.summary.end.reason).toBe('stopped');
    const [, a, b] = r.stdout(r.root)[0].split(' ');
    const p1 = proc(r, 'Process-1').pid;
    const p2 = proc(r, 'Process-2').pid;
    expect(deadlock, 'a deadlock event').not.toBeNull();
    const cycle = (deadlock as unknown as DeadlockEvent).cycle;
    // p1 holds a and waits for b; p2 holds b and waits for a.
    const edges = [...cycle].map((e) => `${e.pid} waits for ${e.lock} held by ${e.holder}`).sort();
    expect(edges).toEqual([`${p1} waits for ${b} held by ${p2}`, `${p2} waits for ${a} held by ${p1}`].sort());
    expect(r.logged.filter((e) => e.type === 'deadlock'), 'reported once, and in the log').toHaveLength(1);
    expect(r.stdout(p1)).toEqual([]);
    expect(r.stdout(p2)).toEqual([]);
  });

  it("a process that exits holding a lock leaves it held: an 'abandoned' event, and another process's non-blocking acquire returns false", async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process } from 'procscope';

export async function takeAndLeave(lock: Lock): Promise<void> {
  await lock.acquire();
  // returns without release()
}

export default async function main(): Promise<void> {
  const lock = new Lock();
  const p = new Process({ target: takeAndLeave, args: [lock] });
  p.start();
  await p.join();
  console.log('exitcode', p.exitcode);
  console.log('acquire(false)', await lock.acquire(false));
  console.log('acquire({timeout: 0.2})', await lock.acquire({ timeout: 0.2 }));
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['exitcode 0', 'acquire(false) false', 'acquire({timeout: 0.2}) false']);
    const child = proc(r, 'Process-1').pid;
    const events = lockEvents(r);
    const abandoned = events.filter((e) => e.op === 'abandoned');
    expect(abandoned.map((e) => ({ pid: e.pid, holder: e.holder }))).toEqual([{ pid: child, holder: child }]);
    // Still held by the dead process for every later event.
    const after = events.slice(events.indexOf(abandoned[0]) + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.holder === child), 'the lock stays held by its dead holder').toBe(true);
    expect(r.summary.locks.map((l) => ({ holder: l.holder, abandoned: l.abandoned }))).toEqual([{ holder: child, abandoned: true }]);
  });
});

describe('Lock lending (a lock taken in a loop is lent, yet every operation is logged)', () => {
  it('three processes hammering one lock: every acquire and release is in the log, holds never overlap, time never goes back', async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process } from 'procscope';
export async function hammer(lock: Lock, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  console.log('done', n);
}
export default async function main(): Promise<void> {
  const lock = new Lock();
  const ps = [1, 2, 3].map(() => new Process({ target: hammer, args: [lock, 400] }));
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
}
`),
    );
    const events = lockEvents(r);
    const acquires = events.filter((e) => e.op === 'acquire');
    const releases = events.filter((e) => e.op === 'release');
    expect(acquires.length, 'one acquire event per acquire() of the three processes').toBe(1200);
    expect(releases.length, 'one release event per release()').toBe(1200);
    let holder: number | null = null;
    let lastT = 0;
    for (const e of events) {
      expect(e.t, `${e.op} by ${e.pid} at ${e.t} comes before the lock's previous event at ${lastT}`).toBeGreaterThanOrEqual(lastT);
      lastT = e.t;
      if (e.op === 'acquire') {
        expect(holder, `${e.pid} acquired while ${holder} held the lock`).toBeNull();
        holder = e.pid;
      } else if (e.op === 'release') {
        expect(holder, `${e.pid} released a lock it did not hold`).toBe(e.pid);
        holder = null;
      }
    }
    const workers = new Set(acquires.map((e) => e.pid));
    expect(workers.size, 'all three took turns').toBe(3);
  });

  it('a lock lent to another process but free there is acquired by a non-blocking acquire, as a free Python Lock is', async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process, Queue } from 'procscope';
export async function borrower(lock: Lock, used: Queue<string>, finish: Queue<string>): Promise<void> {
  await lock.acquire();
  lock.release();
  await used.put('used');
  await finish.get();
}
export default async function main(): Promise<void> {
  const lock = new Lock();
  const used = new Queue<string>();
  const finish = new Queue<string>();
  const p = new Process({ target: borrower, args: [lock, used, finish] });
  p.start();
  await used.get();
  console.log('non-blocking acquire of a free lock', await lock.acquire(false));
  lock.release();
  await finish.put('go');
  await p.join();
}
`),
    );
    expect(r.stdout(r.root)).toEqual(['non-blocking acquire of a free lock true']);
  });
});
