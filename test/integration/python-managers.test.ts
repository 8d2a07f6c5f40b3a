import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessEvent, QueueEvent } from '../../src-main/api.ts';
import { pythonShimDir } from '../../src-main/core/paths.ts';
import { scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';
import { children, ofType, python, runPy } from '../helpers/python.ts';

// Python mode, beyond multiprocessing's own queues: a manager's queues (the real queue lives in
// the manager's server process, every other process holds a proxy), the user's own
// sitecustomize (shadowed by procscope's on PYTHONPATH, and run by it), and what is not
// multiprocessing at all (a threading queue.Queue, a manager's dict).

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Runs with `dir` on the PYTHONPATH procscope inherits (after its own shim). */
async function withInheritedPythonPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PYTHONPATH;
  process.env.PYTHONPATH = saved ? `${dir}${path.delimiter}${saved}` : dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = saved;
  }
}

const byName = (r: RunResult, name: string): ProcessEvent => {
  const found = r.processes().find((p) => p.name === name);
  if (!found) throw new Error(`no process named ${name}: ${r.processes().map((p) => p.name).join(', ')}`);
  return found;
};

/** A folder holding only a sitecustomize.py with `source`. */
function userSiteDir(source: string): string {
  return path.dirname(scenarioFile(source, 'sitecustomize.py'));
}

describe('python mode: manager queues', () => {
  it.each(['fork', 'spawn', 'forkserver'])(
    'start method %s: a Manager().Queue() shared by a producer and a consumer is one queue, with its depth',
    async (method) => {
      const file = scenarioFile(
        [
          'import multiprocessing as mp',
          '',
          'def producer(q, ready):',
          '    for i in range(3):',
          '        q.put(i)',
          '    ready.set()',
          '',
          'def consumer(q, ready):',
          '    ready.wait()',
          '    print(q.get(), q.get())',
          '',
          "if __name__ == '__main__':",
          `    ctx = mp.get_context('${method}')`,
          '    with ctx.Manager() as m:',
          '        q, ready = m.Queue(5), m.Event()',
          "        p = ctx.Process(target=producer, args=(q, ready), name='producer')",
          "        c = ctx.Process(target=consumer, args=(q, ready), name='consumer')",
          '        p.start(); c.start()',
          '        p.join(); c.join()',
          "        print('left', q.qsize())",
          '',
        ].join('\n'),
        `manager_queue_${method}.py`,
      );
      const r = await runPy(file);
      expect(r.summary.end.reason).toBe('finished');
      const producer = byName(r, 'producer');
      const consumer = byName(r, 'consumer');
      const server = byName(r, 'SyncManager-1');
      expect(r.stdout(consumer.pid)).toEqual(['0 1']);
      expect(r.stdout(r.root)).toEqual(['left 1']);

      const q = ofType(r, 'queue') as QueueEvent[];
      // One queue, whatever process reported: the id comes from the proxy's token.
      expect(new Set(q.map((e) => e.queue)).size).toBe(1);
      expect(q.map((e) => [e.op, e.depth])).toEqual([
        ['create', 0],
        ['put', 1],
        ['put', 2],
        ['put', 3],
        ['get', 2],
        ['get', 1],
      ]);
      expect(q[0]).toMatchObject({ pid: r.root, maxsize: 5 });
      expect(q.filter((e) => e.op === 'put').every((e) => e.pid === producer.pid)).toBe(true);
      expect(q.filter((e) => e.op === 'get').every((e) => e.pid === consumer.pid)).toBe(true);
      // The server carries the calls out; only the callers report them.
      expect(q.some((e) => e.pid === server.pid)).toBe(false);
      expect(r.summary.queues).toEqual([expect.objectContaining({ maxsize: 5, puts: 3, gets: 2, depth: 1, peak: 3 })]);
      // The manager's Event is not a queue, and the manager's internals are not the script's.
      expect(ofType(r, 'lock')).toHaveLength(0);
      expect(children(r).every((k) => r.exits().get(k.pid) === 0)).toBe(true);
    },
  );

  it('a JoinableQueue via the manager: put/put_nowait and get/get_nowait count; a get that finds it empty does not', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import queue',
        '',
        'def worker(jq):',
        '    a = jq.get()',
        '    jq.task_done()',
        '    b = jq.get_nowait()',
        '    jq.task_done()',
        "    print('got', a, b)",
        '',
        "if __name__ == '__main__':",
        '    with mp.Manager() as m:',
        '        jq = m.JoinableQueue()',
        "        jq.put('a')",
        "        jq.put_nowait('b')",
        "        w = mp.Process(target=worker, args=(jq,), name='worker')",
        '        w.start()',
        '        jq.join()',
        '        w.join()',
        '        try:',
        '            jq.get_nowait()',
        '        except queue.Empty:',
        "            print('empty')",
        '        try:',
        '            jq.get(timeout=0.01)',
        '        except queue.Empty:',
        "            print('still empty')",
        '',
      ].join('\n'),
      'manager_joinable.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    const worker = byName(r, 'worker');
    expect(r.stdout(worker.pid)).toEqual(['got a b']);
    expect(r.stdout(r.root)).toEqual(['empty', 'still empty']);
    const q = ofType(r, 'queue') as QueueEvent[];
    expect(new Set(q.map((e) => e.queue)).size).toBe(1);
    expect(q.map((e) => [e.op, e.pid, e.depth])).toEqual([
      ['create', r.root, 0],
      ['put', r.root, 1],
      ['put', r.root, 2],
      ['get', worker.pid, 1],
      ['get', worker.pid, 0],
    ]);
    expect(r.summary.queues).toEqual([expect.objectContaining({ maxsize: 0, puts: 2, gets: 2, depth: 0 })]);
  });

  it('a threading queue.Queue and a manager dict (whose method is also called get) are not reported', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import queue',
        'import threading',
        '',
        "if __name__ == '__main__':",
        '    tq = queue.Queue()',
        '    t = threading.Thread(target=lambda: tq.put(1))',
        '    t.start(); t.join()',
        '    print(tq.get())',
        '    with mp.Manager() as m:',
        '        d = m.dict()',
        "        d['k'] = 2",
        "        print(d.get('k'), d.get('missing'))",
        '',
      ].join('\n'),
      'not_reported.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['1', '2 None']);
    expect(ofType(r, 'queue')).toHaveLength(0);
    expect(r.summary.queues).toEqual([]);
  });
});

