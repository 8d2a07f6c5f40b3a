import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeadlockEvent, RunEvent } from '../../src-main/api.ts';
import { isAlive } from '../../src-main/core/process-group.ts';
import type { Session } from '../../src-main/core/session.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { children, runPy } from '../helpers/python.ts';
import { run as runScenario, scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';

// Deadlocks beyond two processes, and a process that takes a Lock it already holds, in both
// runtimes, against what Python itself does (a Lock is not re-entrant: its holder blocks forever).

const run = leavingNoSurvivors(runScenario);
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const isDeadlock = (e: RunEvent): e is DeadlockEvent => e.type === 'deadlock';

/** Three processes in a ring: each holds its lock and waits for the next one's. */
function expectRing(cycle: DeadlockEvent['cycle'], pids: number[]): void {
  expect(cycle, 'three edges').toHaveLength(3);
  expect(cycle.map((e) => e.pid).sort(), 'every process of the ring waits').toEqual([...pids].sort());
  expect(cycle.map((e) => e.holder).sort(), 'and every one holds what the one before it waits for').toEqual([...pids].sort());
  expect(new Set(cycle.map((e) => e.lock)).size, 'three locks').toBe(3);
  // Each edge's holder is the next edge's waiter: one ring, not two smaller cycles.
  for (let i = 0; i < 3; i++) expect(cycle[i].holder, `edge ${i}`).toBe(cycle[(i + 1) % 3].pid);
}

type During = { during: (session: Session, events: RunEvent[]) => Promise<void> };

/** Runs until procscope reports a deadlock, then stops: the run and that cycle. */
async function untilDeadlocked(r: (opts: During) => Promise<RunResult>): Promise<{ r: RunResult; cycle: DeadlockEvent['cycle'] }> {
  let cycle: DeadlockEvent['cycle'] = [];
  const result = await r({
    during: async (session, events) => {
      cycle = (await waitFor(session, events, isDeadlock)).cycle;
      await session.stop();
    },
  });
  return { r: result, cycle };
}

describe('a deadlock of three processes', () => {
  it('TypeScript: three processes, three locks, one ring', async () => {
    const file = scenarioFile(`
import { Lock, Process, Queue } from 'procscope';

export async function ring(mine: Lock, next: Lock, ready: Queue<number>, go: Queue<number>): Promise<void> {
  await mine.acquire();
  await ready.put(1);
  await go.get();
  await next.acquire(); // held by the next process of the ring, which waits too: never returns
  console.log('unreachable');
}

export default async function main(): Promise<void> {
  const locks = [new Lock(), new Lock(), new Lock()];
  const ready = new Queue<number>();
  const go = new Queue<number>();
  const ps = [0, 1, 2].map((i) => new Process({ target: ring, args: [locks[i], locks[(i + 1) % 3], ready, go] }));
  for (const p of ps) p.start();
  for (let i = 0; i < 3; i++) await ready.get();
  for (let i = 0; i < 3; i++) await go.put(1);
  for (const p of ps) await p.join();
}
`);
    const { r, cycle } = await untilDeadlocked((opts) => run(file, opts));
    expect(r.summary.end.reason).toBe('stopped');
    expectRing(cycle, r.processes().filter((p) => p.pid !== r.root).map((p) => p.pid));
    expect(r.logged.filter(isDeadlock), 'reported once').toHaveLength(1);
    expect(r.stdout()).not.toContain('unreachable');
  });

  it('Python: the same ring of multiprocessing Locks', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def ring(mine, nxt, ready, go):',
        '    mine.acquire()',
        '    ready.release()',
        '    go.wait()',
        '    nxt.acquire()',
        "    print('unreachable')",
        '',
        "if __name__ == '__main__':",
        '    locks = [mp.Lock() for _ in range(3)]',
        '    ready, go = mp.Semaphore(0), mp.Event()',
        '    ps = [mp.Process(target=ring, args=(locks[i], locks[(i + 1) % 3], ready, go)) for i in range(3)]',
        '    for p in ps:',
        '        p.start()',
        '    for _ in range(3):',
        '        ready.acquire()',
        '    go.set()',
        '    for p in ps:',
        '        p.join()',
        '',
      ].join('\n'),
      'ring.py',
    );
    const { r, cycle } = await untilDeadlocked((opts) => runPy(file, opts));
    expect(r.summary.end.reason).toBe('stopped');
    expectRing(cycle, children(r).map((k) => k.pid));
    expect(r.stdout()).not.toContain('unreachable');
  });
});

