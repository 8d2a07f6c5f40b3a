import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessEvent, RunEvent, RunStartedEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { run, tmpRoot, type RunResult } from '../helpers/run.ts';

// What each preset promises (its explanation in presets/catalog.ts), read back from its run log:
// real processes, the real broker, the log file as every shell and export reads it.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** One run per preset, shared by the tests that look at it. */
const runs = new Map<string, Promise<RunResult>>();
function preset(id: string): Promise<RunResult> {
  let r = runs.get(id);
  if (!r) runs.set(id, (r = run(id)));
  return r;
}

/** The run finished on its own and main returned normally (stderr is shown if not). */
function expectFinished(r: RunResult): void {
  expect(
    { reason: r.summary.end.reason, exitcode: r.summary.end.exitcode },
    `run should finish with main's exit code 0; stderr:\n${r.stderr().join('\n')}`,
  ).toEqual({ reason: 'finished', exitcode: 0 });
}

/** The processes the root started itself, in start order. */
function children(r: RunResult): ProcessEvent[] {
  return r.processes().filter((p) => p.ppid === r.root);
}

function event<T extends RunEvent['type']>(r: RunResult, type: T): Extract<RunEvent, { type: T }>[] {
  return r.logged.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}

/** Lifetime of a process in the log: from its `process` event to its `exit` event. */
function lifetime(r: RunResult, pid: number): { pid: number; start: number; end: number } {
  const start = r.logged.find((e) => e.type === 'process' && e.pid === pid);
  const end = r.logged.find((e) => e.type === 'exit' && e.pid === pid);
  if (!start || !end) throw new Error(`pid ${pid} should have a process and an exit event`);
  return { pid, start: start.t, end: end.t };
}

type Span = { pid: number; start: number; end: number };
const overlap = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end;

/** Every pair of spans that overlaps, as `pid/pid`. */
function overlapping(spans: Span[]): string[] {
  const pairs: string[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) if (overlap(spans[i], spans[j])) pairs.push(`${spans[i].pid}/${spans[j].pid}`);
  }
  return pairs;
}

describe('hello (seed 1)', () => {
  it("the child is a real child of main: its ppid is main's pid, and it prints both pids", async () => {
    const r = await preset('hello');
    expectFinished(r);
    const [child, ...others] = children(r);
    expect(others, 'main starts exactly one child').toEqual([]);
    expect(child.ppid).toBe(r.root);
    expect(r.stdout(r.root)).toEqual([`parent process id：${r.root}`]);
    expect(r.stdout(child.pid)).toEqual(['name: bob', `parent process id: ${r.root}`, `sub process id: ${child.pid}`]);
    expect(r.exits().get(child.pid), 'the child exits with code 0').toBe(0);
  });
});

describe('join-in-loop-wrong and join-in-loop (seed 2)', () => {
  it('join() inside the loop: the five children run one after another and print 0 to 4 in order', async () => {
    const r = await preset('join-in-loop-wrong');
    expectFinished(r);
    const kids = children(r);
    expect(kids).toHaveLength(5);
    const spans = kids.map((k) => lifetime(r, k.pid));
    expect(overlapping(spans), 'no two children may be alive at the same time').toEqual([]);
    expect(r.stdout(), 'printed in order').toEqual(['0', '1', '2', '3', '4']);
  });

  it('join() after the loop: the five children are alive at the same time', async () => {
    const r = await preset('join-in-loop');
    expectFinished(r);
    const kids = children(r);
    expect(kids).toHaveLength(5);
    const spans = kids.map((k) => lifetime(r, k.pid));
    // main starts all five in one synchronous loop, and a child needs at least its scenario load
    // to finish, so every child starts before any ends: this does not depend on machine speed.
    expect(overlapping(spans).length, `children's lifetimes should overlap: ${JSON.stringify(spans)}`).toBeGreaterThan(0);
    expect([...r.stdout()].sort(), 'each number once, in any order').toEqual(['0', '1', '2', '3', '4']);
    for (const k of kids) expect(r.exits().get(k.pid), `${k.name} exits with 0`).toBe(0);
  });
});

