import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent, QueueEvent } from '../../src-main/api.ts';
import { isAlive } from '../../src-main/core/process-group.ts';
import { presetsDir, pythonShimDir } from '../../src-main/core/paths.ts';
import { decodeOps } from '../../src-main/protocol.ts';
import { scenarioFile, tmpRoot, waitFor } from '../helpers/run.ts';
import { children, expectTwoWayDeadlock, ofType, python, runPy, runUntilDeadlock } from '../helpers/python.ts';

// Python mode: real `python3` running real multiprocessing programs, instrumented by the shim in
// resources/python. The scripts are never edited; what they do reaches the same events as a
// TypeScript scenario's.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A seed snippet (src-main/presets/python), verbatim, in a fresh folder of its own. */
function seed(name: string): string {
  return scenarioFile(fs.readFileSync(path.join(presetsDir(), 'python', name), 'utf8'), name);
}


describe('python mode', () => {
  it('hello.py: the child is a child of the main process, and each output line carries its pid', async () => {
    const r = await runPy(seed('hello.py'));
    expect(r.summary.end.reason).toBe('finished');
    expect(r.summary.end.exitcode).toBe(0);
    const kids = children(r);
    expect(kids).toHaveLength(1);
    const child = kids[0];
    expect(child.ppid).toBe(r.root);
    expect(child.name).toBe('Process-1');
    expect(r.stdout(r.root)).toEqual([`parent process id：${r.root}`]);
    expect(r.stdout(child.pid)).toEqual(['name: bob', `parent process id: ${r.root}`, `sub process id: ${child.pid}`]);
    expect(r.exits().get(child.pid)).toBe(0);
  });

  it('join-in-loop: five children either way; joined in the loop, each ends before the next starts', async () => {
    const right = await runPy(seed('join-in-loop.py'));
    const kids = children(right);
    expect(kids).toHaveLength(5);
    expect(kids.map((k) => right.stdout(k.pid)).sort()).toEqual([['0'], ['1'], ['2'], ['3'], ['4']]);
    for (const k of kids) expect(right.exits().get(k.pid)).toBe(0);

    const wrong = await runPy(seed('join-in-loop-wrong.py'));
    const seq = wrong.logged.filter((e) => (e.type === 'process' || e.type === 'exit') && e.pid !== wrong.root);
    const wrongKids = children(wrong);
    expect(wrongKids).toHaveLength(5);
    // Strictly one at a time: start, exit, start, exit, ...
    expect(seq.map((e) => e.type)).toEqual(['process', 'exit', 'process', 'exit', 'process', 'exit', 'process', 'exit', 'process', 'exit']);
  });

  it('producer-consumer.py: the consumer prints 1 and 0; the queue ends one item deep', async () => {
    const r = await runPy(seed('producer-consumer.py'));
    expect(r.summary.end.reason).toBe('finished');
    const [consumer] = children(r);
    expect(r.stdout(consumer.pid)).toEqual(['1', '0']);
    const q = ofType(r, 'queue') as QueueEvent[];
    expect(q[0]).toMatchObject({ op: 'create', pid: r.root, depth: 0, maxsize: 0 });
    expect(q.filter((e) => e.op === 'put').every((e) => e.pid === r.root)).toBe(true);
    expect(q.filter((e) => e.op === 'get').every((e) => e.pid === consumer.pid)).toBe(true);
    expect(q.filter((e) => e.op === 'put')).toHaveLength(4);
    expect(q.filter((e) => e.op === 'get')).toHaveLength(3);
    expect(q[q.length - 1].depth).toBe(1);
    // The child got the queue by pickling (or fork) and kept its identity: one queue only.
    expect(new Set(q.map((e) => e.queue)).size).toBe(1);
    expect(r.summary.queues).toEqual([expect.objectContaining({ puts: 4, gets: 3, depth: 1 })]);
    // Events of one queue never go back in time.
    for (let i = 1; i < q.length; i++) expect(q[i].t).toBeGreaterThanOrEqual(q[i - 1].t);
  });

  it('flash-sale.py: three buyers succeed, and no two hold the lock at once', async () => {
    const r = await runPy(seed('flash-sale.py'));
    expect(r.summary.end.reason).toBe('finished');
    const lines = children(r).flatMap((k) => r.stdout(k.pid));
    expect(lines).toHaveLength(10);
    expect(lines.filter((l) => l.includes('成功'))).toHaveLength(3);
    const locks = ofType(r, 'lock') as LockEvent[];
    expect(new Set(locks.map((e) => e.lock)).size).toBe(1);
    let holder: number | null = null;
    let acquisitions = 0;
    for (const e of locks) {
      if (e.op === 'acquire') {
        expect(holder).toBeNull();
        holder = e.pid;
        acquisitions += 1;
      } else if (e.op === 'release') {
        expect(holder).toBe(e.pid);
        holder = null;
      }
      expect(e.holder).toBe(holder);
    }
    expect(acquisitions).toBe(10);
    expect(holder).toBeNull();
  });

  it('two locks taken in opposite order: a deadlock is reported, and stop leaves no process alive', async () => {
    const file = scenarioFile(
      [
        'from multiprocessing import Process, Lock, Event',
        '',
        'def worker(first, second, mine, other):',
        '    with first:',
        '        mine.set()',
        '        other.wait()',
        '        with second:',
        "            print('never')",
        '',
        "if __name__ == '__main__':",
        '    a, b = Lock(), Lock()',
        '    ea, eb = Event(), Event()',
        '    p1 = Process(target=worker, args=(a, b, ea, eb))',
        '    p2 = Process(target=worker, args=(b, a, eb, ea))',
        '    p1.start(); p2.start()',
        '    p1.join(); p2.join()',
        '',
      ].join('\n'),
      'deadlock.py',
    );
    const { r, cycle } = await runUntilDeadlock(file);
    expect(r.summary.end.reason).toBe('stopped');
    expectTwoWayDeadlock(cycle, children(r).map((k) => k.pid));
    for (const p of r.processes()) expect(isAlive(p.pid)).toBe(false);
    expect(r.stdout().includes('never')).toBe(false);
  });

  it('a Pool whose task raises: workers are shown, the exception reaches the caller, all workers end', async () => {
    const file = scenarioFile(
      [
        'from multiprocessing import Pool',
        '',
        'def f(x):',
        '    if x == 3:',
        "        raise ValueError('bad item 3')",
        '    return x * x',
        '',
        "if __name__ == '__main__':",
        '    with Pool(2) as pool:',
        '        try:',
        '            print(pool.map(f, range(6)))',
        '        except ValueError as e:',
        "            print('caught', e)",
        '',
      ].join('\n'),
      'pool_error.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['caught bad item 3']);
    const workers = children(r);
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      expect(w.name).toMatch(/PoolWorker-\d+$/);
      expect(w.daemon).toBe(true);
      expect(r.exits().has(w.pid)).toBe(true);
    }
    // One task (the chunk with item 3) raised: the worker that ran it says so.
    const last = new Map<number, { done: number; failed: number }>();
    for (const e of ofType(r, 'task')) last.set(e.pid, { done: e.done, failed: e.failed });
    expect([...last.values()].reduce((n, c) => n + c.failed, 0)).toBe(1);
    expect([...last.values()].reduce((n, c) => n + c.done, 0)).toBeGreaterThanOrEqual(1);
    // The pool's own task queues and locks are multiprocessing's internals, not the script's.
    expect(ofType(r, 'queue')).toHaveLength(0);
    expect(ofType(r, 'lock')).toHaveLength(0);
  });

  it('ProcessPoolExecutor workers count their tasks too; a ThreadPool (threads, not processes) reports none', async () => {
    const file = scenarioFile(
      [
        'from concurrent.futures import ProcessPoolExecutor',
        'from multiprocessing.pool import ThreadPool',
        'import multiprocessing as mp',
        '',
        'def sq(x):',
        '    if x == 7:',
        "        raise ValueError('seven')",
        '    return x * x',
        '',
        "if __name__ == '__main__':",
        '    with ThreadPool(2) as tp:',
        "        print('threads', tp.map(abs, [-1, -2]))",
        "    with ProcessPoolExecutor(3, mp_context=mp.get_context('spawn')) as ex:",
        '        futs = [ex.submit(sq, i) for i in range(10)]',
        "        print('failed', [i for i, f in enumerate(futs) if f.exception() is not None])",
        "        print('map', list(ex.map(sq, range(7), chunksize=3)))",
        '',
      ].join('\n'),
      'executor.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['threads [1, 2]', 'failed [7]', 'map [0, 1, 4, 9, 16, 25, 36]']);
    const workers = new Set(children(r).map((w) => w.pid));
    const tasks = ofType(r, 'task');
    expect(tasks.every((e) => workers.has(e.pid)), 'only worker processes report tasks').toBe(true);
    const last = new Map<number, { done: number; failed: number }>();
    for (const e of tasks) last.set(e.pid, { done: e.done, failed: e.failed });
    // 10 submits and a map of 7 items in chunks of 3 (3 tasks): 13, one of which raised.
    expect([...last.values()].reduce((n, c) => n + c.done, 0)).toBe(13);
    expect([...last.values()].reduce((n, c) => n + c.failed, 0)).toBe(1);
  });

  it('stopping a run with children and grandchildren still running leaves no Python process alive', async () => {
    const file = scenarioFile(
      [
        'import time',
        'from multiprocessing import Process',
        '',
        'def grandchild():',
        "    print('ready', flush=True)",
        '    time.sleep(600)',
        '',
        'def child():',
        '    Process(target=grandchild).start()',
        '    time.sleep(600)',
        '',
        "if __name__ == '__main__':",
        '    for _ in range(2):',
        '        Process(target=child).start()',
        '    time.sleep(600)',
        '',
      ].join('\n'),
      'orphans.py',
    );
    const r = await runPy(file, {
      during: async (s, events) => {
        const ready = new Set<number>();
        await waitFor(s, events, (e) => {
          if (e.type === 'output' && e.text === 'ready') ready.add(e.pid);
          return ready.size === 2;
        });
        await s.stop();
      },
    });
    expect(r.summary.end.reason).toBe('stopped');
    const procs = r.processes();
    expect(procs).toHaveLength(5);
    const childPids = new Set(procs.filter((p) => p.ppid === r.root).map((p) => p.pid));
    expect(childPids.size).toBe(2);
    expect(procs.filter((p) => childPids.has(p.ppid))).toHaveLength(2);
    for (const p of procs) expect(isAlive(p.pid)).toBe(false);
  });

  it('a script with a syntax error still runs, and the run ends with the error', async () => {
    const r = await runPy(scenarioFile('print("before")\ndef broken(:\n    pass\n', 'broken.py'));
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.error).toMatch(/^SyntaxError/);
    expect(r.stderr(r.root).some((l) => l.startsWith('SyntaxError'))).toBe(true);
  });

  it.each(['fork', 'spawn', 'forkserver'])('start method %s: queues and locks keep their identity in the children', async (method) => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def work(q, lock, jq, sq):',
        '    with lock:',
        '        q.put(mp.current_process().name)',
        '    jq.put(1)',
        '    sq.put(2)',
        "    print('child done')",
        '',
        "if __name__ == '__main__':",
        `    ctx = mp.get_context('${method}')`,
        '    q, lock, jq, sq = ctx.Queue(), ctx.RLock(), ctx.JoinableQueue(), ctx.SimpleQueue()',
        '    ps = [ctx.Process(target=work, args=(q, lock, jq, sq)) for _ in range(2)]',
        '    for p in ps: p.start()',
        '    for p in ps: p.join()',
        '    print(sorted([q.get(), q.get()]), jq.get(), sq.get())',
        '',
      ].join('\n'),
      `methods_${method}.py`,
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    const kids = children(r);
    expect(kids).toHaveLength(2);
    for (const k of kids) {
      expect(k.ppid).toBe(r.root);
      expect(r.stdout(k.pid)).toEqual(['child done']);
      expect(r.exits().get(k.pid)).toBe(0);
    }
    const queues = ofType(r, 'queue') as QueueEvent[];
    expect(new Set(queues.map((e) => e.queue)).size).toBe(3);
    for (const id of new Set(queues.map((e) => e.queue))) {
      const puts = queues.filter((e) => e.queue === id && e.op === 'put');
      expect(new Set(puts.map((e) => e.pid))).toEqual(new Set(kids.map((k) => k.pid)));
    }
    const locks = ofType(r, 'lock') as LockEvent[];
    expect(new Set(locks.map((e) => e.lock)).size).toBe(1);
    expect(locks.filter((e) => e.op === 'acquire').map((e) => e.pid).sort()).toEqual(kids.map((k) => k.pid).sort());
    expect(r.summary.queues.map((q) => q.depth)).toEqual([0, 1, 1]);
  });

  // Both recorders: the C one (built in the shim cache with the interpreter's own compiler settings)
  // and the Python one it falls back to (PROCSCOPE_RECORDER=python asks for it).
  it.each(['c', 'python'] as const)('threads of one process hammering one lock and one queue: every operation is in the log, exactly once (%s recorder)', async (recorder) => {
    const threads = 8;
    const n = 600;
    const file = scenarioFile(
      [
        'import sys, threading',
        'import multiprocessing as mp',
        '',
        `THREADS, N = ${threads}, ${n}`,
        '',
        "if __name__ == '__main__':",
        '    sys.setswitchinterval(1e-6)  # threads switch between any two bytecodes',
        '    lock, q = mp.Lock(), mp.Queue()',
        '    refused = [0] * THREADS',
        '',
        '    def hammer(k):',
        '        for i in range(N):',
        '            with lock:',
        '                pass',
        '            if lock.acquire(False):',
        '                lock.release()',
        '            else:',
        '                refused[k] += 1',
        '            q.put(i)',
        '',
        '    ts = [threading.Thread(target=hammer, args=(k,)) for k in range(THREADS)]',
        '    for t in ts: t.start()',
        '    total = sum(q.get() for _ in range(THREADS * N))',
        '    for t in ts: t.join()',
        "    print('sum', total, 'refused', sum(refused))",
        '    from procscope_shim import _client',
        "    print('recorder', 'c' if _client._accel is not None else 'python')",
        '',
      ].join('\n'),
      'threads.py',
    );
    const before = process.env.PROCSCOPE_RECORDER;
    if (recorder === 'python') process.env.PROCSCOPE_RECORDER = 'python';
    const r = await runPy(file).finally(() => {
      if (before === undefined) delete process.env.PROCSCOPE_RECORDER;
      else process.env.PROCSCOPE_RECORDER = before;
    });
    expect(r.summary.end.reason).toBe('finished');
    const [line, used] = r.stdout(r.root);
    expect(used).toBe(`recorder ${recorder}`);
    const m = /^sum (\d+) refused (\d+)$/.exec(line);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBe((threads * n * (n - 1)) / 2);
    const refused = Number(m?.[2]);
    expect(ofType(r, 'warning')).toEqual([]);

    const locks = ofType(r, 'lock') as LockEvent[];
    expect(new Set(locks.map((e) => e.lock)).size).toBe(1);
    expect(locks.every((e) => e.pid === r.root)).toBe(true);
    const count = (op: string) => locks.filter((e) => e.op === op).length;
    expect(count('request')).toBe(2 * threads * n);
    expect(count('acquire')).toBe(2 * threads * n - refused);
    expect(count('timeout')).toBe(refused);
    expect(count('release')).toBe(2 * threads * n - refused);
    // Stamped as taken and before released: in the log, one thread at a time holds it.
    let holder: number | null = null;
    for (const e of locks) {
      if (e.op === 'acquire') {
        expect(holder).toBeNull();
        holder = e.pid;
      } else if (e.op === 'release') holder = null;
    }

    const q = ofType(r, 'queue') as QueueEvent[];
    expect(new Set(q.map((e) => e.queue)).size).toBe(1);
    expect(q.every((e) => e.pid === r.root)).toBe(true);
    expect(q.filter((e) => e.op === 'put')).toHaveLength(threads * n);
    expect(q.filter((e) => e.op === 'get')).toHaveLength(threads * n);
    expect(r.summary.queues).toEqual([expect.objectContaining({ puts: threads * n, gets: threads * n, depth: 0 })]);
  });

  it('a forked child reports the lock and queue it inherited under their ids, and the parent\'s unsent reports only once', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import os',
        '',
        'def child(lock, q, done):',
        '    for i in range(50):',
        '        with lock:',
        '            q.put(i)',
        '    mine = mp.Queue()  # the next index of the table it inherited',
        "    mine.put('x'); mine.get()",
        '    done.put(os.getpid())',
        '',
        "if __name__ == '__main__':",
        "    ctx = mp.get_context('fork')",
        '    lock, q, done = ctx.Lock(), ctx.Queue(), ctx.Queue()',
        '    # Reported in batches: some of these are still unsent when the child is forked.',
        '    for i in range(100):',
        '        with lock:',
        '            q.put(i)',
        '    p = ctx.Process(target=child, args=(lock, q, done))',
        '    p.start()',
        '    late = ctx.Queue()  # made after the fork: the same index as the child\'s own queue',
        '    late.put(1); late.get()',
        '    pid = done.get()',
        '    got = sorted(q.get() for _ in range(150))',
        '    p.join()',
        "    print('child', pid, 'items', len(got), 'exit', p.exitcode)",
        '',
      ].join('\n'),
      'forked.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    const [child] = children(r);
    expect(r.stdout(r.root)).toEqual([`child ${child.pid} items 150 exit 0`]);
    expect(ofType(r, 'warning')).toEqual([]);

    const locks = ofType(r, 'lock') as LockEvent[];
    expect(new Set(locks.map((e) => e.lock)).size).toBe(1);
    const acquires = (pid: number) => locks.filter((e) => e.op === 'acquire' && e.pid === pid).length;
    expect([acquires(r.root), acquires(child.pid)]).toEqual([100, 50]);
    expect(locks.filter((e) => e.op === 'release')).toHaveLength(150);

    const q = ofType(r, 'queue') as QueueEvent[];
    const ops = (pid: number, op: string) => {
      const by = new Map<string, number>();
      for (const e of q) if (e.pid === pid && e.op === op) by.set(e.queue, (by.get(e.queue) ?? 0) + 1);
      return Object.fromEntries(by);
    };
    const rootQueues = Object.keys(ops(r.root, 'put'));
    // q and done were made by the parent before the fork, `late` after; `mine` by the child.
    const [items, done, late] = [...new Set(q.filter((e) => e.op === 'create').map((e) => e.queue))].filter((id) => id.startsWith(`queue-${r.root}-`));
    expect(rootQueues.sort()).toEqual([items, late].sort());
    const mine = q.find((e) => e.op === 'create' && e.pid === child.pid)?.queue as string;
    expect(mine.startsWith(`queue-${child.pid}-`)).toBe(true);
    expect(ops(child.pid, 'put')).toEqual({ [items]: 50, [done]: 1, [mine]: 1 });
    expect(ops(child.pid, 'get')).toEqual({ [mine]: 1 });
    expect(ops(r.root, 'put')).toEqual({ [items]: 100, [late]: 1 });
    expect(ops(r.root, 'get')).toEqual({ [items]: 150, [done]: 1, [late]: 1 });
  });

  it("the shim's records and the monitor's decoder agree, across the 39-hour wrap and before t = 0", async () => {
    const { execFileSync } = await import('node:child_process');
    const cases = [
      [2, 1_234_567],
      [(5 << 3) | 7, 2 ** 47 - 1],
      [(7 << 3) | 3, 2 ** 47 + 5],
      [(4095 << 3) | 6, 3 * 2 ** 47 + 42],
      [(2 << 3) | 4, -1_000_000],
      [0, -5],
    ];
    const out = execFileSync(
      python,
      [
        '-c',
        [
          'import json, sys',
          'from procscope_shim._client import record_key, split_record',
          't0 = 1790000000123456000',
          'out = []',
          'for code, stamp in json.loads(sys.argv[1]):',
          '    record = (t0 + stamp) - record_key(t0, code)  # what the hot path appends',
          '    assert split_record(record, stamp + 1000) == (code, stamp)',
          '    out.append(str(record))',
          "print(' '.join(out))",
        ].join('\n'),
        JSON.stringify(cases),
      ],
      { env: { ...process.env, PYTHONPATH: pythonShimDir(), PROCSCOPE_SOCKET: '' }, encoding: 'utf8' },
    );
    const records = out.trim().split(' ').map(BigInt);
    records.forEach((rec, i) => {
      const buf = Buffer.alloc(8);
      buf.writeBigInt64LE(rec);
      const [code, stamp] = cases[i];
      const d = decodeOps({ k: 'ops', t: stamp + 1000, b: buf.toString('base64'), ids: [], base: 0 });
      expect([d.code[0], d.at[0]]).toEqual([code, stamp / 1e6]);
    });
  });

  it('without procscope the shim does nothing', async () => {
    const { execFileSync } = await import('node:child_process');
    const shim = pythonShimDir();
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: shim };
    delete env.PROCSCOPE_SOCKET;
    const out = execFileSync(python, ['-c', 'import sys, multiprocessing.context as c; print(type(sys.stdout).__name__, c.BaseContext.Queue.__module__)'], { env, encoding: 'utf8' });
    expect(out.trim()).toBe('TextIOWrapper multiprocessing.context');
  });
});
