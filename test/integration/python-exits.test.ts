import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExitEvent, WarningEvent } from '../../src-main/api.ts';
import { scenarioFile, tmpRoot } from '../helpers/run.ts';
import { children, ofType, python, runPy } from '../helpers/python.ts';

// How Python processes end, as real test suites end them, and what the run says about it: the
// run's error is the main process's own uncaught exception only; every exit code is Python's;
// and whatever a process is called or exits with, the shim sends only records the monitor takes.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const malformed = (warnings: WarningEvent[]) => warnings.filter((w) => w.message.includes('malformed') || w.message.includes('dropped a connection'));

describe('python mode: how processes end', () => {
  it('sys.excepthook called by the program for an exception it caught is not the run\'s error', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import sys',
        '',
        'def report_caught():',
        '    try:',
        "        raise KeyError('in a child')",
        '    except KeyError:',
        '        sys.excepthook(*sys.exc_info())  # a forked child inherits the hook',
        '',
        "if __name__ == '__main__':",
        '    try:',
        "        raise ValueError('caught by a test runner')",
        '    except ValueError:',
        '        sys.excepthook(*sys.exc_info())  # as unittest and pytest plugins do',
        "    p = mp.get_context('fork').Process(target=report_caught)",
        '    p.start()',
        '    p.join()',
        "    print('main ends well', p.exitcode)",
        '',
      ].join('\n'),
      'excepthook.py',
    );
    const r = await runPy(file);
    expect(r.summary.end).toMatchObject({ reason: 'finished', exitcode: 0 });
    expect(r.summary.end.error).toBeUndefined();
    expect(r.stdout(r.root)).toEqual(['main ends well 0']);
    // Python printed both tracebacks where it always does.
    expect(r.stderr(r.root)).toContain('ValueError: caught by a test runner');
    expect(r.stderr(children(r)[0].pid)).toContain("KeyError: 'in a child'");
    expect(ofType(r, 'warning'), 'the child\'s call is no warning either').toEqual([]);
  });

  it('an uncaught exception in main is still the run\'s error, with its one line', async () => {
    const r = await runPy(scenarioFile("import sys\nsys.stdout.write('x\\n')\nraise RuntimeError('main fell over')\n", 'uncaught.py'));
    expect(r.summary.end).toMatchObject({ reason: 'error', exitcode: 1, error: 'RuntimeError: main fell over' });
  });

  it("children ending with sys.exit('text'), a list, True, 256 or -1 get Python's exit codes, and their connections are kept", async () => {
    const source = [
      'import multiprocessing as mp',
      'import sys',
      '',
      'def end(code):',
      '    sys.exit(code)',
      '',
      "if __name__ == '__main__':",
      "    codes = ['some text', [1, 2, 3], True, 256, -1, None, 7]",
      '    for method in ("fork", "spawn"):',
      '        ctx = mp.get_context(method)',
      '        for code in codes:',
      '            p = ctx.Process(target=end, args=(code,))',
      '            p.start()',
      '            p.join()',
      "            print(method, repr(code), p.exitcode)",
      '',
    ].join('\n');
    const file = scenarioFile(source, 'exits.py');
    const plain = spawnSync(python, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(plain.status, plain.stderr).toBe(0);
    const r = await runPy(file);
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root), 'the script sees what it sees without procscope').toEqual(plain.stdout.trim().split('\n'));
    expect(malformed(ofType(r, 'warning')), 'no connection dropped').toEqual([]);
    const kids = children(r);
    expect(kids).toHaveLength(14);
    const codes = kids.map((k) => ofType(r, 'exit').find((e: ExitEvent) => e.pid === k.pid)?.exitcode);
    const expected = plain.stdout.trim().split('\n').map((l) => Number(l.split(' ').at(-1)));
    expect(codes, "each child's exit code is Python's own p.exitcode").toEqual(expected);
    expect(expected.slice(0, 7)).toEqual([1, 1, 1, 0, 255, 0, 7]);
    // Python prints a text or a list it exits with on the child's stderr.
    expect(r.stderr(kids[0].pid)).toEqual(['some text']);
    expect(r.stderr(kids[1].pid)).toEqual(['[1, 2, 3]']);
  });

  it('names a JavaScript string counts longer than Python does (emoji, undecodable bytes) are cut to fit, not refused', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        'import os',
        '',
        'def noop():',
        '    pass',
        '',
        "if __name__ == '__main__':",
        "    names = ['\\U0001F600' * 200, os.fsdecode(b'\\xff\\xfe') * 100, 'plain']",
        '    for name in names:',
        '        p = mp.Process(target=noop, name=name)',
        '        p.start()',
        '        p.join()',
        "    print('done')",
        '',
      ].join('\n'),
      'names.py',
    );
    const r = await runPy(file);
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(malformed(ofType(r, 'warning'))).toEqual([]);
    const names = children(r).map((p) => p.name);
    expect(names).toHaveLength(3);
    expect(names[0]).toBe('\u{1F600}'.repeat(128));
    expect(names[1].length).toBeLessThanOrEqual(256);
    expect(names[1].startsWith('\\udcff\\udcfe')).toBe(true);
    expect(names[2]).toBe('plain');
  });
});
