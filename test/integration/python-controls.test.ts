import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CreatedEvent, ProcessEvent, ProcessStacks } from '../../src-main/api.ts';
import { isAlive } from '../../src-main/core/process-group.ts';
import { run, scenarioFile, tmpRoot, waitFor } from '../helpers/run.ts';
import { children, ofType, python, runPy } from '../helpers/python.ts';

// The window's controls on a Python program's processes: terminate, kill and join act on the real
// processes (by signal, by waiting), and the exit codes shown are Python's (-15, -9), even when
// the Python parent never calls join() and so never reaps its children itself.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const SLEEPERS = [
  'import multiprocessing as mp',
  'import time',
  '',
  'def sleep():',
  "    print('ready', flush=True)",
  '    time.sleep(120)',
  '',
  "if __name__ == '__main__':",
  "    ps = [mp.Process(target=sleep, name=n) for n in ('a', 'b', 'c')]",
  '    for p in ps:',
  '        p.start()',
  '    time.sleep(120)  # never joins: nobody reaps the children',
  '',
].join('\n');

describe('controls on Python processes', () => {
  it('terminate → -15, kill → -9, join waits for the exit; stop ends the rest', async () => {
    let pids: number[] = [];
    const r = await run(scenarioFile(SLEEPERS, 'sleepers.py'), {
      python,
      during: async (s, events) => {
        const byName = async (name: string) =>
          (await waitFor(s, events, (e): e is ProcessEvent => e.type === 'process' && e.name === name)).pid;
        const [a, b, c] = [await byName('a'), await byName('b'), await byName('c')];
        pids = [s.rootProcessPid, a, b, c];
        // Each has said it is ready: its interpreter runs our code, not just the bootstrap.
        await waitFor(s, events, () => events.filter((e) => e.type === 'output' && e.text === 'ready').length === 3);

        expect(await s.control('terminate', { pid: a })).toMatchObject({ ok: true });
        expect(await s.control('join', { pid: a })).toMatchObject({ ok: true, exitcode: -15, alive: false });
        expect(await s.control('kill', { pid: b })).toMatchObject({ ok: true });
        expect(await s.control('join', { pid: b })).toMatchObject({ ok: true, exitcode: -9, alive: false });
        // A join with a timeout on a process that keeps running answers, still running.
        expect(await s.control('join', { pid: c }, 0.05)).toMatchObject({ ok: true, exitcode: null, alive: true });
        await s.stop();
      },
    });
    expect(r.summary.end.reason).toBe('stopped');
    const exits = r.exits();
    expect(exits.get(pids[1])).toBe(-15);
    expect(exits.get(pids[2])).toBe(-9);
    expect(r.logged.filter((e) => e.type === 'control').map((e) => (e.type === 'control' ? e.action : ''))).toEqual([
      'terminate',
      'join',
      'kill',
      'join',
      'join',
      'stop',
    ]);
    expect(pids.filter(isAlive), 'no Python process of the run is left').toEqual([]);
  });

  it("a child killed after its own last report (on its way out) is logged with the kernel's -9, not its 0", async () => {
    // The child's `bye` (exit code 0) is sent as its target returns, before it really exits;
    // here it then lingers in os._exit, and its parent kills it: the exit is -9.
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import os',
        'import time',
        '',
        "ctx = mp.get_context('fork')",
        'leaving = ctx.Event()',
        'real_exit = os._exit',
        '',
        'def slow_exit(code):',
        '    leaving.set()',
        '    time.sleep(60)',
        '    real_exit(code)',
        '',
        'def work():',
        '    os._exit = slow_exit  # in the child only',
        "    print('worked')",
        '',
        "if __name__ == '__main__':",
        '    p = ctx.Process(target=work)',
        '    p.start()',
        '    leaving.wait()',
        '    p.kill()',
        '    p.join()',
        "    print('exitcode', p.exitcode)",
        '',
      ].join('\n'),
      'killed_leaving.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['exitcode -9']);
    const [child] = children(r);
    expect(r.stdout(child.pid)).toEqual(['worked']);
    expect(r.exits().get(child.pid)).toBe(-9);
  });

  it("a Python program's Process objects: listed when made, started, stopped and closed from the window by their real members", async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import time',
        '',
        'def work():',
        "    print('working', flush=True)",
        '    time.sleep(120)',
        '',
        "if __name__ == '__main__':",
        "    later = mp.Process(target=work, name='later')",
        '    later.daemon = True  # set after it was made: the window shows it anyway',
        "    spare = mp.Process(target=work, name='spare')",
        "    now = mp.Process(target=work, name='now')",
        '    now.start()',
        '    time.sleep(120)  # the window does the rest',
        '',
      ].join('\n'),
      'objects.py',
    );
    const replies: Record<string, unknown> = {};
    const r = await runPy(file, {
      during: async (s, events) => {
        const created = (name: string) => waitFor(s, events, (e): e is CreatedEvent => e.type === 'created' && e.name === name);
        const [later, spare] = [await created('later'), await created('spare')];
        expect(later.daemon).toBe(true);
        expect(later.owner).toBe(s.rootProcessPid);
        const now = await waitFor(s, events, (e): e is ProcessEvent => e.type === 'process' && e.name === 'now');
        expect(now.handle, 'a started object keeps its handle').toMatch(new RegExp(`^${s.rootProcessPid}\\.`));

        replies.start = await s.control('start', { handle: later.handle });
        const started = await waitFor(s, events, (e): e is ProcessEvent => e.type === 'process' && e.handle === later.handle);
        await waitFor(s, events, (e) => e.type === 'output' && e.pid === started.pid && e.text === 'working');
        replies.startAgain = await s.control('start', { handle: later.handle });
        replies.closeRunning = await s.control('close', { handle: later.handle });
        replies.terminate = await s.control('terminate', { handle: later.handle });
        replies.join = await s.control('join', { handle: later.handle });
        replies.close = await s.control('close', { handle: later.handle });
        replies.closeSpare = await s.control('close', { handle: spare.handle });
        replies.joinNow = await s.control('join', { handle: now.handle as string }, 0.05);
        await s.stop();
      },
    });
    expect(replies.start).toMatchObject({ ok: true, text: 'None', alive: true });
    expect(replies.startAgain).toMatchObject({ ok: false, text: 'AssertionError: cannot start a process twice' });
    expect(replies.closeRunning).toMatchObject({ ok: false, text: expect.stringMatching(/^ValueError: Cannot close a process while it is still running/) });
    expect(replies.terminate).toMatchObject({ ok: true });
    expect(replies.join).toMatchObject({ ok: true, exitcode: -15, alive: false });
    expect(replies.close).toMatchObject({ ok: true, text: 'None' });
    expect(replies.closeSpare).toMatchObject({ ok: true, text: 'None' });
    expect(replies.joinNow).toMatchObject({ ok: true, exitcode: null, alive: true });

    const created = ofType(r, 'created');
    expect(created.map((e) => e.name)).toEqual(['later', 'spare', 'now']);
    const closed = ofType(r, 'closed').map((e) => e.handle).sort();
    expect(closed).toEqual([created[0].handle, created[1].handle].sort());
    const later = r.processes().find((p) => p.name === 'later');
    expect(later?.daemon).toBe(true);
    expect(later?.ppid).toBe(r.root);
    expect(r.exits().get(later?.pid as number)).toBe(-15);
    // Every process is listed once, under its object's handle.
    expect(r.processes().map((p) => p.handle).sort()).toEqual([undefined, created[0].handle, created[2].handle].sort());
  });
});

