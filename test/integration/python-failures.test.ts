import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent } from '../../src-main/api.ts';
import { run, scenarioFile, tmpRoot } from '../helpers/run.ts';
import { python } from '../helpers/python.ts';

// Python mode never crashes on a program it cannot fully follow: the program runs and is shown,
// and what procscope could not do is a warning in the log.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

describe('python mode: programs it cannot fully follow', () => {
  it('a failing import: the run ends with the error, its output before it is logged', async () => {
    const r = await run(scenarioFile("print('before')\nimport no_such_module_here\n", 'imports.py'), { python });
    expect(r.summary.end.reason).toBe('error');
    expect(r.summary.end.error).toBe("ModuleNotFoundError: No module named 'no_such_module_here'");
    expect(r.stdout(r.root)).toEqual(['before']);
    expect(r.summary.end.exitcode).toBe(1);
  });

  it('a process that dies holding a Lock: the lock is reported abandoned and stays held', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import os',
        '',
        'def grab(lock):',
        '    lock.acquire()',
        "    print('holding', flush=True)",
        '    os._exit(3)  # dies without releasing',
        '',
        "if __name__ == '__main__':",
        '    lock = mp.Lock()',
        '    p = mp.Process(target=grab, args=(lock,))',
        '    p.start()',
        '    p.join()',
        "    print('child exit', p.exitcode)",
        "    print('main got it', lock.acquire(timeout=0.2))",
        '',
      ].join('\n'),
      'abandon.py',
    );
    const r = await run(file, { python });
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['child exit 3', 'main got it False']);
    const [child] = r.processes().filter((p) => p.pid !== r.root);
    expect(r.stdout(child.pid)).toEqual(['holding']);
    const locks = r.logged.filter((e): e is LockEvent => e.type === 'lock');
    const ops = locks.map((e) => `${e.op}:${e.pid === r.root ? 'main' : 'child'}`);
    // The child's end is noticed when its connection closes, which under load may be after
    // main's request: only the child's own order is fixed.
    expect(ops.filter((o) => o.endsWith(':child'))).toEqual(['request:child', 'acquire:child', 'abandoned:child']);
    expect(ops.filter((o) => o.endsWith(':main'))).toEqual(['create:main', 'request:main', 'timeout:main']);
    const abandoned = locks.find((e) => e.op === 'abandoned');
    expect(abandoned?.holder, 'as in Python, the dead holder still holds it').toBe(child.pid);
    expect(r.summary.locks).toEqual([expect.objectContaining({ holder: child.pid, abandoned: true })]);
  });

  it('a start method procscope does not know: the process still runs and is shown, with a warning', async () => {
    // A context of the script's own making whose Popen says its method is 'mine'.
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'from multiprocessing import context, popen_spawn_posix',
        '',
        'class MinePopen(popen_spawn_posix.Popen):',
        "    method = 'mine'",
        '',
        'class MineProcess(context.SpawnProcess):',
        '    @staticmethod',
        '    def _Popen(process_obj):',
        '        return MinePopen(process_obj)',
        '',
        'def hello():',
        "    print('hello from mine')",
        '',
        "if __name__ == '__main__':",
        '    p = MineProcess(target=hello)',
        '    p.start()',
        '    p.join()',
        "    print('exitcode', p.exitcode)",
        '',
      ].join('\n'),
      'mine.py',
    );
    const r = await run(file, { python });
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['exitcode 0']);
    const kids = r.processes().filter((p) => p.pid !== r.root);
    expect(kids).toHaveLength(1);
    expect(r.stdout(kids[0].pid)).toEqual(['hello from mine']);
    const warnings = r.logged.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.message : ''));
    expect(warnings.some((w) => w.includes("'mine'")), warnings.join('\n')).toBe(true);
  });
});
