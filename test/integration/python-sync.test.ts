import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent, QueueEvent, RunEvent, SharedEvent } from '../../src-main/api.ts';
import { scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';
import { children, ofType, runPy, runUntilDeadlock } from '../helpers/python.ts';
import { expectNotifiedOnce, goPath, letGo, locksOf, sorted, syncsOf } from '../helpers/sync-log.ts';

// Python mode, the synchronisation objects beyond Lock and Queue (Semaphore, BoundedSemaphore,
// Event, Condition, Barrier), a get blocked on an empty queue, and a manager's shared objects,
// in the real interpreter with both start methods. A program that must be blocked before it is
// let go waits for a "go" file that the test writes once the log shows the block: no sleeps.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A path for a go file, and Python that waits for it (`go()`). */
function goFile(): { file: string; python: string } {
  const file = goPath();
  return {
    file,
    python: ['import os, time', 'def go():', `    while not os.path.exists(${JSON.stringify(file)}):`, '        time.sleep(0.01)', ''].join('\n'),
  };
}

/** Runs `source`; once `block` is seen in the events, writes the go file. */
function runLettingGo(source: string, name: string, go: string, block: (e: RunEvent) => boolean): Promise<RunResult> {
  return runPy(scenarioFile(source, name), { during: letGo(go, block) });
}

describe.each(['fork', 'spawn'])('python mode, start method %s', (method) => {
  it('Semaphore(2): holders and waiters at each step, never more than two holders; a third waits until one leaves', async () => {
    const g = goFile();
    const source = [
      'import multiprocessing as mp',
      g.python,
      'def worker(s, n):',
      '    with s:',
      '        if n < 2:',
      '            go()',
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    s = ctx.Semaphore(2)',
      '    ps = [ctx.Process(target=worker, args=(s, n)) for n in range(2)]',
      '    for p in ps: p.start()',
      // The third starts once both hold (the log says so): it must wait.
      "    while s.get_value() > 0: time.sleep(0.01)",
      '    ps.append(ctx.Process(target=worker, args=(s, 2)))',
      '    ps[-1].start()',
      '    for p in ps: p.join()',
      "    print('value', s.get_value())",
      '',
    ].join('\n');
    const r = await runLettingGo(source, `sem_${method}.py`, g.file, (e) => e.type === 'lock' && e.op === 'request' && e.waiters.length === 1);
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['value 2']);
    const ev = locksOf(r, 'semaphore');
    expect(ev[0]).toMatchObject({ op: 'create', kind: 'semaphore', capacity: 2, holders: [], value: 2 });
    const kids = children(r).map((p) => p.pid);
    const [first, second, third] = kids;
    for (const e of ev) {
      expect(e.holders?.length, `${e.op}: at most two holders`).toBeLessThanOrEqual(2);
      expect(e.value, `${e.op}: the value is what the holders left`).toBe(2 - (e.holders?.length ?? 0));
    }
    const acquires = ev.filter((e) => e.op === 'acquire');
    expect(acquires).toHaveLength(3);
    expect(sorted(acquires.slice(0, 2).map((e) => e.pid))).toEqual(sorted([first, second]));
    expect(acquires[2].pid).toBe(third);
    expect(sorted(acquires[1].holders ?? [])).toEqual(sorted([first, second]));
    // The third asked while both held it, and waited.
    const waiting = ev.find((e) => e.op === 'request' && e.pid === third);
    expect(waiting).toMatchObject({ waiters: [third], value: 0 });
    expect(sorted(waiting?.holders ?? [])).toEqual(sorted([first, second]));
    // It took it only after a release.
    const thirdIn = ev.indexOf(acquires[2]);
    expect(ev.slice(ev.indexOf(waiting as LockEvent), thirdIn).some((e) => e.op === 'release')).toBe(true);
    expect(acquires[2].waiters).toEqual([]);
    expect(ev.at(-1)).toMatchObject({ op: 'release', holders: [], value: 2 });
  });

  it("BoundedSemaphore: a release past its bound raises Python's ValueError, logged as an error", async () => {
    const source = [
      'import multiprocessing as mp',
      '',
      'def twice(b):',
      '    b.acquire(); b.release()',
      '    try:',
      '        b.release()',
      '    except ValueError as e:',
      "        print('ValueError:', e)",
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    b = ctx.BoundedSemaphore(1)',
      '    p = ctx.Process(target=twice, args=(b,))',
      '    p.start(); p.join()',
      '',
    ].join('\n');
    const r = await runPy(scenarioFile(source, `bounded_${method}.py`));
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['ValueError: semaphore or lock released too many times']);
    const ev = locksOf(r, 'bounded-semaphore');
    expect(ev.map((e) => e.op)).toEqual(['create', 'request', 'acquire', 'release', 'error']);
    expect(ev.at(-1)).toMatchObject({ pid: child.pid, holders: [], value: 1, error: 'ValueError: semaphore or lock released too many times' });
  });

  it('Event: two processes wait; set() releases both; a wait(timeout) on another runs out', async () => {
    const g = goFile();
    const source = [
      'import multiprocessing as mp',
      g.python,
      'def runner(e):',
      "    print('went', e.wait())",
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    e = ctx.Event()',
      '    ps = [ctx.Process(target=runner, args=(e,)) for _ in range(2)]',
      '    for p in ps: p.start()',
      '    go()',
      '    e.set()',
      '    for p in ps: p.join()',
      "    print('timed', e.is_set(), ctx.Event().wait(0.01))",
      '',
    ].join('\n');
    const r = await runLettingGo(source, `event_${method}.py`, g.file, (e) => e.type === 'sync' && e.op === 'wait' && e.waiters.length === 2);
    expect(r.stdout(r.root)).toEqual(['timed True False']);
    const kids = sorted(children(r).map((p) => p.pid));
    const events = syncsOf(r, 'event');
    const ev = events.filter((e) => e.sync === events[0].sync);
    const other = events.filter((e) => e.sync !== events[0].sync);
    expect(ev[0]).toMatchObject({ op: 'create', set: false, waiters: [] });
    const set = ev.find((e) => e.op === 'set');
    expect(set).toMatchObject({ pid: r.root, set: true, waiters: [] });
    expect(sorted(set?.released ?? [])).toEqual(kids);
    // set() lets them go (its `released`): their waits end there, with no line of their own.
    expect(ev.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'set']);
    expect(sorted(ev.slice(1, 3).map((e) => e.pid))).toEqual(kids);
    // The second Event's wait(0.01) ran out.
    expect(other.map((e) => e.op)).toEqual(['create', 'wait', 'timeout']);
  });

  it('Condition: wait() releases its lock (logged), notify() wakes the waiter, by the notifier', async () => {
    const source = [
      'import multiprocessing as mp',
      '',
      'def waiter(c, ready):',
      '    with c:',
      "        ready.put('in')",
      '        c.wait()',
      "        print('notified')",
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    c, ready = ctx.Condition(), ctx.Queue()',
      '    p = ctx.Process(target=waiter, args=(c, ready))',
      '    p.start()',
      '    ready.get()',
      // The waiter holds c's lock until its wait() lets it go: this notify finds it waiting.
      '    with c:',
      '        c.notify()',
      '    p.join()',
      '',
    ].join('\n');
    const r = await runPy(scenarioFile(source, `condition_${method}.py`));
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['notified']);
    expectNotifiedOnce(r, syncsOf(r, 'condition'), child.pid);
  });

  it('Barrier(3): parties arrive one by one; the last releases the generation', async () => {
    const source = [
      'import multiprocessing as mp',
      '',
      'def party(b):',
      '    b.wait()',
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    b = ctx.Barrier(3)',
      '    ps = [ctx.Process(target=party, args=(b,)) for _ in range(2)]',
      '    for p in ps: p.start()',
      '    b.wait()',
      '    for p in ps: p.join()',
      "    print('broken', b.broken)",
      '',
    ].join('\n');
    const r = await runPy(scenarioFile(source, `barrier_${method}.py`));
    expect(r.stdout(r.root)).toEqual(['broken False']);
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
    const source = [
      'import multiprocessing as mp',
      g.python,
      'def getter(q):',
      "    print('got', q.get())",
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    q = ctx.Queue()',
      '    p = ctx.Process(target=getter, args=(q,))',
      '    p.start()',
      '    go()',
      "    q.put('x')",
      '    p.join()',
      '',
    ].join('\n');
    const r = await runLettingGo(source, `queue_wait_${method}.py`, g.file, (e) => e.type === 'queue' && e.op === 'wait');
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['got x']);
    const q = ofType(r, 'queue') as QueueEvent[];
    expect(q.map((e) => `${e.op}:${e.pid === r.root ? 'main' : 'child'}`)).toEqual(['create:main', 'wait:child', 'put:main', 'woken:child', 'get:child']);
    expect(q[1]).toMatchObject({ side: 'get', getters: [child.pid], putters: [], depth: 0 });
    expect(q[3]).toMatchObject({ side: 'get', getters: [], putters: [] });
  });

  it('two Semaphores taken in opposite order: a deadlock of the two holders is reported', async () => {
    const source = [
      'import multiprocessing as mp',
      '',
      'def take(first, second, both):',
      '    first.acquire()',
      '    both.wait()',
      '    second.acquire()',
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    a, b, both = ctx.Semaphore(1), ctx.Semaphore(1), ctx.Barrier(2)',
      '    ps = [ctx.Process(target=take, args=(a, b, both)), ctx.Process(target=take, args=(b, a, both))]',
      '    for p in ps: p.start()',
      '    for p in ps: p.join()',
      '',
    ].join('\n');
    const { r, cycle } = await runUntilDeadlock(scenarioFile(source, `sem_deadlock_${method}.py`));
    const kids = sorted(children(r).map((p) => p.pid));
    expect(sorted(cycle.map((e) => e.pid))).toEqual(kids);
    expect(sorted(cycle.map((e) => e.holder))).toEqual(kids);
    const sems = new Set(ofType(r, 'lock').filter((e) => e.kind === 'semaphore').map((e) => e.lock));
    expect(new Set(cycle.map((e) => e.lock))).toEqual(sems);
  });

  it("a manager's dict and list: reads and writes counted per process", async () => {
    const source = [
      'import multiprocessing as mp',
      '',
      'def user(d, l):',
      '    for i in range(3):',
      '        d[i] = i',
      '    print(d.get(0), d[2], len(l))',
      '    l.append(1)',
      '',
      "if __name__ == '__main__':",
      `    ctx = mp.get_context('${method}')`,
      '    with ctx.Manager() as m:',
      '        d, l = m.dict(), m.list()',
      '        p = ctx.Process(target=user, args=(d, l))',
      '        p.start(); p.join()',
      "        d['main'] = 1",
      "        print(len(d), l[0])",
      '',
    ].join('\n');
    const r = await runPy(scenarioFile(source, `manager_dict_${method}.py`));
    expect(r.stdout(r.root)).toEqual(['4 1']);
    const user = children(r).find((p) => p.name !== 'SyncManager-1');
    if (!user) throw new Error('no user process');
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
    // No call lines unless the run asks for them.
    expect(shared.filter((e) => e.op === 'call')).toEqual([]);
  });
});
