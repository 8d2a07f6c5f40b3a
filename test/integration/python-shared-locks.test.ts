import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent } from '../../src-main/api.ts';
import { isAlive } from '../../src-main/core/process-group.ts';
import { scenarioFile, tmpRoot } from '../helpers/run.ts';
import { children, expectOneHolderAtATime, expectTwoWayDeadlock, holdsOf, ofType, runPy, runUntilDeadlock } from '../helpers/python.ts';

// Locks that are not a bare multiprocessing.Lock/RLock but guard shared state all the same: the
// lock inside a synchronized Value or Array (`with v.get_lock(): v.value += 1`, the classic fix
// of a race), and a manager's Lock/RLock (a threading lock in the manager's server process,
// reached through proxies). Each is one lock in the log whatever process uses it, with its
// holder and waiters, and takes part in deadlock detection.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const locksNamed = (r: Awaited<ReturnType<typeof runPy>>, prefix: string): string[] => [
  ...new Set(ofType(r, 'lock').filter((e) => e.lock.startsWith(prefix)).map((e) => e.lock)),
];

const count = (events: LockEvent[], lock: string, op: string, pids?: Set<number>) =>
  events.filter((e) => e.lock === lock && e.op === op && (!pids || pids.has(e.pid))).length;

describe('python mode: the lock of a synchronized Value or Array', () => {
  it.each(['fork', 'spawn'])('start method %s: get_lock() and acquire()/release() are reported; lock=False has none', async (method) => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import time',
        '',
        'def add(v, a, raw, start):',
        '    start.wait()  # all three at once: they contend for the lock whatever the machine does',
        '    for _ in range(20):',
        '        with v.get_lock():',
        '            v.value += 1  # the getter and setter take the same RLock again: not reported',
        '            time.sleep(0.001)',
        '    a.acquire()',
        '    a[0] += 1',
        '    a.release()',
        '    raw.value += 1',
        '',
        "if __name__ == '__main__':",
        `    mp.set_start_method('${method}')`,
        "    v = mp.Value('i', 0)",
        "    a = mp.Array('i', 3)",
        "    raw = mp.Value('i', 0, lock=False)",
        "    mine = mp.Lock()",
        "    guarded = mp.Value('d', 0.0, lock=mine)",
        '    start = mp.Barrier(3)  # its own locks are multiprocessing\'s: not reported',
        '    ps = [mp.Process(target=add, args=(v, a, raw, start)) for _ in range(3)]',
        '    for p in ps: p.start()',
        '    for p in ps: p.join()',
        '    print(v.value, a[0])',
        '    with guarded.get_lock():',
        '        pass',
        '',
      ].join('\n'),
      `shared_value_${method}.py`,
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    expect(ofType(r, 'warning')).toEqual([]);
    expect(r.stdout(r.root)).toEqual(['60 3']);
    const workers = new Set(children(r).map((p) => p.pid));
    expect(workers.size).toBe(3);

    const locks = ofType(r, 'lock');
    const [value] = locksNamed(r, 'value-lock-');
    const [array] = locksNamed(r, 'array-lock-');
    // One lock each (the same id in every process), and the user's own Lock passed as lock= is
    // reported once, as the Lock it is; lock=False makes no lock at all.
    expect(new Set(locks.map((e) => e.lock.replace(/-\d+-\d+$/, ''))).size).toBe(3);
    expect(locksNamed(r, 'value-lock-')).toHaveLength(1);
    expect(locksNamed(r, 'array-lock-')).toHaveLength(1);
    const [own] = locksNamed(r, 'lock-');
    expect(locksNamed(r, 'lock-')).toHaveLength(1);
    expect(count(locks, own, 'acquire')).toBe(1);

    // Only the outermost acquire of the RLock counts: 20 per worker.
    expect(count(locks, value, 'acquire', workers)).toBe(60);
    expect(count(locks, value, 'release', workers)).toBe(60);
    expect(count(locks, array, 'acquire', workers)).toBe(3);
    for (const lock of [value, array]) {
      const holds = holdsOf(r, lock);
      expect(holds.every((h) => h.to !== Infinity), 'every hold ends').toBe(true);
      expectOneHolderAtATime(holds);
    }
    // Three workers started together and a 1 ms hold: somebody waited.
    expect(count(locks, value, 'request', workers)).toBe(60);
    expect(locks.some((e) => e.lock === value && e.waiters.length > 0)).toBe(true);
  });
});

