import { describe, expect, it } from 'vitest';
import type { StackFrame } from '../../../src-main/api.ts';
import { en } from '../../../src-renderer/i18n/en.ts';
import { zh } from '../../../src-renderer/i18n/zh.ts';
import {
  colorsByPid,
  foldFrames,
  hasLibFrames,
  isPythonFile,
  orderLikeRows,
  readStacks,
  stackErrorKey,
  stacksUnavailable,
} from '../../../src-renderer/lib/stacks.ts';

const frame = (over: Partial<StackFrame> = {}): StackFrame => ({ file: '/home/me/shop.py', line: 12, func: 'buy', code: 'lock.acquire()', lib: false, ...over });


describe('when stacks can be captured', () => {
  it('only for a live run that is running', () => {
    expect(stacksUnavailable({ viewMode: 'live', phase: 'running', hasRun: true })).toBe(null);
    // A run adopted before its first events arrived is running all the same.
    expect(stacksUnavailable({ viewMode: 'live', phase: 'running', hasRun: false })).toBe(null);
  });

  it('says why not otherwise', () => {
    expect(stacksUnavailable({ viewMode: 'live', phase: 'idle', hasRun: false })).toBe('idle');
    expect(stacksUnavailable({ viewMode: 'live', phase: 'starting', hasRun: false })).toBe('starting');
    for (const phase of ['finished', 'stopped', 'timeout', 'error', 'incomplete']) {
      expect(stacksUnavailable({ viewMode: 'live', phase, hasRun: true }), phase).toBe('ended');
    }
    // A start that failed had no run: nothing ended.
    expect(stacksUnavailable({ viewMode: 'live', phase: 'error', hasRun: false })).toBe('idle');
    // A replay never captures, even of a run whose log has no end (the engine would answer for another run).
    expect(stacksUnavailable({ viewMode: 'past', phase: 'incomplete', hasRun: true })).toBe('replay');
    expect(stacksUnavailable({ viewMode: 'past', phase: 'running', hasRun: true })).toBe('replay');
  });
});

describe('reading an answer', () => {
  it('takes a well-formed answer as it is', () => {
    const answer = [
      { pid: 10, name: 'MainProcess', threads: [{ name: 'MainThread', frames: [frame({ func: '<module>', line: 30, code: 'main()' }), frame()] }] },
      { pid: 11, name: 'Process-1', threads: [], error: 'typescript' },
    ];
    expect(readStacks(answer)).toEqual(answer);
  });

  it('is null when the engine answered no list (it does not know the command)', () => {
    expect(readStacks(null)).toBe(null);
    expect(readStacks(undefined)).toBe(null);
    expect(readStacks({ pid: 1 })).toBe(null);
    expect(readStacks([])).toEqual([]);
  });

  it('drops what has no pid and fills in the rest, never throws', () => {
    const got = readStacks([
      null,
      { name: 'no pid' },
      { pid: 1.5 },
      { pid: 7 },
      { pid: 8, name: 'P', threads: [null, { frames: [{ line: 'x' }, 3, { file: 'a.py', line: 2, func: 'f', code: 'x = 1', lib: 'yes' }] }] },
      { pid: 9, name: 'Q', threads: 'none', error: '' },
      { pid: 7, name: 'again' },
    ]);
    expect(got).toEqual([
      { pid: 7, name: '7', threads: [] },
      {
        pid: 8,
        name: 'P',
        threads: [
          {
            name: '?',
            frames: [
              { file: '?', line: 0, func: '?', code: '', lib: false },
              { file: 'a.py', line: 2, func: 'f', code: 'x = 1', lib: false },
            ],
          },
        ],
      },
      { pid: 9, name: 'Q', threads: [] },
    ]);
  });
});

describe('process errors', () => {
  it('each code the contract names has a message in both languages', () => {
    for (const code of ['typescript', 'no-answer', 'not-connected']) {
      const key = stackErrorKey(code);
      expect(key, code).not.toBe(null);
      expect(en[key!]).toBeTruthy();
      expect(zh[key!]).toBeTruthy();
    }
  });

  it('a code this window does not know is shown as it came', () => {
    expect(stackErrorKey('exploded')).toBe(null);
    expect(stackErrorKey('toString')).toBe(null);
  });
});