describe('a process that takes a Lock it already holds', () => {
  // Python 3.11, checked: lock.acquire(timeout=0.2) by its holder returns False after 0.2 s, and
  // lock.acquire() by its holder never returns.

  it('TypeScript: a timed attempt gives false; a blocking one blocks for good (the process does not just end), and procscope reports a deadlock of one process', async () => {
    const file = scenarioFile(`
import { Lock, Process } from 'procscope';

export async function holder(lock: Lock): Promise<void> {
  await lock.acquire();
  console.log('timed', await lock.acquire({ timeout: 0.2 }));
  console.log('non-blocking', await lock.acquire(false));
  console.log('now blocking');
  await lock.acquire();
  console.log('never');
}

export default async function main(): Promise<void> {
  const p = new Process({ target: holder, args: [new Lock()], name: 'holder' });
  p.start();
  await p.join();
  console.log('joined', p.exitcode);
}
`);
    let alive = false;
    let cycle: DeadlockEvent['cycle'] = [];
    const r = await run(file, {
      during: async (session, events) => {
        const seen = await waitFor(session, events, (e) => isDeadlock(e) || e.type === 'end');
        cycle = isDeadlock(seen) ? seen.cycle : [];
        const p = session.processes().find((x) => x.name === 'holder');
        alive = p?.pid != null && isAlive(p.pid);
        await session.stop();
      },
    });
    const child = r.processes().find((p) => p.name === 'holder');
    const lock = r.logged.find((e) => e.type === 'lock')?.lock;
    // The timed attempt waited 0.2 s on its own lock: no deadlock (it ends by itself); the blocking one is.
    expect(cycle).toEqual([{ pid: child?.pid, lock, holder: child?.pid }]);
    expect(r.logged.filter(isDeadlock), 'reported once').toHaveLength(1);
    expect(alive, 'still blocked, as a Python process would be').toBe(true);
    expect(r.stdout(child!.pid)).toEqual(['timed false', 'non-blocking false', 'now blocking']);
    expect(r.stdout(r.root), 'main never got past join()').toEqual([]);
    expect(r.summary.end.reason).toBe('stopped');
  });

  it('Python: the holder blocks for good, and procscope reports a deadlock of one process', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def holder(lock):',
        '    lock.acquire()',
        "    print('now blocking', flush=True)",
        '    lock.acquire()',
        "    print('never')",
        '',
        "if __name__ == '__main__':",
        '    lock = mp.Lock()',
        "    print('timed', lock.acquire(), lock.acquire(timeout=0.2), flush=True)",
        '    lock.release()',
        "    p = mp.Process(target=holder, args=(lock,), name='holder')",
        '    p.start()',
        '    p.join()',
        '',
      ].join('\n'),
      'reacquire.py',
    );
    let cycle: DeadlockEvent['cycle'] = [];
    let holderPid = 0;
    const r = await runPy(file, {
      during: async (session, events) => {
        const listed = await waitFor(session, events, (e) => e.type === 'process' && e.name === 'holder');
        holderPid = listed.type === 'process' ? listed.pid : 0;
        cycle = (await waitFor(session, events, (e): e is DeadlockEvent => isDeadlock(e) && e.cycle.some((c) => c.pid === holderPid))).cycle;
        expect(isAlive(holderPid), 'Python blocks in acquire()').toBe(true);
        await session.stop();
      },
    });
    expect(r.stdout(r.root)).toEqual(['timed True False']);
    expect(cycle).toEqual([{ pid: holderPid, lock: expect.stringMatching(/^lock-/), holder: holderPid }]);
    // Main's own acquire(timeout=0.2) of the lock it held waited, and gave up: never a deadlock.
    expect(r.logged.filter((e) => isDeadlock(e) && e.cycle.some((c) => c.pid === r.root))).toEqual([]);
    expect(r.logged.filter((e) => e.type === 'lock' && e.pid === r.root && e.op === 'request' && e.waiters.includes(r.root)).map((e) => e.type === 'lock' && e.timed)).toEqual([true]);
    expect(r.stdout(holderPid)).toEqual(['now blocking']);
  });
});
