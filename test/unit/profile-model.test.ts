// What the window, the CLI and the exports read from a profile: samples selected by process, range
// and CPU share; the call tree merged by function with its hottest lines; self and total times;
// the groups of processes that do the same work; the wait table; and the flame graph's boxes.

import { describe, expect, it } from 'vitest';
import type { ProfileFrame, RunEvent } from '../../src-main/api.ts';
import { ROOT, buildCallTree, topFunctions } from '../../src-main/common/profile/call-tree.ts';
import { ProfileData } from '../../src-main/common/profile/profile-data.ts';
import { entryFunctions, nameStem, processGroups } from '../../src-main/common/profile/process-groups.ts';
import { WaitTable } from '../../src-main/common/profile/wait-table.ts';
import { hitTest, layoutFlame, matchedTotal, matchingFunctions } from '../../src-renderer/lib/profile/flame-layout.ts';

// Frames: 0 <module>, 1 worker (library), 2 burn line 5, 3 burn line 6, 4 wait (library), 5 rec
const FRAMES: ProfileFrame[] = [
  ['<module>', '/p/a.py', 20, 0],
  ['worker', '/lib/pool.py', 100, 1],
  ['burn', '/p/a.py', 5, 0],
  ['burn', '/p/a.py', 6, 0],
  ['wait', '/lib/threading.py', 300, 1],
  ['rec', '/p/a.py', 9, 0],
];
// Stacks: 0 <module>; 1 <module>>burn@5; 2 <module>>burn@6; 3 worker; 4 worker>burn@5; 5 worker>wait;
// 6 <module>>rec; 7 <module>>rec>rec
const STACKS: [number, number][] = [
  [-1, 0],
  [0, 2],
  [0, 3],
  [-1, 1],
  [3, 2],
  [3, 4],
  [0, 5],
  [6, 5],
];

function data(samples: { pid: number; at: number; stacks: number[]; cpu: string }[], hz = 100): ProfileData {
  const d = new ProfileData();
  const events: RunEvent[] = [
    { t: 0, type: 'run', version: 1, scenario: 'a.py', startedAt: '', interval: 100, cwd: '/p', profile: { hz } },
    { t: 0, type: 'frames', first: 0, frames: FRAMES },
    { t: 0, type: 'stacks', first: 0, stacks: STACKS },
    ...samples.map(
      (s): RunEvent => ({ t: s.at, type: 'samples', pid: s.pid, thread: 'MainThread', dt: s.stacks.map((_, i) => (i === 0 ? 0 : 10_000)), stacks: s.stacks, cpu: s.cpu }),
    ),
  ];
  for (const e of events) d.ingest(e);
  return d;
}

describe('a profile', () => {
  it('merges lines into functions, keeps the hottest line, and splits self from total', () => {
    // main: burn@5 x2, burn@6 x1, <module> x1 ; a sample is 10 ms
    const d = data([{ pid: 1, at: 100, stacks: [1, 1, 2, 0], cpu: '9999' }]);
    const tree = buildCallTree(d, { pids: null, range: null, onCpu: false });
    expect(tree.total[ROOT]).toBeCloseTo(40);
    const top = topFunctions(tree);
    expect(top.map((f) => [f.name, Math.round(f.self), Math.round(f.total), f.line])).toEqual([
      ['burn', 30, 30, 5],
      ['<module>', 10, 40, 20],
    ]);
  });

  it('weighs on-CPU samples by their share of the CPU, and selects processes and a range', () => {
    const d = data([
      { pid: 1, at: 100, stacks: [1, 1, 1, 1], cpu: '9900' },
      { pid: 2, at: 100, stacks: [4, 5, 5, 4], cpu: '9009' },
    ]);
    const cpu = buildCallTree(d, { pids: null, range: null, onCpu: true });
    expect(cpu.total[ROOT]).toBeCloseTo(40);
    const wall = buildCallTree(d, { pids: null, range: null, onCpu: false });
    expect(wall.total[ROOT]).toBeCloseTo(80);
    const only2 = buildCallTree(d, { pids: new Set([2]), range: null, onCpu: false });
    expect(topFunctions(only2).find((f) => f.name === 'wait')?.self).toBeCloseTo(20);
    // Samples at 100, 110, 120, 130 ms: the range 105..125 keeps the middle two of each.
    const range = buildCallTree(d, { pids: null, range: { from: 105, to: 125 }, onCpu: false });
    expect(range.total[ROOT]).toBeCloseTo(40);
    const half = buildCallTree(d, { pids: null, range: null, onCpu: true });
    expect(topFunctions(half)[0]).toMatchObject({ name: 'burn' });
  });

  it('counts a recursive function once per sample in its total', () => {
    const d = data([{ pid: 1, at: 100, stacks: [7, 7], cpu: '99' }]);
    const rec = topFunctions(buildCallTree(d, { pids: null, range: null, onCpu: false })).find((f) => f.name === 'rec');
    expect(rec?.total).toBeCloseTo(20);
    expect(rec?.self).toBeCloseTo(20);
  });

  it('groups the processes of one parent doing the same work, and names their entry function', () => {
    const d = data([
      { pid: 11, at: 100, stacks: [4, 4], cpu: '99' },
      { pid: 12, at: 100, stacks: [4, 5], cpu: '90' },
      { pid: 13, at: 100, stacks: [5, 5], cpu: '00' },
      { pid: 1, at: 100, stacks: [1], cpu: '9' },
    ]);
    expect(nameStem('ForkPoolWorker-12')).toBe('ForkPoolWorker');
    expect(nameStem('Process-1:2')).toBe('Process-1:2');
    expect(entryFunctions(d).get(11)).toBe('burn');
    expect(entryFunctions(d).get(13)).toBeUndefined();
    const groups = processGroups(
      [
        { pid: 1, ppid: 0, name: 'MainProcess' },
        { pid: 11, ppid: 1, name: 'ForkPoolWorker-1' },
        { pid: 12, ppid: 1, name: 'ForkPoolWorker-2' },
        { pid: 13, ppid: 1, name: 'ForkPoolWorker-3' },
      ],
      d,
    );
    // The worker that never ran the program's code still joins its siblings.
    expect(groups).toEqual([{ key: expect.any(String), stem: 'ForkPoolWorker', ppid: 1, entry: 'burn', pids: [11, 12, 13] }]);
  });
});

