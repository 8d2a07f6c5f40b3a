import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExitEvent, OutputEvent, RunEvent, SampleEvent } from '../../src-main/api.ts';
import type { Session } from '../../src-main/core/session.ts';
import { findInterpreters, MINORS } from '../helpers/interpreters.ts';
import { children, ofType, runPy } from '../helpers/python.ts';
import { scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';

// Processes a Python program starts outside multiprocessing: a bare os.fork() child, and a
// Python program started with subprocess (it inherits the shim through PYTHONPATH). Each is a
// process of the run with its own row, output, exit code and samples, and the window's controls
// reach it; a program that is not Python (sh, sleep) has no row and changes nothing.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A program next to `main` (the scenario's folder), by name. */
function beside(main: string, name: string, source: string[]): void {
  fs.writeFileSync(path.join(path.dirname(main), name), source.join('\n'));
}

const HERE = 'here = os.path.dirname(os.path.abspath(__file__))';

const ROWS = [
  'import os, subprocess, sys',
  HERE,
  '',
  'def fork(body):',
  '    pid = os.fork()',
  '    if pid == 0:',
  '        body()',
  '    return pid',
  '',
  'def quick():',
  "    print('fork child', os.getpid())",
  "    sys.stderr.write('fork child err\\n')",
  '    os._exit(3)',
  '',
  'def normal():',
  "    print('fork child ends normally', os.getpid())",
  '    sys.exit(4)  # through atexit, as a program ends',
  '',
  'a = fork(quick)',
  "print('reaped', os.WEXITSTATUS(os.waitpid(a, 0)[1]))",
  'b = fork(normal)',
  "print('reaped', os.WEXITSTATUS(os.wait()[1]))",
  "print('subprocess', subprocess.run([sys.executable, os.path.join(here, 'child.py'), '5']).returncode)",
  "print('sh', subprocess.run(['sh', '-c', 'echo from sh; exit 7']).returncode)",
  "print('sleep', subprocess.run(['sleep', '0.01']).returncode)",
  '',
];

const CHILD = ['import os, sys', "print('program child', os.getpid())", "sys.stderr.write('program child err\\n')", 'sys.exit(int(sys.argv[1]))', ''];

function rowsProgram(): string {
  const file = scenarioFile(ROWS.join('\n'), 'outside.py');
  beside(file, 'child.py', CHILD);
  return file;
}

function expectOwnRows(r: RunResult): void {
  expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
  expect(ofType(r, 'warning')).toEqual([]);
  const kids = children(r);
  const forks = kids.filter((p) => p.name.startsWith('fork-'));
  const program = kids.filter((p) => p.name.endsWith('child.py 5'));
  // No row for sh or sleep.
  expect(kids).toHaveLength(3);
  expect(forks.map((p) => p.name)).toEqual(forks.map((p) => `fork-${p.pid}`));
  for (const p of kids) expect(p.ppid).toBe(r.root);
  const [a, b] = forks;
  const sub = program[0];
  expect(sub.name).toMatch(/^python[0-9.]* .*child\.py 5$/);
  expect(r.stdout(a.pid)).toEqual([`fork child ${a.pid}`]);
  expect(r.stderr(a.pid)).toEqual(['fork child err']);
  expect(r.stdout(b.pid)).toEqual([`fork child ends normally ${b.pid}`]);
  expect(r.stdout(sub.pid)).toEqual([`program child ${sub.pid}`]);
  expect(r.stderr(sub.pid)).toEqual(['program child err']);
  // What the children print is theirs, not main's (sh's own output stays main's until fd-level
  // output is attributed).
  expect(r.stdout(r.root).filter((l) => !l.startsWith('from sh'))).toEqual(['reaped 3', 'reaped 4', 'subprocess 5', 'sh 7', 'sleep 0']);
  const exits = r.exits();
  expect([exits.get(a.pid), exits.get(b.pid), exits.get(sub.pid)]).toEqual([3, 4, 5]);
  // Each exit is logged before what main printed after reaping it.
  const at = (pred: (e: RunEvent) => boolean) => r.logged.findIndex(pred);
  const said = (text: string) => at((e) => e.type === 'output' && e.pid === r.root && e.text === text);
  expect(at((e) => e.type === 'exit' && e.pid === a.pid)).toBeLessThan(said('reaped 3'));
  expect(at((e) => e.type === 'exit' && e.pid === b.pid)).toBeLessThan(said('reaped 4'));
  expect(at((e) => e.type === 'exit' && e.pid === sub.pid)).toBeLessThan(said('subprocess 5'));
}

const outputOf = (s: Session, events: RunEvent[], text: string) =>
  waitFor(s, events, (e): e is OutputEvent => e.type === 'output' && e.text === text);
const sampleOf = (s: Session, events: RunEvent[], pid: number) => waitFor(s, events, (e): e is SampleEvent => e.type === 'sample' && e.pid === pid);
const exitOf = (s: Session, events: RunEvent[], pid: number) => waitFor(s, events, (e): e is ExitEvent => e.type === 'exit' && e.pid === pid);

describe('python mode: processes outside multiprocessing', () => {
  it('a bare os.fork() child and a subprocess Python child have their own rows, output and exit codes; sh and sleep have none', async () => {
    expectOwnRows(await runPy(rowsProgram()));
  });

  it('the window terminates a fork child and kills a subprocess Python child, as processes of the run sampled like any', async () => {
    const file = scenarioFile(
      [
        'import os, subprocess, sys, time',
        HERE,
        'pid = os.fork()',
        'if pid == 0:',
        "    print('fork up', flush=True)",
        '    while True:',
        '        time.sleep(1)',
        "p = subprocess.Popen([sys.executable, os.path.join(here, 'sleeper.py')])",
        'status = os.waitpid(pid, 0)[1]',
        "print('fork ended', -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))",
        "print('program ended', p.wait())",
        '',
      ].join('\n'),
      'controls.py',
    );
    beside(file, 'sleeper.py', ['import time', "print('program up', flush=True)", 'while True:', '    time.sleep(1)', '']);
    const r = await runPy(file, {
      during: async (s, events) => {
        const fork = (await outputOf(s, events, 'fork up')).pid;
        const sub = (await outputOf(s, events, 'program up')).pid;
        expect([fork, sub]).not.toContain(s.rootProcessPid);
        await sampleOf(s, events, fork);
        await sampleOf(s, events, sub);
        expect(await s.control('terminate', { pid: fork })).toMatchObject({ ok: true });
        expect((await exitOf(s, events, fork)).exitcode).toBe(-15);
        expect(await s.control('kill', { pid: sub })).toMatchObject({ ok: true });
        expect((await exitOf(s, events, sub)).exitcode).toBe(-9);
      },
    });
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.stdout(r.root)).toEqual(['fork ended -15', 'program ended -9']);
    expect(children(r).map((p) => p.name.replace(/\d+$/, 'N').replace(/^\S+ .*sleeper\.py$/, 'python sleeper.py')).sort()).toEqual(['fork-N', 'python sleeper.py']);
    expect(ofType(r, 'warning')).toEqual([]);
  });

  it('a Python started through a shell (shell=True, os.system) is listed under that shell, which is listed too', async () => {
    const file = scenarioFile(
      [
        'import os, subprocess, sys',
        HERE,
        "child = '%s %s' % (sys.executable, os.path.join(here, 'child.py'))",
        "print('shell', subprocess.run(child + ' 6; exit 16', shell=True).returncode)",
        "print('system', os.WEXITSTATUS(os.system(child + ' 7; exit 17')))",
        '',
      ].join('\n'),
      'shell.py',
    );
    beside(file, 'child.py', CHILD);
    const r = await runPy(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(ofType(r, 'warning')).toEqual([]);
    expect(r.stdout(r.root)).toEqual(['shell 16', 'system 17']);
    const kids = children(r);
    const shells = kids.filter((p) => p.name.startsWith('sh -c '));
    expect(shells.map((s) => s.ppid)).toEqual([r.root, r.root]);
    expect(shells[0].name).toMatch(/^sh -c \S*python\S* \S*child\.py 6; exit 16$/);
    const pythons = kids.filter((p) => p.name.startsWith('python'));
    expect(pythons.map((p) => p.ppid)).toEqual(shells.map((s) => s.pid));
    expect(pythons.map((p) => r.stdout(p.pid))).toEqual(pythons.map((p) => [`program child ${p.pid}`]));
    expect(kids).toHaveLength(4);
    // Main reaps the shell of subprocess.run (os.system reaps in C, unseen): its code is known.
    expect(r.exits().get(shells[0].pid)).toBe(16);
  });

  it("a fork child that execs a Python keeps its fork-<pid> row and exit code; os.spawnv's Python is a program child", async () => {
    const file = scenarioFile(
      [
        'import os, sys',
        HERE,
        "argv = [sys.executable, os.path.join(here, 'child.py')]",
        'pid = os.fork()',
        'if pid == 0:',
        "    os.execv(sys.executable, argv + ['8'])",
        "print('fork-exec', os.WEXITSTATUS(os.waitpid(pid, 0)[1]))",
        "print('spawnv', os.spawnv(os.P_WAIT, sys.executable, argv + ['9']))",
        '',
      ].join('\n'),
      'exec.py',
    );
    beside(file, 'child.py', CHILD);
    const r = await runPy(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(ofType(r, 'warning')).toEqual([]);
    const [forked, spawned] = children(r);
    expect(children(r)).toHaveLength(2);
    expect(forked.name).toBe(`fork-${forked.pid}`);
    expect(spawned.name).toMatch(/^python\S* \S*child\.py 9$/);
    expect(r.stdout(spawned.pid)).toEqual([`program child ${spawned.pid}`]);
    expect([r.exits().get(forked.pid), r.exits().get(spawned.pid)]).toEqual([8, 9]);
  });

  it('what a child writes to a pipe its parent reads stays in that pipe: capture_output, a fork child that dup2()s', async () => {
    const file = scenarioFile(
      [
        'import os, subprocess, sys',
        HERE,
        "r = subprocess.run([sys.executable, os.path.join(here, 'child.py'), '5'], capture_output=True, text=True)",
        "print('captured', r.stdout.split()[:2], r.stderr.strip(), r.returncode)",
        "r = subprocess.run([sys.executable, os.path.join(here, 'spawner.py')], stdout=subprocess.PIPE, text=True)",
        "print('captured', r.stdout.splitlines())",
        'rfd, wfd = os.pipe()',
        'pid = os.fork()',
        'if pid == 0:',
        '    os.close(rfd)',
        '    os.dup2(wfd, 1)',
        "    print('through the pipe', flush=True)",
        "    sys.stderr.write('fork err\\n')",
        '    os._exit(0)',
        'os.close(wfd)',
        'with os.fdopen(rfd) as f:',
        "    print('read', repr(f.read()))",
        'os.waitpid(pid, 0)',
        '',
      ].join('\n'),
      'pipes.py',
    );
    beside(file, 'child.py', CHILD);
    beside(file, 'spawner.py', [
      'import multiprocessing as mp',
      '',
      'def hello():',
      "    print('spawned child', flush=True)",
      '',
      "if __name__ == '__main__':",
      "    p = mp.get_context('spawn').Process(target=hello)",
      '    p.start()',
      '    p.join()',
      "    print('spawner done')",
      '',
    ]);
    const r = await runPy(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(ofType(r, 'warning')).toEqual([]);
    expect(r.stdout(r.root)).toEqual([
      "captured ['program', 'child'] program child err 5",
      "captured ['spawned child', 'spawner done']",
      "read 'through the pipe\\n'",
    ]);
    const [program, spawner, spawned, forked] = children(r);
    expect(children(r)).toHaveLength(4);
    expect(program.name).toMatch(/child\.py 5$/);
    expect(spawner.name).toMatch(/spawner\.py$/);
    expect(spawned).toMatchObject({ name: 'SpawnProcess-1', ppid: spawner.pid });
    expect(forked.name).toBe(`fork-${forked.pid}`);
    expect([program, spawner, spawned, forked].map((p) => r.stdout(p.pid))).toEqual([[], [], [], []]);
    expect(r.stderr(program.pid)).toEqual([]);
    // Its stderr is still the run's.
    expect(r.stderr(forked.pid)).toEqual(['fork err']);
  });

  it('a fork child its parent never reaps: its end is read from the kernel', async () => {
    const file = scenarioFile(
      ['import os, signal, time', 'pid = os.fork()', 'if pid == 0:', "    print('doomed', flush=True)", '    os.kill(os.getpid(), signal.SIGKILL)', 'time.sleep(300)', ''].join('\n'),
      'zombie.py',
    );
    const r = await runPy(file, {
      during: async (s, events) => {
        const pid = (await outputOf(s, events, 'doomed')).pid;
        expect((await exitOf(s, events, pid)).exitcode).toBe(-9);
        await s.stop();
      },
    });
    expect(children(r).map((p) => p.name)).toEqual([`fork-${children(r)[0].pid}`]);
  });

  it("a subprocess Python that uses multiprocessing: its children are listed under it, multiprocessing's own helpers are not", async () => {
    const file = scenarioFile(
      ['import os, subprocess, sys', HERE, "print('done', subprocess.run([sys.executable, os.path.join(here, 'pool.py')]).returncode)", ''].join('\n'),
      'nested.py',
    );
    beside(file, 'pool.py', [
      'import multiprocessing as mp, os',
      '',
      'def hello(tag):',
      "    print('grandchild', tag)",
      '',
      "if __name__ == '__main__':",
      "    for method in ('spawn', 'forkserver'):",
      '        p = mp.get_context(method).Process(target=hello, args=(method,))',
      '        p.start()',
      '        p.join()',
      '    pid = os.fork()',
      '    if pid == 0:',
      "        print('forked grandchild')",
      '        os._exit(2)',
      "    print('grandchildren', os.WEXITSTATUS(os.waitpid(pid, 0)[1]))",
      '',
    ]);
    const r = await runPy(file);
    expect(r.summary.end, r.stderr().join('\n')).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(ofType(r, 'warning')).toEqual([]);
    expect(r.stdout(r.root)).toEqual(['done 0']);
    const program = children(r).find((p) => p.name.endsWith('pool.py'));
    if (!program) throw new Error('no row for pool.py');
    expect(program.ppid).toBe(r.root);
    const grandchildren = children(r).filter((p) => p.ppid === program.pid);
    // Two Process objects and one bare fork; no row for the resource tracker or the forkserver.
    expect(children(r)).toHaveLength(4);
    expect(grandchildren.map((p) => p.name.replace(/\d+$/, 'N'))).toEqual(['SpawnProcess-N', 'ForkServerProcess-N', 'fork-N']);
    expect(grandchildren.map((p) => r.stdout(p.pid))).toEqual([['grandchild spawn'], ['grandchild forkserver'], ['forked grandchild']]);
    expect(r.stdout(program.pid)).toEqual(['grandchildren 2']);
    expect(grandchildren.map((p) => r.exits().get(p.pid))).toEqual([0, 0, 2]);
  });

  // On every CPython present (3.8 and 3.9 have no sys.orig_argv: /proc/self/cmdline says which
  // interpreters are multiprocessing's own).
  const interpreters = findInterpreters();
  for (const minor of MINORS) {
    const exe = interpreters.get(minor);
    it.skipIf(!exe)(`3.${minor}: the same rows, output and exit codes${exe ? '' : ' (not installed here)'}`, async () => {
      expectOwnRows(await runPy(rowsProgram(), { python: exe }));
    });
  }
});