describe('python mode: manager locks', () => {
  it.each(['fork', 'spawn'])('start method %s: Manager().Lock() and .RLock() are one lock each, held by one process at a time', async (method) => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import time',
        '',
        'def work(lock, rlock):',
        '    for _ in range(3):',
        '        with lock:',
        '            time.sleep(0.005)',
        '    with rlock:',
        '        with rlock:  # re-entered by its holder: one hold',
        '            pass',
        '',
        "if __name__ == '__main__':",
        `    ctx = mp.get_context('${method}')`,
        '    with ctx.Manager() as m:',
        '        lock, rlock = m.Lock(), m.RLock()',
        "        ps = [ctx.Process(target=work, args=(lock, rlock), name='w%d' % i) for i in range(3)]",
        '        for p in ps: p.start()',
        '        for p in ps: p.join()',
        '        print(lock.acquire(False), lock.acquire(False))',
        '        lock.release()',
        '',
      ].join('\n'),
      `manager_lock_${method}.py`,
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    expect(ofType(r, 'warning')).toEqual([]);
    expect(r.stdout(r.root)).toEqual(['True False']);
    const workers = new Set(children(r).filter((p) => /^w\d$/.test(p.name)).map((p) => p.pid));
    expect(workers.size).toBe(3);
    const server = children(r).find((p) => p.name === 'SyncManager-1');
    expect(server).toBeDefined();

    const locks = ofType(r, 'lock');
    const ids = locksNamed(r, 'lock-mgr-');
    expect(ids).toHaveLength(2);
    expect(new Set(locks.map((e) => e.lock)).size, 'no other lock').toBe(2);
    expect(locks.some((e) => e.pid === server?.pid), 'the server reports nothing').toBe(false);
    for (const id of ids) expect(count(locks, id, 'create'), 'created once').toBe(1);
    const [lock, rlock] = ids.sort((a, b) => count(locks, b, 'acquire') - count(locks, a, 'acquire'));

    expect(count(locks, lock, 'acquire', workers)).toBe(9);
    expect(count(locks, rlock, 'acquire', workers)).toBe(3);
    expect(count(locks, rlock, 'release', workers)).toBe(3);
    // Main: acquire(False) took it, the second one was refused, then it let it go.
    const main = locks.filter((e) => e.lock === lock && e.pid === r.root && e.op !== 'create').map((e) => e.op);
    expect(main).toEqual(['request', 'acquire', 'request', 'timeout', 'release']);
    for (const id of ids) {
      const holds = holdsOf(r, id);
      expect(holds.every((h) => h.to !== Infinity)).toBe(true);
      expectOneHolderAtATime(holds);
    }
    expect(r.summary.locks.find((l) => l.lock === lock)).toMatchObject({ holder: null });
  });

  it('two manager locks taken in opposite order: a deadlock is reported', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def work(first, second, barrier):',
        '    with first:',
        '        barrier.wait()',
        '        with second:',
        "            print('never')",
        '',
        "if __name__ == '__main__':",
        '    with mp.Manager() as m:',
        '        a, b = m.Lock(), m.Lock()',
        '        barrier = mp.Barrier(2)',
        '        ps = [mp.Process(target=work, args=(a, b, barrier)), mp.Process(target=work, args=(b, a, barrier))]',
        '        for p in ps: p.start()',
        '        for p in ps: p.join()',
        '',
      ].join('\n'),
      'manager_deadlock.py',
    );
    const { r, cycle } = await runUntilDeadlock(file);
    expect(r.summary.end.reason).toBe('stopped');
    expectTwoWayDeadlock(cycle, children(r).filter((p) => p.name !== 'SyncManager-1').map((p) => p.pid));
    expect(cycle.every((e) => e.lock.startsWith('lock-mgr-'))).toBe(true);
    for (const p of r.processes()) expect(isAlive(p.pid)).toBe(false);
  });
});