describe('the flame graph', () => {
  const d = data([
    { pid: 1, at: 100, stacks: [1, 1, 2, 0], cpu: '9999' },
    { pid: 2, at: 100, stacks: [4, 5, 5, 5], cpu: '9999' },
  ]);
  const tree = buildCallTree(d, { pids: null, range: null, onCpu: false });

  it('lays out the icicle heaviest first, children within their parent, and finds a box by position', () => {
    const lay = layoutFlame(tree);
    expect(lay.total).toBeCloseTo(80);
    const name = (i: number) => (lay.node[i] === ROOT ? 'all' : tree.functions[tree.func[lay.node[i]]].name);
    expect(lay.rows.length).toBe(3);
    expect(lay.rows[1].map((i) => [name(i), lay.x[i], lay.w[i]])).toEqual([
      ['<module>', 0, 0.5],
      ['worker', 0.5, 0.5],
    ]);
    expect(lay.rows[2].map((i) => name(i))).toEqual(['burn', 'wait', 'burn']);
    expect(name(hitTest(lay, 0.6, 2))).toBe('wait');
    expect(hitTest(lay, 0.4, 3)).toBe(-1);
  });

  it('zoomed to a box, keeps its callers on top and fills the width with it', () => {
    const worker = tree.children[ROOT].find((n) => tree.functions[tree.func[n]].name === 'worker') as number;
    const lay = layoutFlame(tree, worker);
    expect(lay.total).toBeCloseTo(40);
    expect(lay.rows[0].map((i) => lay.node[i])).toEqual([ROOT]);
    expect(lay.rows[1].map((i) => [lay.node[i], lay.x[i], lay.w[i]])).toEqual([[worker, 0, 1]]);
    expect(lay.rows[2].map((i) => lay.w[i])).toEqual([0.75, 0.25]);
  });

  it('leaves out boxes too narrow to see, and finds what a search matches, each sample once', () => {
    expect(layoutFlame(tree, ROOT, 0.2).rows[2].length).toBe(2);
    const burn = matchingFunctions(tree, 'BURN');
    expect(burn.size).toBe(1);
    expect(matchedTotal(tree, burn)).toBeCloseTo(40);
    // <module> (all of pid 1's 40 ms) and the burn under pid 2's worker (10 ms).
    expect(matchedTotal(tree, matchingFunctions(tree, 'a.py'))).toBeCloseTo(50);
    expect(matchingFunctions(tree, '  ').size).toBe(0);
  });
});

describe('the wait table', () => {
  it('sums waits per call site and object, counting waits never ended to their exit or to now', () => {
    const t = new WaitTable();
    const site = { file: '/p/a.py', line: 7, func: 'consumer' };
    const events: RunEvent[] = [
      { t: 10, type: 'wait', op: 'begin', pid: 5, wait: 1, kind: 'get', object: 'queue-1-1', site },
      { t: 30, type: 'wait', op: 'end', pid: 5, wait: 1 },
      { t: 40, type: 'wait', op: 'begin', pid: 6, wait: 1, kind: 'get', object: 'queue-1-1', site },
      { t: 50, type: 'wait', op: 'begin', pid: 5, wait: 2, kind: 'get', object: 'queue-1-1', site },
      { t: 90, type: 'exit', pid: 6, exitcode: -15 },
      { t: 55, type: 'wait', op: 'begin', pid: 5, wait: 3, kind: 'acquire', object: 'lock-1-2', site: { ...site, line: 9 } },
      { t: 65, type: 'wait', op: 'end', pid: 5, wait: 3, timeout: true },
    ];
    for (const e of events) t.ingest(e);
    const rows = t.table(100);
    expect(rows.map((r) => [r.kind, r.object, r.count, r.total, r.longest, r.longestPid, r.open, r.timeouts])).toEqual([
      ['get', 'queue-1-1', 3, 20 + 50 + 50, 50, 6, 2, 0],
      ['acquire', 'lock-1-2', 1, 10, 10, 5, 0, 1],
    ]);
    expect(rows[0].pids).toEqual([5, 6]);
  });
});