describe('python mode: the user\'s own sitecustomize', () => {
  // It marks the process it ran in, and installs an excepthook the way Debian's apport hook does
  // (calling sys.__excepthook__, not the hook it replaced).
  const userSite = [
    'import sys',
    'MARK = "user-site"',
    'sys.procscope_test_user_site = MARK',
    'def _hook(tp, value, tb):',
    '    sys.stderr.write("user hook: %s\\n" % tp.__name__)',
    '    sys.__excepthook__(tp, value, tb)',
    'sys.excepthook = _hook',
    '',
  ].join('\n');

  const script = [
    'import multiprocessing as mp',
    'import os',
    'import sys',
    'import sitecustomize',
    '',
    'def show():',
    "    print(getattr(sys, 'procscope_test_user_site', None), sitecustomize.MARK)",
    '',
    "if __name__ == '__main__':",
    '    show()',
    "    p = mp.get_context('spawn').Process(target=show, name='spawned')",
    '    p.start(); p.join()',
    "    if os.environ.get('PROCSCOPE_TEST_RAISE'):",
    "        raise ValueError('late')",
    '',
  ].join('\n');

  it('still runs under procscope, in every process, before procscope wraps what it set up', async () => {
    const dir = userSiteDir(userSite);
    const file = scenarioFile(script, 'user_site.py');
    process.env.PROCSCOPE_TEST_RAISE = '1';
    let r: RunResult;
    try {
      r = await withInheritedPythonPath(dir, () => runPy(file));
    } finally {
      delete process.env.PROCSCOPE_TEST_RAISE;
    }
    expect(r.stdout(r.root)).toEqual(['user-site user-site']);
    const spawned = byName(r, 'spawned');
    expect(r.stdout(spawned.pid)).toEqual(['user-site user-site']);
    // procscope's excepthook wraps the user's: the run ends with the error, and the user's
    // hook ran too.
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.error).toMatch(/^ValueError: late/);
    expect(r.stderr(r.root)).toContain('user hook: ValueError');
  });

  it('runs without procscope too, and its failure is reported as Python reports it, without stopping the script', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.PROCSCOPE_SOCKET;
    delete env.PROCSCOPE_TEST_RAISE;
    const shim = pythonShimDir();
    const good = userSiteDir(userSite);
    const file = scenarioFile(script, 'user_site_plain.py');
    const out = execFileSync(python, [file], { env: { ...env, PYTHONPATH: `${shim}${path.delimiter}${good}` }, encoding: 'utf8' });
    expect(out.split('\n').filter(Boolean)).toEqual(['user-site user-site', 'user-site user-site']);

    const bad = userSiteDir("raise RuntimeError('broken site')\n");
    const probe = "import sys; print('ran', type(sys.stdout).__name__)";
    const withShim = spawnPython(['-c', probe], { ...env, PYTHONPATH: `${shim}${path.delimiter}${bad}` });
    const plain = spawnPython(['-c', probe], { ...env, PYTHONPATH: bad });
    expect(withShim.status).toBe(0);
    expect(withShim.stdout).toBe('ran TextIOWrapper\n');
    expect(withShim.stderr).toBe(plain.stderr);
    expect(withShim.stderr).toBe('Error in sitecustomize; set PYTHONVERBOSE for traceback:\nRuntimeError: broken site\n');
  });
});

function spawnPython(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(python, args, { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
