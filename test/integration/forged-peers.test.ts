// Nothing forged: what a process says about itself and its children counts only once the kernel
// bears it out (core/run-claims.ts). Each test forges a claim from a real process, a stranger of
// the same user or a process of the run itself, and checks that the run believed none of it:
// nothing listed, nothing signalled that is not the run's, no live process shown as ended.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ControlEvent, ExitEvent, OutputEvent, RunEvent, WarningEvent } from '../../src-main/api.ts';
import { readProcStat } from '../../src-main/core/process-group.ts';
import type { Session } from '../../src-main/core/session.ts';
import { Codec, encodeFrame } from '../../src-main/protocol.ts';
import { alive, leavingNoSurvivors } from '../helpers/leaks.ts';
import { runPy } from '../helpers/python.ts';
import { scenarioFile, tmpRoot, waitFor } from '../helpers/run.ts';

const run = leavingNoSurvivors(runPy);
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Processes a test started outside the run: ended after it, whatever happened. */
const outsiders: ChildProcess[] = [];
afterEach(() => {
  for (const c of outsiders.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function outsider(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  outsiders.push(c);
  return c;
}

/** The first line a process prints. */
function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    c.stdout?.on('data', (b: Buffer) => {
      text += b.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    c.once('exit', (code) => reject(new Error(`${c.spawnfile} exited (${code}) before it said anything: ${text}`)));
  });
}

const outputOf = (session: Session, events: RunEvent[], text: string) =>
  waitFor(session, events, (e): e is OutputEvent => e.type === 'output' && e.text === text);

const warningOf = (session: Session, events: RunEvent[], part: string) =>
  waitFor(session, events, (e): e is WarningEvent => e.type === 'warning' && e.message.includes(part));

/** A live process, not a zombie, still the one that started at `start` (its pid not reused). */
const stillThere = (pid: number, start: number | undefined) => alive(pid) && readProcStat(pid)?.starttime === start;

/** The shim's client (to send what the runtime never would) and B, a child that says it is up and waits. */
const FORGER_HEAD = ['from procscope_shim._client import client', '', 'def sleeper():', "    print('B up', flush=True)", '    time.sleep(300)', ''];

describe('a forged peer', () => {
  it("a stranger's hello for the main process, or for a process of the run that never connects, is refused: the kernel says who connected", async () => {
    const program = scenarioFile(
      [
        'import os, subprocess, time',
        "print('socket', os.environ['PROCSCOPE_SOCKET'], flush=True)",
        "quiet = subprocess.Popen(['sleep', '300'])  # of the run, but never says hello",
        "print('quiet', quiet.pid, flush=True)",
        'time.sleep(300)',
        '',
      ].join('\n'),
      'stranger.py',
    );
    await run(program, {
      refusals: 'expected',
      during: async (session, events) => {
        const said = (prefix: string) =>
          waitFor(session, events, (e): e is OutputEvent => e.type === 'output' && e.text.startsWith(prefix)).then((e) => e.text.slice(prefix.length));
        const socketPath = await said('socket ');
        const quiet = Number(await said('quiet '));
        const root = session.rootProcessPid;
        for (const [pid, ppid] of [
          [root, process.pid],
          [quiet, root],
        ]) {
          // A process of the same user, outside the run: it says it is `pid`, then speaks for it.
          const frames = Buffer.concat([
            encodeFrame({ k: 'hello', pid, ppid, name: 'MainProcess', daemon: false }, Codec.JSON),
            encodeFrame({ k: 'out', s: 0, text: 'forged\n' }, Codec.JSON),
            encodeFrame({ k: 'spawned', pid: process.pid, name: 'forged', daemon: false }, Codec.JSON),
          ]);
          const stranger = outsider(process.execPath, [
            '-e',
            "const c = require('node:net').connect(process.argv[1], () => c.write(Buffer.from(process.argv[2], 'base64'))); c.on('error', () => {}); c.on('close', () => { console.log('dropped'); process.exit(); }); setTimeout(() => console.log('kept'), 20000);",
            socketPath,
            frames.toString('base64'),
          ]);
          const seen = events.length;
          expect(await firstLine(stranger), 'the broker closed the connection').toBe('dropped');
          const w = await waitFor(session, events, (e): e is WarningEvent => e.type === 'warning' && events.indexOf(e) >= seen);
          expect(w.message).toBe(`broker dropped a connection: its hello names pid ${pid}, but pid ${stranger.pid} connected`);
        }
        // Nothing of it counted: no process listed but main, no forged output, main still runs.
        expect(session.processes().map((p) => [p.pid, p.name])).toEqual([[root, 'MainProcess']]);
        expect(events.filter((e) => e.type === 'output' && e.text.includes('forged'))).toEqual([]);
        expect(alive(root)).toBe(true);
        await session.stop();
      },
    });
  });

  it("a process of the run that says it spawned an unrelated process: that process is not listed, and nothing of the run signals it", async () => {
    const program = scenarioFile(
      [
        'import multiprocessing as mp, sys, time',
        ...FORGER_HEAD,
        'def forger(stranger):',
        "    client.post_now({'k': 'spawned', 'pid': stranger, 'name': 'forged', 'daemon': False})",
        "    client.post_now({'k': 'exited', 'pid': stranger, 'exitcode': 0})",
        '    # A younger sibling: the run lists older siblings first, the forged one too if it were believed.',
        "    b = mp.Process(target=sleeper, name='B')",
        '    b.start()',
        '    b.join()',
        '',
        "if __name__ == '__main__':",
        "    a = mp.Process(target=forger, args=(int(sys.argv[1]),), name='A')",
        '    a.start()',
        '    a.join()',
        '',
      ].join('\n'),
      'spawned.py',
    );
    const stranger = outsider('sleep', ['300']);
    const strangerPid = stranger.pid as number;
    const start = readProcStat(strangerPid)?.starttime;
    const r = await run(program, {
      args: [String(strangerPid)],
      refusals: 'expected',
      during: async (session, events) => {
        await outputOf(session, events, 'B up');
        const a = session.processes().find((p) => p.name === 'A');
        expect(a?.pid, 'A is listed').toBeTypeOf('number');
        // B is listed after its older siblings: the forged one would be listed by now.
        expect(session.processes().map((p) => p.name).sort()).toEqual(['A', 'B', 'MainProcess']);
        expect(() => session.kill(strangerPid)).toThrow(`pid ${strangerPid} is not a process of this run`);
        await expect(session.control('kill', { pid: strangerPid })).rejects.toThrow('is not part of this run');
        await warningOf(session, events, `spawned: pid ${strangerPid} is not a child of pid ${a?.pid}`);
        await warningOf(session, events, `exited: pid ${strangerPid} is not a child of pid ${a?.pid}`);
        await session.stop();
      },
    });
    expect(r.processes().map((p) => p.pid)).not.toContain(strangerPid);
    expect(r.logged.filter((e) => e.type === 'sample' && e.pid === strangerPid), 'never sampled').toEqual([]);
    expect(stillThere(strangerPid, start), 'the stop left the stranger alone').toBe(true);
  });

  it('a forged exit for a live child is ignored, from its parent or a sibling: the child still shows running and can be killed', async () => {
    const program = scenarioFile(
      [
        'import multiprocessing as mp, time',
        ...FORGER_HEAD,
        'def zombie(pid):',
        '    try:',
        "        with open('/proc/%d/stat' % pid) as f:",
        "            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'",
        '    except OSError:',
        '        return False',
        '',
        'def forger(b):',
        "    client.post_now({'k': 'exited', 'pid': b, 'exitcode': 0})",
        "    print('A forged', flush=True)",
        '    # Once B has died (its parent does not reap it), a sibling says it ended well.',
        '    while not zombie(b):',
        '        time.sleep(0.01)',
        "    client.post_now({'k': 'exited', 'pid': b, 'exitcode': 0})",
        "    print('A forged again', flush=True)",
        '    time.sleep(300)',
        '',
        "if __name__ == '__main__':",
        "    b = mp.Process(target=sleeper, name='B')",
        '    b.start()',
        "    a = mp.Process(target=forger, args=(b.pid,), name='A')",
        '    a.start()',
        "    client.post_now({'k': 'exited', 'pid': b.pid, 'exitcode': 0})",
        "    print('main forged', flush=True)",
        '    time.sleep(300)',
        '',
      ].join('\n'),
      'exited.py',
    );
    const r = await run(program, {
      refusals: 'expected',
      during: async (session, events) => {
        await outputOf(session, events, 'B up');
        await outputOf(session, events, 'main forged');
        await outputOf(session, events, 'A forged');
        const b = session.processes().find((p) => p.name === 'B');
        const a = session.processes().find((p) => p.name === 'A');
        const bPid = b?.pid as number;
        // Each forgery is refused, or else B is shown ended: whichever comes first.
        const refusedOrEnded = async (text: string) => {
          const e = await waitFor(session, events, (e) => (e.type === 'warning' && e.message.includes(text)) || (e.type === 'exit' && e.pid === bPid));
          expect(e.type === 'warning' ? e.message : `B shown ended: ${JSON.stringify(e)}`).toContain(text);
        };
        await refusedOrEnded(`skipped a bad message from pid ${session.rootProcessPid}: exited: pid ${bPid} is still running`);
        await refusedOrEnded(`skipped a bad message from pid ${a?.pid}: exited: pid ${bPid} is still running`);
        expect(session.processes().find((p) => p.pid === bPid)?.state, 'B still shows running').toBe('running');
        expect(events.filter((e) => e.type === 'exit' && e.pid === bPid)).toEqual([]);
        session.kill(bPid);
        const sent = await waitFor(session, events, (e): e is ControlEvent => e.type === 'control' && e.action === 'kill' && e.pid === bPid);
        expect(sent.ok, sent.result).toBe(true);
        const exit = await waitFor(session, events, (e): e is ExitEvent => e.type === 'exit' && e.pid === bPid);
        expect(exit.exitcode, 'the kernel says how B ended').toBe(-9);
        await outputOf(session, events, 'A forged again');
        await warningOf(session, events, `exited: pid ${bPid} is not a child of pid ${a?.pid}`);
        await session.stop();
      },
    });
    const b = r.processes().find((p) => p.name === 'B')?.pid;
    expect(r.logged.filter((e) => e.type === 'exit' && e.pid === b).map((e) => (e as ExitEvent).exitcode)).toEqual([-9]);
  });

  it("a control on a listed pid that is another process's now is not sent, and the stop leaves that process alone", async () => {
    const program = scenarioFile(
      [
        'import ctypes, multiprocessing as mp, os, subprocess, time',
        'from procscope_shim._client import client',
        '',
        'def gone():',
        '    # Its connection outlives it (a process it started holds it): nothing tells the run it ended.',
        "    subprocess.Popen(['sleep', '300'], pass_fds=(client.sock.fileno(),))",
        '    os._exit(0)',
        '',
        "if __name__ == '__main__':",
        "    x = mp.Process(target=gone, name='X')",
        '    x.start()',
        '    # Reaped behind multiprocessing and procscope (libc, not os.waitpid): no exit is reported.',
        '    ctypes.CDLL(None, use_errno=True).waitpid(x.pid, None, 0)',
        "    print('reaped', x.pid, flush=True)",
        '    time.sleep(300)',
        '',
      ].join('\n'),
      'reused.py',
    );
    await run(program, {
      during: async (session, events) => {
        const said = await waitFor(session, events, (e): e is OutputEvent => e.type === 'output' && e.text.startsWith('reaped '));
        const x = Number(said.text.slice('reaped '.length));
        // Listed at its hello, which nothing orders before main's line.
        await waitFor(session, events, (e) => e.type === 'process' && e.pid === x);
        expect(session.processes().find((p) => p.pid === x)?.state, 'the run has not seen X end').toBe('running');
        const reused = outsider('python3', ['-c', TAKE_PID, String(x)]);
        expect(await firstLine(reused), `a process outside the run got pid ${x}`).toBe(String(x));
        const start = readProcStat(x)?.starttime;
        const reusedAt = events.length;
        // Two of main's samples later, a whole tick of the sampler has read every listed pid.
        for (let n = 0; n < 2; n++) {
          const seen = events.length;
          await waitFor(session, events, (e) => e.type === 'sample' && e.pid === session.rootProcessPid && events.indexOf(e) >= seen);
        }
        expect(events.slice(reusedAt).filter((e) => e.type === 'sample' && e.pid === x), 'the process that has the pid now is not sampled as X').toEqual([]);
        session.kill(x);
        const refused = await waitFor(session, events, (e): e is ControlEvent => e.type === 'control' && e.action === 'kill' && e.pid === x);
        expect(refused.ok).toBe(false);
        expect(refused.result).toBe(`not sent: pid ${x} is no longer the process of this run`);
        // The window's way: X's Process object, whose owner would signal the pid it knows.
        const result = await session.control('kill', { pid: x });
        expect(result.ok).toBe(false);
        expect(result.text).toBe(`not sent: pid ${x} is no longer the process of this run`);
        expect(stillThere(x, start), 'the process that has the pid now is untouched').toBe(true);
        await session.stop();
        expect(stillThere(x, start), 'the stop left it alone too').toBe(true);
        // Ours to end (the run's survivor check looks at pid x too).
        const ended = once(reused, 'exit');
        process.kill(x, 'SIGKILL');
        await ended;
      },
    });
  });
});

describe("the end of a run whose main process's pid is another's now", () => {
  it("leaves alone the group that pid leads now: the run's own group is empty", async () => {
    const program = scenarioFile(
      [
        'import subprocess',
        'from procscope_shim._client import client',
        '# Keeps main\'s connection open after main exits, from outside the run\'s group: the run',
        '# then waits a moment for main\'s last words, its group already empty.',
        "holder = subprocess.Popen(['sleep', '300'], pass_fds=(client.sock.fileno(),), start_new_session=True)",
        "print('holder', holder.pid, flush=True)",
        '',
      ].join('\n'),
      'leaver.py',
    );
    let holder = 0;
    let leader: ChildProcess | null = null;
    let root = 0;
    try {
      await run(program, {
        during: async (session, events) => {
          root = session.rootProcessPid;
          const said = await waitFor(session, events, (e): e is OutputEvent => e.type === 'output' && e.text.startsWith('holder '));
          holder = Number(said.text.slice('holder '.length));
          // Main has exited and been reaped (the kernel's word; its exit is logged after the wait).
          while (readProcStat(root) !== null) await new Promise((resolve) => setImmediate(resolve));
          leader = outsider('python3', ['-c', TAKE_PID, String(root), 'leader']);
          expect(await firstLine(leader), `a process outside the run got pid ${root}`).toBe(String(root));
        },
      });
      const now = readProcStat(root);
      expect(now?.pgrp, 'it leads a group of its own').toBe(root);
      expect(alive(root) && now?.state !== 'T' && now?.state !== 't', `the end of the run left it running (state ${now?.state})`).toBe(true);
    } finally {
      if (holder > 0 && alive(holder)) process.kill(holder, 'SIGKILL');
      // Ended before the run's survivor check looks at pid `root` (its taker reaps it, then exits).
      const taker = leader as ChildProcess | null;
      if (taker && taker.exitCode === null) {
        const gone = once(taker, 'exit');
        if (alive(root)) process.kill(root, 'SIGKILL');
        await gone;
      }
    }
  });
});

/**
 * Gets pid argv[1] for a `sleep` of its own (with argv[2] 'leader', the leader of a new process
 * group), prints it, and waits for that sleep: through
 * ns_last_pid where it may be written (root), else by forking until the pid comes round. The
 * kernel's next pid is put back where it was: the other processes of the machine (other tests
 * running beside this one) are not handed recently freed pids because of it.
 */
const TAKE_PID = `
import os, sys
target = int(sys.argv[1])
leader = sys.argv[2:] == ['leader']
NS_LAST_PID = '/proc/sys/kernel/ns_last_pid'
with open('/proc/sys/kernel/pid_max') as f:
    tries = 2 * int(f.read())
with open(NS_LAST_PID) as f:
    last = f.read().strip()

def rewind(value):
    try:
        with open(NS_LAST_PID, 'w') as f:
            f.write(value)
    except OSError:
        pass

for _ in range(tries):
    rewind(str(target - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() == target:
            if leader:
                os.setsid()  # a group of its own, whose id is the pid taken
            os.execvp('sleep', ['sleep', '300'])
        os._exit(0)
    if pid == target:
        if int(last) > target:
            rewind(last)
        print(pid, flush=True)
        os.waitpid(pid, 0)
        sys.exit(0)
    os.waitpid(pid, 0)
print('pid %d never came round' % target, flush=True)
sys.exit(1)
`;
