import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent, RunEvent } from '../../src-main/api.ts';
import { runPy } from '../helpers/python.ts';
import { run, scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';

// The orderings docs/run-log.md guarantees, each on real processes of both runtimes. Every
// process reports on its own connection; the broker's sequencer puts the log in causal order.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const indexOf = (r: RunResult, pred: (e: RunEvent) => boolean): number => r.logged.findIndex(pred);
const processAt = (r: RunResult, pid: number) => indexOf(r, (e) => e.type === 'process' && e.pid === pid);
const exitAt = (r: RunResult, pid: number) => indexOf(r, (e) => e.type === 'exit' && e.pid === pid);
const kids = (r: RunResult) => r.processes().filter((p) => p.pid !== r.root);

/** Problems with "a child's `process` line comes before anything else about it", one per child. */
function listedFirst(r: RunResult): string[] {
  const listed = new Set<number>([r.root]);
  const late: string[] = [];
  for (const e of r.logged) {
    if (e.type === 'process') listed.add(e.pid);
    else if ((e.type === 'output' || e.type === 'exit' || e.type === 'queue' || e.type === 'lock' || e.type === 'sample') && !listed.has(e.pid)) {
      late.push(`${e.type} of ${e.pid} before its process line`);
    }
  }
  return late;
}

const JOIN_IN_LOOP_TS = `
import { Process } from 'procscope';
export function foo(n: number): void {
  for (let i = 0; i < 20; i++) console.log('child', n, i);
}
export default async function main(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const p = new Process({ target: foo, args: [i] });
    p.start();
    await p.join();
  }
  console.log('main done');
}
`;

const JOIN_IN_LOOP_PY = [
  'import multiprocessing as mp',
  '',
  'def foo(n):',
  '    for i in range(20):',
  "        print('child', n, i)",
  '',
  "if __name__ == '__main__':",
  "    for method in ('fork', 'spawn'):",
  '        ctx = mp.get_context(method)',
  '        for i in range(3):',
  '            p = ctx.Process(target=foo, args=(i,))',
  '            p.start()',
  '            p.join()',
  "    print('main done')",
  '',
].join('\n');

describe('ordering: a child started after its parent joined a sibling comes after that sibling’s exit', () => {
  it.each([
    ['TypeScript', () => run(scenarioFile(JOIN_IN_LOOP_TS))],
    ['Python', () => runPy(scenarioFile(JOIN_IN_LOOP_PY, 'join_loop.py'))],
  ])('%s: each child is listed after the previous one’s exit, and its lines come between', async (_runtime, go) => {
    const r = await go();
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const children = kids(r);
    expect(children.length, 'every child started is listed').toBeGreaterThanOrEqual(3);
    for (let i = 1; i < children.length; i++) {
      expect(exitAt(r, children[i - 1].pid), `child ${i} is listed after child ${i - 1} exited`).toBeLessThan(processAt(r, children[i].pid));
    }
    for (const c of children) {
      const lines = r.logged.flatMap((e, i) => (e.type === 'output' && e.pid === c.pid ? [i] : []));
      expect(lines.length, `child ${c.pid} printed 20 lines`).toBe(20);
      expect(Math.min(...lines)).toBeGreaterThan(processAt(r, c.pid));
      expect(Math.max(...lines)).toBeLessThan(exitAt(r, c.pid));
    }
    expect(listedFirst(r)).toEqual([]);
  });
});

describe('ordering: children are listed in the order their parent started them', () => {
  // The children live until the parent has started all six (each waits for an item the parent
  // puts after the loop): whichever connects first, they are listed kid-0 to kid-5.
  it.each([
    ['TypeScript', () => run(scenarioFile(`
import { Process, Queue } from 'procscope';
export async function leaf(q: Queue<number>): Promise<void> {
  await q.get();
}
export default async function main(): Promise<void> {
  const q = new Queue<number>();
  const ps = Array.from({ length: 6 }, (_, i) => new Process({ target: leaf, args: [q], name: 'kid-' + i }));
  for (const p of ps) p.start();
  for (const p of ps) await q.put(0);
  for (const p of ps) await p.join();
}
`))],
    ['Python', () => runPy(scenarioFile(['import multiprocessing as mp', 'def leaf(q): q.get()', "if __name__ == '__main__':", '    q = mp.Queue()', "    ps = [mp.Process(target=leaf, args=(q,), name='kid-%d' % i) for i in range(6)]", '    for p in ps: p.start()', '    for p in ps: q.put(0)', '    for p in ps: p.join()', ''].join('\n'), 'start_order.py'))],
  ])('%s: kid-0 … kid-5 appear in that order', async (_runtime, go) => {
    const r = await go();
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(kids(r).map((p) => p.name)).toEqual(['kid-0', 'kid-1', 'kid-2', 'kid-3', 'kid-4', 'kid-5']);
  });
});

describe('ordering: what a process does after joining a child comes after everything the child did', () => {
  it('TypeScript: the lock the child took and released (lent to it, reported in batches) is released before the parent asks', async () => {
    const r = await run(
      scenarioFile(`
import { Lock, Process } from 'procscope';
export async function hold(lock: Lock): Promise<void> {
  for (let i = 0; i < 200; i++) await lock.with(() => undefined);
  console.log('child done');
}
export default async function main(): Promise<void> {
  const lock = new Lock();
  for (let round = 0; round < 3; round++) {
    const p = new Process({ target: hold, args: [lock] });
    p.start();
    await p.join();
    console.log('main took it', await lock.acquire(false));
    lock.release();
  }
}
`),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['main took it true', 'main took it true', 'main took it true']);
    const locks = r.logged.filter((e): e is LockEvent => e.type === 'lock');
    expect(locks.filter((e) => e.op === 'abandoned'), 'nobody exits holding it').toEqual([]);
    for (const c of kids(r)) {
      const lastOfChild = r.logged.reduce((last, e, i) => (e.type === 'lock' && e.pid === c.pid ? i : last), -1);
      expect(lastOfChild, `child ${c.pid}'s lock lines come before its exit`).toBeLessThan(exitAt(r, c.pid));
      const mainNext = r.logged.findIndex((e, i) => i > exitAt(r, c.pid) && e.type === 'lock' && e.pid === r.root && e.op === 'request');
      expect(mainNext, 'the main process asks after the child’s exit').toBeGreaterThan(lastOfChild);
    }
  });

  it('Python: the child’s queue items and lines come before its exit, and the parent’s get after', async () => {
    const r = await runPy(
      scenarioFile(
        [
          'import multiprocessing as mp',
          'def put(q):',
          '    for i in range(50): q.put(i)',
          "    print('child done')",
          "if __name__ == '__main__':",
          '    q = mp.Queue()',
          '    p = mp.Process(target=put, args=(q,))',
          '    p.start()',
          '    p.join()',
          "    print('got', sum(q.get() for _ in range(50)))",
          '',
        ].join('\n'),
        'queue_join.py',
      ),
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['got 1225']);
    const [child] = kids(r);
    expect(indexOf(r, (e) => e.type === 'output' && e.pid === child.pid)).toBeLessThan(exitAt(r, child.pid));
    expect(indexOf(r, (e) => e.type === 'output' && e.pid === r.root)).toBeGreaterThan(exitAt(r, child.pid));
    expect(listedFirst(r)).toEqual([]);
  });
});

describe('ordering: the main process’s exit comes after what it reported before it ended', () => {
  it.each([
    ['TypeScript', () => run(scenarioFile(`
import { Process } from 'procscope';
export function talk(): void {
  for (let i = 0; i < 50; i++) console.log('child line', i);
}
export default async function main(): Promise<void> {
  new Process({ target: talk }).start();
  for (let i = 0; i < 50; i++) console.log('main line', i);
  // not joined: the runtime joins it at exit, as Python does
}
`))],
    ['Python', () => runPy(scenarioFile(['import multiprocessing as mp', 'def talk():', "    for i in range(50): print('child line', i)", "if __name__ == '__main__':", '    mp.Process(target=talk).start()', "    for i in range(50): print('main line', i)", ''].join('\n'), 'main_exit.py'))],
  ])('%s: its lines and its child’s exit come before its own exit', async (_runtime, go) => {
    const r = await go();
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const mainExit = exitAt(r, r.root);
    const [child] = kids(r);
    expect(r.stdout(r.root)).toHaveLength(50);
    expect(r.stdout(child.pid)).toHaveLength(50);
    const lastMainLine = r.logged.reduce((last, e, i) => (e.type === 'output' && e.pid === r.root ? i : last), -1);
    expect(lastMainLine).toBeLessThan(mainExit);
    expect(exitAt(r, child.pid), 'the child it joined at its exit ends first').toBeLessThan(mainExit);
    expect(r.logged.at(-1)?.type).toBe('end');
  });
});