describe('stacks of a Python run', () => {
  it('say where each process waits: the consumer in q.get(), the taker in lock.acquire(), main in join(); nothing of procscope shows', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def consume(q):',
        '    q.get()  # nobody puts',
        '',
        'def take(lock):',
        '    lock.acquire()  # main holds it',
        '',
        "if __name__ == '__main__':",
        '    q, lock = mp.Queue(), mp.Lock()',
        '    lock.acquire()',
        "    c = mp.Process(target=consume, args=(q,), name='consumer')",
        "    t = mp.Process(target=take, args=(lock,), name='taker')",
        '    c.start(); t.start()',
        '    c.join()',
        '',
      ].join('\n'),
      'stuck.py',
    );
    let seen: ProcessStacks[] = [];
    // Where the program's own code waits: the innermost frame that is not Python's library.
    const innermost = (p: ProcessStacks | undefined) =>
      p?.threads.find((t) => t.name === 'MainThread')?.frames.filter((f) => !f.lib).at(-1);
    await runPy(file, {
      during: async (s, events) => {
        await waitFor(s, events, (e) => e.type === 'lock' && e.op === 'request' && events.some((p) => p.type === 'process' && p.name === 'taker' && p.pid === e.pid));
        // The consumer may still be on its way into get(): ask again until it is there.
        for (let i = 0; i < 200; i++) {
          seen = await s.stacks();
          if (innermost(seen.find((p) => p.name === 'consumer'))?.func === 'consume') break;
        }
        await s.stop();
      },
    });
    const byName = (name: string) => seen.find((p) => p.name === name);
    expect(seen.map((p) => p.name).sort()).toEqual(['MainProcess', 'consumer', 'taker']);
    expect(seen.every((p) => p.error === undefined)).toBe(true);
    expect(innermost(byName('consumer'))).toMatchObject({ func: 'consume', line: 4, code: 'q.get()  # nobody puts' });
    expect(innermost(byName('taker'))).toMatchObject({ func: 'take', line: 7, code: 'lock.acquire()  # main holds it' });
    const main = byName('MainProcess')?.threads.find((t) => t.name === 'MainThread')?.frames ?? [];
    expect(main[0], 'outermost first').toMatchObject({ func: '<module>', line: 15, code: 'c.join()' });
    const consumerFrames = byName('consumer')?.threads[0].frames ?? [];
    expect(consumerFrames.at(-1)?.lib, "the wait itself is in multiprocessing's code").toBe(true);
    const files = seen.flatMap((p) => p.threads.flatMap((t) => t.frames.map((f) => f.file)));
    expect(files.filter((f) => f.includes('procscope_shim')), "procscope's own frames are left out").toEqual([]);
    expect(seen.flatMap((p) => p.threads.map((t) => t.name)).filter((n) => n.startsWith('procscope-'))).toEqual([]);
  });

  it('a TypeScript run says its processes cannot show stacks', async () => {
    let seen: ProcessStacks[] = [];
    await run(
      scenarioFile(`
export default async function main(): Promise<void> {
  console.log('ready');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
`),
      {
        during: async (s, events) => {
          await waitFor(s, events, (e) => e.type === 'output' && e.text === 'ready');
          seen = await s.stacks();
          await s.stop();
        },
      },
    );
    expect(seen).toEqual([{ pid: expect.any(Number), name: 'MainProcess', threads: [], error: 'typescript' }]);
  });
});