describe('subclass (seed 3)', () => {
  it("the child is named bob and prints its pid; main, which never joins, exits 0 after it", async () => {
    const r = await preset('subclass');
    expectFinished(r);
    const [bob, ...others] = children(r);
    expect(others, 'main starts exactly one child').toEqual([]);
    expect(bob.name).toBe('bob');
    expect(r.stdout(r.root)).toEqual([`parent process: ${r.root}`]);
    expect(r.stdout(bob.pid)).toEqual(['name: bob', `sub process: ${bob.pid}`]);
    const exits = event(r, 'exit');
    const bobExit = exits.findIndex((e) => e.pid === bob.pid);
    const mainExit = exits.findIndex((e) => e.pid === r.root);
    expect(bobExit, 'bob has an exit event').toBeGreaterThanOrEqual(0);
    expect(mainExit, "main's exit comes after bob's (Python joins non-daemon children at exit)").toBeGreaterThan(bobExit);
    expect(exits[bobExit].exitcode).toBe(0);
    expect(exits[mainExit].exitcode).toBe(0);
  });
});

describe('pool-map (seed 4)', () => {
  it('prints 0..99 once each, only from five workers SpawnPoolWorker-1..5 started by main', async () => {
    const r = await preset('pool-map');
    expectFinished(r);
    const workers = r.processes().filter((p) => p.pid !== r.root);
    expect(workers.map((w) => w.name).sort(), 'only the five pool workers are started').toEqual(
      ['SpawnPoolWorker-1', 'SpawnPoolWorker-2', 'SpawnPoolWorker-3', 'SpawnPoolWorker-4', 'SpawnPoolWorker-5'],
    );
    expect(new Set(workers.map((w) => w.pid)).size, 'five distinct pids').toBe(5);
    for (const w of workers) expect(w.ppid, `${w.name} is a child of main`).toBe(r.root);

    const workerPids = new Set(workers.map((w) => w.pid));
    const lines = event(r, 'output').filter((e) => e.stream === 'stdout');
    const strangers = lines.filter((e) => !workerPids.has(e.pid)).map((e) => `${e.pid}: ${e.text}`);
    expect(strangers, 'only workers print').toEqual([]);
    const printers = new Map<string, number[]>();
    for (const e of lines) printers.set(e.text, [...(printers.get(e.text) ?? []), e.pid]);
    const repeated = [...printers].filter(([, pids]) => pids.length > 1).map(([text, pids]) => `${text} by ${pids.join(', ')}`);
    expect(repeated, 'no number is printed twice').toEqual([]);
    const numbers = r.stdout().map(Number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // As Python counts tasks: map() cuts the 100 items into 20 chunks of 5.
    const last = new Map<number, number>();
    for (const e of event(r, 'task')) last.set(e.pid, e.done);
    expect([...last.keys()].every((pid) => workerPids.has(pid)), 'only workers report tasks').toBe(true);
    expect([...last.values()].reduce((a, b) => a + b, 0)).toBe(20);
  });
});

describe('members (seed 5)', () => {
  it('terminate() gives exitcode -15 and kill() -9, as the log and main both say', async () => {
    const r = await preset('members');
    expectFinished(r);
    const demo = children(r).find((p) => p.name === 'demo');
    const demo2 = children(r).find((p) => p.name === 'demo2');
    if (!demo || !demo2) throw new Error(`expected children demo and demo2, got ${children(r).map((p) => p.name).join(', ')}`);
    expect(demo.daemon && demo2.daemon, 'both are daemons').toBe(true);
    expect(r.exits().get(demo.pid), 'demo was terminated (SIGTERM)').toBe(-15);
    expect(r.exits().get(demo2.pid), 'demo2 was killed (SIGKILL)').toBe(-9);
    expect(r.stdout(r.root)).toEqual(['demo', String(demo.pid), 'true', '-15', 'demo2', String(demo2.pid), 'true', '-9']);
  });
});

describe('bounded-queue (seed 6)', () => {
  it('prints true 3 1 2 3 true, and the queue holds at most 3 items', async () => {
    const r = await preset('bounded-queue');
    expectFinished(r);
    expect(r.stdout(r.root)).toEqual(['true', '3', '1', '2', '3', 'true']);
    const ops = event(r, 'queue');
    expect(ops.map((q) => q.op)).toEqual(['create', 'put', 'put', 'put', 'get', 'get', 'get']);
    expect(new Set(ops.map((q) => q.maxsize))).toEqual(new Set([3]));
    expect(ops.map((q) => q.depth), 'depth climbs to 3 and falls back to 0').toEqual([0, 1, 2, 3, 2, 1, 0]);
  });
});

describe('producer-consumer (seed 7)', () => {
  it("the consumer prints 1 and '0' only, and 1.1 is left in the queue", async () => {
    const r = await preset('producer-consumer');
    expectFinished(r);
    const [consumer, ...others] = children(r);
    expect(others, 'one consumer').toEqual([]);
    expect(r.stdout(consumer.pid)).toEqual(['1', '0']);
    expect(r.stdout(r.root), 'main prints nothing').toEqual([]);
    const ops = event(r, 'queue');
    expect(ops.at(-1)?.depth, 'the last queue event leaves one item (1.1)').toBe(1);
    expect(ops.filter((q) => q.op === 'get').length, "the consumer takes 1, '0' and false").toBe(3);
  });
});

describe('flash-sale (seed 8)', () => {
  it('ten buyers, exactly 3 succeed and 7 fail, and only one holds the lock at a time', async () => {
    const r = await preset('flash-sale');
    expectFinished(r);
    const buyers = children(r);
    expect(buyers).toHaveLength(10);
    const out = r.stdout();
    expect(out.filter((l) => l.includes('抢购成功')), 'purchases that succeeded').toHaveLength(3);
    expect(out.filter((l) => l.includes('抢购失败')), 'purchases that failed').toHaveLength(7);
    expect(out).toHaveLength(10);
    for (const b of buyers) expect(r.exits().get(b.pid), `${b.name} exits with 0`).toBe(0);

    // Each buyer's hold: from its `acquire` to its `release`.
    const holds = new Map<number, Span>();
    for (const e of event(r, 'lock')) {
      if (e.op === 'acquire') {
        expect(holds.has(e.pid), `pid ${e.pid} acquires once`).toBe(false);
        holds.set(e.pid, { pid: e.pid, start: e.t, end: Number.POSITIVE_INFINITY });
      }
      if (e.op === 'release') {
        const h = holds.get(e.pid);
        if (!h) throw new Error(`pid ${e.pid} released a lock it never acquired`);
        h.end = e.t;
      }
    }
    expect([...holds.keys()].sort(), 'every buyer acquired the lock').toEqual(buyers.map((b) => b.pid).sort());
    for (const h of holds.values()) expect(h.end, `pid ${h.pid} released the lock`).not.toBe(Number.POSITIVE_INFINITY);
    expect(overlapping([...holds.values()]), 'lock holds never overlap').toEqual([]);
  });
});

describe('flash-sale-unlocked (seed 8, no lock)', () => {
  it('oversells: more than 3 buyers succeed; a buyer that read a half-written file fails with ValueError', async () => {
    const r = await preset('flash-sale-unlocked');
    expectFinished(r);
    const buyers = children(r);
    expect(buyers).toHaveLength(10);
    expect(event(r, 'lock'), 'there is no lock').toEqual([]);
    let succeeded = 0;
    for (const b of buyers) {
      const out = r.stdout(b.pid);
      const code = r.exits().get(b.pid);
      if (code === 0) {
        // A buyer that ran through prints one verdict.
        expect(out, `${b.name} prints one verdict`).toHaveLength(1);
        expect(out[0]).toMatch(/^子进程\d抢购(成功|失败)！$/);
        if (out[0].includes('抢购成功')) succeeded++;
      } else {
        // The explanation's other outcome: it read the file while another buyer rewrote it.
        expect(code, `${b.name} either succeeds/fails (exit 0) or dies of ValueError (exit 1)`).toBe(1);
        expect(out, `${b.name} printed no verdict`).toEqual([]);
        expect(r.stderr(b.pid).join('\n')).toContain('ValueError');
      }
    }
    expect(succeeded, 'more than the 3 in stock were sold').toBeGreaterThan(3);
  });
});

describe('every preset', () => {
  it('runs in a fresh temporary working directory, not the repository, removed after the run', async () => {
    const [a, b] = await Promise.all([preset('hello'), preset('flash-sale')]);
    const cwdOf = (r: RunResult): string => {
      const first = r.logged[0];
      if (first?.type !== 'run') throw new Error(`the log should start with a run event, got ${first?.type}`);
      return (first as RunStartedEvent).cwd;
    };
    expect(cwdOf(a)).not.toBe(cwdOf(b));
    const repo = packageRoot();
    for (const cwd of [cwdOf(a), cwdOf(b)]) {
      expect(path.isAbsolute(cwd), `${cwd} is absolute`).toBe(true);
      const rel = path.relative(repo, cwd);
      const insideRepo = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
      expect(insideRepo, `${cwd} should be outside the repository ${repo}`).toBe(false);
      expect(fs.existsSync(cwd), `${cwd} is removed when the run ends`).toBe(false);
    }
  });
});