describe('processes as the table shows them', () => {
  const rows = [
    { pid: 10, color: 'blue', state: 'running' },
    { pid: 11, color: 'orange', state: 'exited' },
    { pid: null, color: 'green', state: 'created' },
    { pid: 12, color: 'rose', state: 'running' },
    // pid 11 reused by a later process that still runs
    { pid: 11, color: 'violet', state: 'running' },
  ];

  it('colors each pid as its row, a reused pid as the row still running', () => {
    const c = colorsByPid(rows);
    expect(c.get(10)).toBe('blue');
    expect(c.get(11)).toBe('violet');
    expect(c.get(12)).toBe('rose');
    expect(c.size).toBe(3);
    expect(colorsByPid([{ pid: 5, color: 'a', state: 'running' }, { pid: 5, color: 'b', state: 'exited' }]).get(5)).toBe('a');
    expect(colorsByPid([{ pid: 5, color: 'a', state: 'exited' }, { pid: 5, color: 'b', state: 'exited' }]).get(5)).toBe('b');
  });

  it('orders processes like the rows, unknown pids last in the order they came', () => {
    const stacks = [{ pid: 99 }, { pid: 12 }, { pid: 98 }, { pid: 10 }];
    expect(orderLikeRows(stacks, rows).map((s) => s.pid)).toEqual([10, 12, 99, 98]);
    expect(orderLikeRows(stacks, []).map((s) => s.pid)).toEqual([99, 12, 98, 10]);
  });
});

describe('frame lines', () => {
  it('colours only Python files as Python', () => {
    expect(isPythonFile('/usr/lib/python3.11/multiprocessing/queues.py')).toBe(true);
    expect(isPythonFile('tool.PYW')).toBe(true);
    expect(isPythonFile('<string>')).toBe(false);
    expect(isPythonFile('worker.ts')).toBe(false);
  });
});

describe('folding library frames', () => {
  const user = (func: string) => frame({ func, lib: false });
  const lib = (func: string) => frame({ func, file: '/usr/lib/python3.11/multiprocessing/x.py', lib: true });
  const shape = (items: ReturnType<typeof foldFrames>) =>
    items.map((i) => (i.kind === 'folded' ? `[${i.count} from ${i.from}]` : `${i.frame.func}@${i.at}${i.innermost ? '*' : ''}`));

  it('folds each run of two or more library frames, never the innermost', () => {
    // A forked child: the parent's start() chain, the target, then queue.get() down to the read.
    const frames = [user('<module>'), lib('start'), lib('_Popen'), lib('_launch'), user('consumer'), lib('get'), lib('recv_bytes'), lib('_recv')];
    expect(shape(foldFrames(frames, false))).toEqual(['<module>@0', '[3 from 1]', 'consumer@4', '[2 from 5]', '_recv@7*']);
    expect(shape(foldFrames(frames, true))).toEqual(['<module>@0', 'start@1', '_Popen@2', '_launch@3', 'consumer@4', 'get@5', 'recv_bytes@6', '_recv@7*']);
  });

  it('leaves a lone library frame as it is: its fold would take the same line', () => {
    expect(shape(foldFrames([user('main'), lib('join'), user('cb'), lib('wait')], false))).toEqual(['main@0', 'join@1', 'cb@2', 'wait@3*']);
  });

  it('a thread all in the library keeps its innermost frame', () => {
    expect(shape(foldFrames([lib('_bootstrap'), lib('run'), lib('_feed'), lib('wait')], false))).toEqual(['[3 from 0]', 'wait@3*']);
    expect(shape(foldFrames([lib('a'), lib('b')], false))).toEqual(['a@0', 'b@1*']);
    expect(shape(foldFrames([lib('only')], false))).toEqual(['only@0*']);
    expect(foldFrames([], false)).toEqual([]);
  });

  it('knows whether a capture has library frames at all', () => {
    const p = (frames: StackFrame[]) => ({ pid: 1, name: 'P', threads: [{ name: 'MainThread', frames }] });
    expect(hasLibFrames([p([user('main')])])).toBe(false);
    expect(hasLibFrames([p([user('main')]), p([lib('wait')])])).toBe(true);
    expect(hasLibFrames([{ pid: 2, name: 'Q', threads: [], error: 'typescript' }])).toBe(false);
  });
});
