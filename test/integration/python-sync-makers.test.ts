import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessEvent, SyncEvent } from '../../src-main/api.ts';
import { scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';
import { ofType, runPy, runUntilDeadlock } from '../helpers/python.ts';
import { expectAbortThenReset, expectNotifiedOnce, expectNotifyTwoThenAll, expectWaitFor, goPath, letGo, locksOf, sorted, syncsOf } from '../helpers/sync-log.ts';

// Python mode: Condition (wait_for, notify(n), notify_all), Event and Barrier (abort, reset),
// made by multiprocessing and by a manager (whose objects live in its server process and are
// reported by the proxies), and a manager's Semaphore and BoundedSemaphore, in the real
// interpreter with both start methods. A program waits for what it needs (a queue, a barrier's
// n_waiting), never for a fixed time.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/**
 * A program whose `main(ctx, mk)` makes its objects with `mk`: the context itself, or a
 * manager started from it (shut down at the end).
 */
function program(body: string, method: string, maker: string, go?: string): string {
  return [
    'import multiprocessing as mp',
    'import os',
    'import threading',
    'import time',
    '',
    // go(): waits for the go file the test writes once the log shows the block.
    ...(go ? ['def go():', `    while not os.path.exists(${JSON.stringify(go)}):`, '        time.sleep(0.01)', ''] : []),
    body,
    '',
    "if __name__ == '__main__':",
    `    ctx = mp.get_context('${method}')`,
    `    mk = ctx.Manager() if '${maker}' == 'manager' else ctx`,
    '    main(ctx, mk)',
    '    if mk is not ctx:',
    '        mk.shutdown()',
    '',
  ].join('\n');
}

/** The processes of the run other than the main and a manager's server, in start order. */
const users = (r: RunResult): ProcessEvent[] => r.processes().filter((p) => p.pid !== r.root && !p.name.startsWith('SyncManager'));

/** Every sync line of the first object of `kind`. */
function firstOf(r: RunResult, kind: string): SyncEvent[] {
  const all = syncsOf(r, kind);
  if (all.length === 0) throw new Error(`no ${kind} in the log`);
  return all.filter((e) => e.sync === all[0].sync);
}

describe.each(['fork', 'spawn'])('python mode, start method %s', (method) => {
  describe.each(['mp', 'manager'])('made by %s', (maker) => {
    const idPrefix = maker === 'manager' ? /^condition-mgr-/ : /^condition-\d+-/;

    it('Condition.wait_for: a predicate true at once waits not; one made true by a notify wakes by the notifier; one never true times out', async () => {
      const body = [
        'def waiter(c, flag, ready):',
        '    with c:',
        "        print('at once', c.wait_for(lambda: True))",
        '        ready.put(1)',
        "        print('notified', c.wait_for(lambda: flag.value == 1))",
        // Long enough that its first wait begins before it runs out on a loaded machine (0.05 s did not once).
        "        print('timed', c.wait_for(lambda: False, timeout=0.3))",
        '',
        'def main(ctx, mk):',
        "    c, flag, ready = mk.Condition(), ctx.Value('i', 0, lock=False), ctx.Queue()",
        '    p = ctx.Process(target=waiter, args=(c, flag, ready))',
        '    p.start()',
        '    ready.get()',
        // The waiter holds c until its wait_for waits: this notify finds it waiting.
        '    with c:',
        '        flag.value = 1',
        '        c.notify()',
        '    p.join()',
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, maker), `wait_for_${maker}_${method}.py`));
      expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
      const [child] = users(r);
      expect(r.stdout(child.pid)).toEqual(['at once True', 'notified True', 'timed False']);
      const cond = firstOf(r, 'condition');
      expect(cond[0].sync).toMatch(idPrefix);
      expectWaitFor(r, cond, child.pid);
    });

    it('notify(2) wakes exactly two of three waiters and notify_all the last, each woken by the notifier', async () => {
      const body = [
        'def waiter(c, ready, done, i):',
        '    with c:',
        '        ready.put(i)',
        '        c.wait()',
        '        done.put(i)',
        "    print('woken', i)",
        '',
        'def main(ctx, mk):',
        '    c, ready, done = mk.Condition(), ctx.Queue(), ctx.Queue()',
        '    ps = [ctx.Process(target=waiter, args=(c, ready, done, i)) for i in range(3)]',
        '    for p in ps: p.start()',
        '    for _ in ps: ready.get()',
        // Each waiter held c from its put to its wait: once the main holds c, all three wait.
        '    with c:',
        '        c.notify(2)',
        '    for _ in range(2): done.get()',
        '    with c:',
        '        c.notify_all()',
        '    done.get()',
        '    for p in ps: p.join()',
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, maker), `notify_n_${maker}_${method}.py`));
      expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
      expectNotifyTwoThenAll(r, firstOf(r, 'condition'), users(r).map((p) => p.pid));
    });

    it('Barrier: abort() lets its waiters go with BrokenBarrierError and breaks it; reset() lets them go and mends it', async () => {
      const body = [
        'def party(b):',
        '    try:',
        '        b.wait()',
        '    except threading.BrokenBarrierError:',
        "        print('broken')",
        '',
        'def two_wait(ctx, b):',
        '    ps = [ctx.Process(target=party, args=(b,)) for _ in range(2)]',
        '    for p in ps: p.start()',
        '    while b.n_waiting < 2: time.sleep(0.01)',
        '    return ps',
        '',
        'def main(ctx, mk):',
        '    b = mk.Barrier(3)',
        '    ps = two_wait(ctx, b)',
        '    b.abort()',
        '    for p in ps: p.join()',
        '    try:',
        '        b.wait()',
        '    except threading.BrokenBarrierError:',
        "        print('refused', b.broken)",
        '    b.reset()',
        "    print('mended', b.broken)",
        '    ps = two_wait(ctx, b)',
        '    b.reset()',
        '    for p in ps: p.join()',
        "    print('after', b.broken)",
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, maker), `barrier_abort_${maker}_${method}.py`));
      expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
      expect(r.stdout(r.root)).toEqual(['refused True', 'mended False', 'after False']);
      const kids = users(r).map((p) => p.pid);
      for (const k of kids) expect(r.stdout(k)).toEqual(['broken']);
      const bar = firstOf(r, 'barrier');
      expectAbortThenReset(r, bar, kids);
      expect(bar.some((e) => e.op === 'release'), 'no generation completed').toBe(false);
    });
  });

  describe("a manager's synchronisation objects", () => {
    it('Event: set() releases the waiting processes; a wait(timeout) runs out; ids from the token', async () => {
      const body = [
        'def runner(e, ready):',
        '    ready.put(1)',
        "    print('went', e.wait())",
        '',
        'def main(ctx, mk):',
        '    e, ready = mk.Event(), ctx.Queue()',
        '    ps = [ctx.Process(target=runner, args=(e, ready)) for _ in range(2)]',
        '    for p in ps: p.start()',
        '    for _ in ps: ready.get()',
        // Both wait in the server (their wait is reported before the call): the set finds them.
        '    go()',
        '    e.set()',
        '    for p in ps: p.join()',
        "    print('timed', e.is_set(), mk.Event().wait(0.01))",
      ].join('\n');
      const go = goPath();
      const r = await runPy(scenarioFile(program(body, method, 'manager', go), `mgr_event_${method}.py`), {
        during: letGo(go, (e) => e.type === 'sync' && e.op === 'wait' && e.waiters.length === 2),
      });
      expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
      expect(r.stdout(r.root)).toEqual(['timed True False']);
      const kids = sorted(users(r).map((p) => p.pid));
      for (const k of kids) expect(r.stdout(k)).toEqual(['went True']);
      const events = syncsOf(r, 'event');
      expect(events.every((e) => e.sync.startsWith('event-mgr-'))).toBe(true);
      const ev = events.filter((e) => e.sync === events[0].sync);
      expect(ev.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'set']);
      expect(ev.at(-1)).toMatchObject({ pid: r.root, set: true, waiters: [] });
      expect(sorted(ev.at(-1)?.released ?? [])).toEqual(kids);
      expect(events.filter((e) => e.sync !== ev[0].sync).map((e) => e.op)).toEqual(['create', 'wait', 'timeout']);
      const server = r.processes().find((p) => p.name.startsWith('SyncManager'));
      expect(events.some((e) => e.pid === server?.pid), 'the server reports nothing').toBe(false);
    });

    it('Condition: wait() releases its lock (logged), notify() wakes the waiter, by the notifier', async () => {
      const body = [
        'def waiter(c, ready):',
        '    with c:',
        "        ready.put('in')",
        '        c.wait()',
        "        print('notified')",
        '',
        'def main(ctx, mk):',
        '    c, ready = mk.Condition(), ctx.Queue()',
        '    p = ctx.Process(target=waiter, args=(c, ready))',
        '    p.start()',
        '    ready.get()',
        '    with c:',
        '        c.notify()',
        '    p.join()',
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, 'manager'), `mgr_condition_${method}.py`));
      const [child] = users(r);
      expect(r.stdout(child.pid)).toEqual(['notified']);
      const cond = syncsOf(r, 'condition');
      expectNotifiedOnce(r, cond, child.pid);
      expect(cond[0].lock).toMatch(/^lock-mgr-/);
      expect(ofType(r, 'lock').find((e) => e.lock === cond[0].lock)).toMatchObject({ op: 'create', pid: r.root });
    });

    it('Barrier(3): parties arrive one by one; the last releases the generation', async () => {
      const body = [
        'def party(b):',
        '    b.wait()',
        '',
        'def main(ctx, mk):',
        '    b = mk.Barrier(3)',
        '    ps = [ctx.Process(target=party, args=(b,)) for _ in range(2)]',
        '    for p in ps: p.start()',
        '    b.wait()',
        '    for p in ps: p.join()',
        "    print('broken', b.broken)",
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, 'manager'), `mgr_barrier_${method}.py`));
      expect(r.stdout(r.root)).toEqual(['broken False']);
      const all = sorted([r.root, ...users(r).map((p) => p.pid)]);
      const bar = syncsOf(r, 'barrier');
      expect(bar.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'wait', 'release']);
      expect(bar[0].sync).toMatch(/^barrier-mgr-/);
      expect(bar.slice(1, 4).map((e) => e.waiters.length)).toEqual([1, 2, 3]);
      expect(bar[4]).toMatchObject({ parties: 3, generation: 1, broken: false, waiters: [] });
      expect(sorted(bar[4].released ?? [])).toEqual(all);
    });

    it('Semaphore(2): two holders at most, the third waits for a release; holders and value at each step', async () => {
      const body = [
        'def worker(s, held, gate):',
        '    with s:',
        '        held.put(1)',
        '        gate.get()',
        '',
        'def main(ctx, mk):',
        '    s, held, gate = mk.Semaphore(2), ctx.Queue(), ctx.Queue()',
        '    ps = [ctx.Process(target=worker, args=(s, held, gate)) for _ in range(2)]',
        '    for p in ps: p.start()',
        '    for _ in ps: held.get()',
        // Both hold it: the third must wait until one of them is let go.
        '    ps.append(ctx.Process(target=worker, args=(s, held, gate)))',
        '    ps[-1].start()',
        '    go()',
        '    gate.put(1)',
        '    held.get()',
        '    gate.put(1); gate.put(1)',
        '    for p in ps: p.join()',
        "    print('free', s.acquire(False), s.acquire(False), s.acquire(False))",
        '    s.release(); s.release()',
      ].join('\n');
      const go = goPath();
      const r = await runPy(scenarioFile(program(body, method, 'manager', go), `mgr_sem_${method}.py`), {
        // A request while both hold it (an uncontended one is a request too, then an acquire).
        during: letGo(go, (e) => e.type === 'lock' && e.op === 'request' && e.waiters.length === 1 && e.value === 0),
      });
      expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
      expect(r.stdout(r.root)).toEqual(['free True True False']);
      const ev = locksOf(r, 'semaphore');
      expect(ev[0]).toMatchObject({ op: 'create', kind: 'semaphore', capacity: 2, holders: [], value: 2, pid: r.root });
      expect(ev[0].lock).toMatch(/^semaphore-mgr-/);
      const [first, second, third] = users(r).map((p) => p.pid);
      for (const e of ev) {
        expect(e.holders?.length, `${e.op}: at most two holders`).toBeLessThanOrEqual(2);
        expect(e.value, `${e.op}: the value is what the holders left`).toBe(2 - (e.holders?.length ?? 0));
      }
      const acquires = ev.filter((e) => e.op === 'acquire' && e.pid !== r.root);
      expect(acquires).toHaveLength(3);
      expect(sorted(acquires.slice(0, 2).map((e) => e.pid))).toEqual(sorted([first, second]));
      expect(acquires[2].pid).toBe(third);
      const waiting = ev.find((e) => e.op === 'request' && e.pid === third);
      expect(waiting).toMatchObject({ waiters: [third], value: 0 });
      expect(sorted(waiting?.holders ?? [])).toEqual(sorted([first, second]));
      expect(ev.slice(ev.indexOf(waiting as (typeof ev)[number]), ev.indexOf(acquires[2])).some((e) => e.op === 'release')).toBe(true);
      // The main's three tries at the end: two taken, the third refused.
      const mainOps = ev.filter((e) => e.pid === r.root && e.op !== 'create').map((e) => e.op);
      expect(mainOps).toEqual(['request', 'acquire', 'request', 'acquire', 'request', 'timeout', 'release', 'release']);
    });

    it("BoundedSemaphore: a release past its bound raises threading's ValueError, logged as an error", async () => {
      const body = [
        'def twice(b):',
        '    b.acquire(); b.release()',
        '    try:',
        '        b.release()',
        '    except ValueError as e:',
        "        print('ValueError:', e)",
        '',
        'def main(ctx, mk):',
        '    b = mk.BoundedSemaphore(1)',
        '    p = ctx.Process(target=twice, args=(b,))',
        '    p.start(); p.join()',
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, 'manager'), `mgr_bounded_${method}.py`));
      const [child] = users(r);
      expect(r.stdout(child.pid)).toEqual(['ValueError: Semaphore released too many times']);
      const ev = locksOf(r, 'bounded-semaphore');
      expect(ev.map((e) => e.op)).toEqual(['create', 'request', 'acquire', 'release', 'error']);
      expect(ev.at(-1)).toMatchObject({ pid: child.pid, holders: [], value: 1, error: 'ValueError: Semaphore released too many times' });
    });

    it('two Semaphores taken in opposite order: a deadlock of the two holders is reported', async () => {
      const body = [
        'def take(first, second, both):',
        '    first.acquire()',
        '    both.wait()',
        '    second.acquire()',
        '',
        'def main(ctx, mk):',
        '    a, b, both = mk.Semaphore(1), mk.Semaphore(1), ctx.Barrier(2)',
        '    ps = [ctx.Process(target=take, args=(a, b, both)), ctx.Process(target=take, args=(b, a, both))]',
        '    for p in ps: p.start()',
        '    for p in ps: p.join()',
      ].join('\n');
      const { r, cycle } = await runUntilDeadlock(scenarioFile(program(body, method, 'manager'), `mgr_sem_deadlock_${method}.py`));
      const kids = sorted(users(r).map((p) => p.pid));
      expect(sorted(cycle.map((e) => e.pid))).toEqual(kids);
      expect(sorted(cycle.map((e) => e.holder))).toEqual(kids);
      const sems = new Set(ofType(r, 'lock').filter((e) => e.kind === 'semaphore').map((e) => e.lock));
      expect(sems.size).toBe(2);
      expect(new Set(cycle.map((e) => e.lock))).toEqual(sems);
    });

    it('a timed acquire of a held manager Semaphore is never a deadlock', async () => {
      const body = [
        'def main(ctx, mk):',
        '    s = mk.Semaphore(1)',
        '    s.acquire()',
        "    print('timed', s.acquire(True, 0.05))",
        '    s.release()',
      ].join('\n');
      const r = await runPy(scenarioFile(program(body, method, 'manager'), `mgr_sem_timed_${method}.py`));
      expect(r.stdout(r.root)).toEqual(['timed False']);
      expect(ofType(r, 'deadlock')).toEqual([]);
      expect(locksOf(r, 'semaphore').map((e) => e.op)).toEqual(['create', 'request', 'acquire', 'request', 'timeout', 'release']);
    });
  });
});
