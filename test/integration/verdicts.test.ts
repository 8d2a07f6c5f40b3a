import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent, OutputEvent, RunEvent, Runtime, SyncEvent } from '../../src-main/api.ts';
import { RunDigest, compareRuns, type CompareRow, type RunDigestResult } from '../../src-main/common/run-digest.ts';
import { VerdictReader, type Verdict } from '../../src-main/common/verdict.ts';
import { presetById } from '../../src-main/presets/catalog.ts';
import { python } from '../helpers/python.ts';
import { run, scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';

// Verdicts and run digests read from real run logs: each preset runs through a real Session (its
// TypeScript twin and its Python original), the log file is read back as every shell reads it,
// and what the verdict says is checked against the log's own facts and the engine's summary.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** One run per preset and runtime, shared by the tests that read it. */
const runs = new Map<string, Promise<RunResult>>();
function preset(id: string, runtime: Runtime): Promise<RunResult> {
  const key = `${id}/${runtime}`;
  let r = runs.get(key);
  if (!r) runs.set(key, (r = run(id, runtime === 'python' ? { runtime, python } : {})));
  return r;
}

/** The preset's verdict, read from the log file event by event; null before its end event. */
function verdictOf(r: RunResult, spec = presetById(r.logged[0].type === 'run' ? r.logged[0].scenario : '')?.verdict): Verdict {
  if (!spec) throw new Error('the log should name a preset');
  const reader = new VerdictReader(spec);
  for (const e of r.logged) {
    if (e.type === 'end') expect(reader.result(), 'no verdict before the end event').toBeNull();
    reader.add(e);
  }
  const v = reader.result();
  if (!v) throw new Error(`no verdict for a run that ended: ${JSON.stringify(r.summary.end)}`);
  // The Chinese text says the same figures as the English one, in whatever order it puts them.
  const figures = (s: string) => (s.match(/-?\d+(\.\d+)?/g) ?? []).sort();
  expect(figures(v.text.zh), `same figures in ${v.text.en} / ${v.text.zh}`).toEqual(figures(v.text.en));
  expect(v.text.zh).toMatch(/[\u4e00-\u9fff]/);
  return v;
}

function digestOf(events: readonly RunEvent[]): RunDigestResult {
  const d = new RunDigest();
  for (const e of events) d.add(e);
  return d.result();
}

const outputs = (r: RunResult, text: string): OutputEvent[] =>
  r.logged.filter((e): e is OutputEvent => e.type === 'output' && e.stream === 'stdout' && e.text.includes(text));

/** Most children of main alive at one moment, from their process and exit events. */
function mostAlive(r: RunResult): number {
  const kids = r.processes().filter((p) => p.ppid === r.root);
  const span = (pid: number) => ({
    start: r.logged.find((e) => e.type === 'process' && e.pid === pid)!.t,
    end: r.logged.find((e) => e.type === 'exit' && e.pid === pid)!.t,
  });
  const spans = kids.map((k) => span(k.pid));
  return Math.max(...spans.map((s) => spans.filter((o) => o.start <= s.start && s.start < o.end).length));
}

const RUNTIMES: Runtime[] = ['typescript', 'python'];

describe.each(RUNTIMES)('verdicts of the presets (%s)', (runtime) => {
  it('flash-sale: 3 sold of 3, never two holders of the lock at once', async () => {
    const r = await preset('flash-sale', runtime);
    expect(outputs(r, '抢购成功')).toHaveLength(3);
    expect(verdictOf(r)).toEqual({
      tone: 'good',
      text: {
        en: '3 sold of 3 in stock, 7 turned away; never two holders of the lock at once',
        zh: '库存 3 件，卖出 3 件，7 个买家没抢到；锁从未同时有两个持有者',
      },
    });
  });

  it('parking-lot: never more than 3 cars hold the Semaphore(3) at once, all 8 park, the rest after waiting', async () => {
    const r = await preset('parking-lot', runtime);
    const sem = r.logged.filter((e): e is LockEvent => e.type === 'lock' && e.kind === undefined && e.holders !== undefined);
    const most = Math.max(...sem.map((e) => new Set(e.holders).size));
    expect(most, 'the log itself never has more than 3 holders').toBe(3);
    // Each car parks for a second or more, so the lot fills and later cars wait, unless a
    // machine starts them more than a second apart: how many waited is read, not assumed.
    const waited = new Set(sem.filter((e) => e.op === 'request' && e.waiters.includes(e.pid)).map((e) => e.pid)).size;
    expect(waited, 'some cars waited for a space').toBeGreaterThan(0);
    expect(outputs(r, 'parks')).toHaveLength(8);
    expect(verdictOf(r)).toEqual({
      tone: 'good',
      text: {
        en: `at most 3 of the 8 held the Semaphore(3) at once; all 8 got in, ${waited} after waiting for a permit`,
        zh: `最多 3 个（共 8 个）同时持有 Semaphore(3)；8 个都进去了，其中 ${waited} 个等过许可`,
      },
    });
  });

  it('starting-gun: the five runners wait on the Event, and one set() releases them all together', async () => {
    const r = await preset('starting-gun', runtime);
    const ev = r.logged.filter((e): e is SyncEvent => e.type === 'sync' && e.kind === 'event');
    const runners = r.processes().filter((p) => p.ppid === r.root).map((p) => p.pid).sort();
    expect(ev.filter((e) => e.op === 'wait').map((e) => e.pid).sort()).toEqual(runners);
    const set = ev.find((e) => e.op === 'set');
    expect([...(set?.released ?? [])].sort()).toEqual(runners);
    expect(outputs(r, 'is off')).toHaveLength(5);
    expect(verdictOf(r)).toEqual({
      tone: 'good',
      text: { en: 'one set() released all 5 waiting processes at the same instant', zh: '一次 set() 在同一瞬间放行了全部 5 个等待的进程' },
    });
  });

  it("flash-sale-unlocked: the buyers' own lines are counted, and more than 3 sold is called an oversell", async () => {
    const r = await preset('flash-sale-unlocked', runtime);
    const sold = outputs(r, '抢购成功').length;
    const crashed = r.processes().filter((p) => p.ppid === r.root && r.exits().get(p.pid) !== 0).length;
    const v = verdictOf(r);
    if (sold > 3) {
      expect(v.tone).toBe('bad');
      expect(v.text.en).toMatch(new RegExp(`^${sold} sold of 3 in stock: oversold by ${sold - 3} \\(no lock\\)`));
      expect(v.text.zh).toMatch(new RegExp(`^库存 3 件却卖出了 ${sold} 件：超卖 ${sold - 3} 件`));
    } else {
      // Python's buyers race in a narrower window: a run may happen not to oversell.
      expect(v.text.en).toMatch(new RegExp(`^${sold} sold of 3 in stock, \\d+ turned away: no oversell this time, but no lock prevents it`));
      expect(v.tone).toBe(crashed > 0 ? 'bad' : 'neutral');
    }
    if (crashed > 0) expect(v.text.en).toMatch(new RegExp(`; ${crashed} buyers? crashed \\(exit code 1\\)$`));
    // The TypeScript twin waits 200 ms between read and write: it oversells on every run.
    if (runtime === 'typescript') expect(sold).toBeGreaterThan(3);
  });

  it('join-in-loop-wrong: children ran one after another, 5 of them, in series', async () => {
    const r = await preset('join-in-loop-wrong', runtime);
    expect(mostAlive(r)).toBe(1);
    const v = verdictOf(r);
    expect(v.tone).toBe('bad');
    expect(v.text.en).toMatch(/^children ran one after another: 5 × \d+(\.\d+)? m?s in series$/);
    expect(v.text.zh).toMatch(/^子进程一个接一个地串行运行：5 个 × \d+(\.\d+)? (毫秒|秒)$/);
  });

  it('join-in-loop: children overlapped, as many at once as the log shows', async () => {
    const r = await preset('join-in-loop', runtime);
    const most = mostAlive(r);
    const v = verdictOf(r);
    if (most > 1) {
      expect(v.tone).toBe('good');
      expect(v.text.en).toMatch(new RegExp(`^children overlapped: up to ${most} alive at once, all 5 done within \\d+(\\.\\d+)? m?s$`));
    } else {
      expect(v.text.en).toMatch(/^children ran one after another/);
    }
    // With five children started before any join, the TypeScript twin's always overlap.
    if (runtime === 'typescript') expect(most).toBeGreaterThan(1);
  });

  it.each(['hello', 'subclass'])("%s: the child is main's own, and main waited for it", async (id) => {
    const r = await preset(id, runtime);
    const [child] = r.processes().filter((p) => p.ppid === r.root);
    const v = verdictOf(r);
    expect(v.tone).toBe('good');
    expect(v.text.en).toMatch(
      new RegExp(`^${child.name} is a real child of main \\(its ppid ${r.root} is main's pid\\) and exited with 0; main waited for it and ended .+ later$`),
    );
    expect(child.name).toBe(id === 'subclass' ? 'bob' : 'Process-1');
  });

  it('members: how each child ended, with its signal; main raising is part of the lesson', async () => {
    const r = await preset('members', runtime);
    const v = verdictOf(r);
    expect(v.tone).toBe('neutral');
    if (runtime === 'typescript') {
      expect(v.text.en).toBe('demo was ended by SIGTERM (exit code -15); demo2 was ended by SIGKILL (exit code -9)');
      expect(v.text.zh).toBe('demo 被 SIGTERM 终止（退出码 -15）；demo2 被 SIGKILL 终止（退出码 -9）');
      return;
    }
    // The seed kills its child and closes it without join(): usually the kill lands after close()
    // raised; sometimes it lands first and close() succeeds; rarely the child is already done
    // before kill().
    const [demo] = r.processes().filter((p) => p.ppid === r.root);
    const code = r.exits().get(demo.pid);
    if (code === -9 && r.summary.end.reason === 'error') {
      expect(r.summary.end).toMatchObject({ reason: 'error', exitcode: 1 });
      expect(v.text.en).toBe('demo was ended by SIGKILL (exit code -9); main raised ValueError: Cannot close a process while it is still running');
    } else if (code === -9) {
      expect(r.summary.end).toMatchObject({ reason: 'finished', exitcode: 0 });
      expect(v.text.en).toBe('demo was ended by SIGKILL (exit code -9)');
    } else {
      expect(v.text.en).toBe(`demo exited with ${code}`);
    }
  });

  it('bounded-queue: the queue filled up to its limit of 3 and ended empty', async () => {
    const r = await preset('bounded-queue', runtime);
    expect(verdictOf(r)).toEqual({
      tone: 'good',
      text: {
        en: 'the queue filled up to its limit of 3, then ended empty: 3 put, 3 taken',
        zh: '队列先装满到上限 3，最后又清空了：放入 3 个，取出 3 个',
      },
    });
  });

  it('producer-consumer: the queue ended with 1 item left, the 1.1 the consumer never took', async () => {
    const r = await preset('producer-consumer', runtime);
    expect(verdictOf(r)).toEqual({
      tone: 'neutral',
      text: {
        en: 'the queue ended with 1 item left (1.1): 4 put, 3 taken',
        zh: '队列最后剩下 1 个元素（1.1）：放入 4 个，取出 3 个',
      },
    });
  });

  it("pool-map: each worker's share of the 20 tasks, as its task events count them", async () => {
    const r = await preset('pool-map', runtime);
    const workers = r.processes().filter((p) => p.ppid === r.root);
    const done = new Map<number, number>();
    for (const e of r.logged) if (e.type === 'task') done.set(e.pid, e.done);
    const counts = workers.map((w) => done.get(w.pid) ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    const v = verdictOf(r);
    const idle = counts.filter((c) => c === 0).length;
    if (idle === 0) expect(v).toMatchObject({ tone: 'good', text: { en: `the 5 workers shared the 20 tasks: ${counts.join(' + ')}` } });
    else expect(v.text.en).toBe(`${5 - idle} of the 5 workers took all 20 tasks (${counts.join(' + ')}); ${idle} sat idle`);
    // The TypeScript pool hands out chunks once all five wait for them (runtime-pool.test.ts).
    if (runtime === 'typescript') expect(idle).toBe(0);
  });
});

describe('verdicts of runs that did not run to their end', () => {
  it('a stopped run says so instead of claiming a lesson', async () => {
    const r = await run('members', {
      during: async (s, events) => {
        await waitFor(s, events, (e) => e.type === 'output' && e.text === 'demo');
        await s.stop();
      },
    });
    expect(r.summary.end.reason).toBe('stopped');
    const v = verdictOf(r);
    expect(v.tone).toBe('neutral');
    expect(v.text.en).toMatch(/^stopped after \d+(\.\d+)? m?s, before the program ended: no verdict$/);
    expect(v.text.zh).toMatch(/^运行 .+后被停止，程序没有跑完：没有结论$/);
  });

  it('a run whose main fails: the failure, not the lesson', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
export function foo(): void {}
export default async function main(): Promise<void> {
  const p = new Process({ target: foo });
  p.start();
  await p.join();
  throw new Error('the main went wrong');
}
`),
    );
    expect(r.summary.end.reason).toBe('error');
    const v = verdictOf(r, { kind: 'children', children: 1 });
    expect(v.tone).toBe('bad');
    expect(v.text.en).toMatch(/^the run failed: .*the main went wrong/);
  });

  it('a main killed by a signal: its signal, not the lesson', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
export function foo(): void {}
export default async function main(): Promise<void> {
  const p = new Process({ target: foo });
  p.start();
  await p.join();
  process.kill(process.pid, 'SIGKILL');
}
`),
    );
    expect(r.summary.end.exitcode).toBe(-9);
    const v = verdictOf(r, { kind: 'parent-waits', children: 1 });
    expect(v).toEqual({
      tone: 'bad',
      text: { en: 'main was ended by SIGKILL (exit code -9): no verdict', zh: '主进程被 SIGKILL 终止（退出码 -9）：没有结论' },
    });
  });
});

describe('run digests and compare, from real logs', () => {
  /** The digest agrees with the engine's own summary of the same run. */
  function expectDigestMatchesSummary(r: RunResult, d: RunDigestResult): void {
    expect(d.end).toMatchObject({ reason: r.summary.end.reason, exitcode: r.summary.end.exitcode });
    expect(d.wallMs).toBe(r.summary.end.t);
    expect(d.processes).toBe(r.summary.processes.filter((p) => p.pid !== null).length);
    const codes = new Map<number | null, number>();
    for (const code of r.exits().values()) codes.set(code, (codes.get(code) ?? 0) + 1);
    expect(Object.fromEntries(d.exitCodes.map((c) => [String(c.exitcode), c.count]))).toEqual(
      Object.fromEntries([...codes].map(([c, n]) => [String(c), n])),
    );
    expect(d.locks.map((l) => [l.id, l.acquisitions])).toEqual(r.summary.locks.map((l) => [l.lock, l.acquisitions]));
    expect(d.queues.map((q) => [q.id, q.maxDepth, q.left, q.puts, q.gets])).toEqual(r.summary.queues.map((q) => [q.queue, q.peak, q.depth, q.puts, q.gets]));
    // Sampled every 100 ms: at least one sample, so the CPU time is known (and a process's CPU time is never negative).
    expect(d.cpuMs).not.toBeNull();
    expect(d.cpuMs!).toBeGreaterThanOrEqual(0);
    const sampled = new Set(r.logged.filter((e) => e.type === 'sample').map((e) => (e.type === 'sample' ? e.pid : 0)));
    expect(d.cpuUnsampled, 'processes that lived between two samples').toBe(r.processes().filter((p) => !sampled.has(p.pid)).length);
  }

  const row = (rows: CompareRow[], key: string): CompareRow => {
    const found = rows.find((x) => x.key === key);
    if (!found) throw new Error(`no row ${key} in ${rows.map((x) => x.key).join(', ')}`);
    return found;
  };

  it('flash-sale vs flash-sale-unlocked: the lock is in one run only; as many processes in both', async () => {
    const [a, b] = [await preset('flash-sale', 'typescript'), await preset('flash-sale-unlocked', 'typescript')];
    const [da, db] = [digestOf(a.logged), digestOf(b.logged)];
    expectDigestMatchesSummary(a, da);
    expectDigestMatchesSummary(b, db);
    expect(da.locks).toHaveLength(1);
    expect(da.locks[0].totalWaitMs).toBeGreaterThanOrEqual(da.locks[0].longestWaitMs);
    const rows = compareRuns(da, db);
    expect(row(rows, 'program')).toMatchObject({ a: 'flash-sale (TypeScript)', b: 'flash-sale-unlocked (TypeScript)', differs: true, section: 'run' });
    expect(row(rows, 'processes')).toMatchObject({ a: '11', b: '11', differs: false, section: 'process' });
    expect(row(rows, 'lock.1.acquisitions')).toMatchObject({ a: '10', b: '—', differs: true, section: 'lock' });
    expect(row(rows, 'lock.1.acquisitions').label.en).toBe('Lock 1 (by creation order): acquisitions');
    expect(rows.filter((x) => x.section === 'queue')).toEqual([]);
    // Keys are unique, every row has both languages, and differs says whether the texts differ.
    expect(new Set(rows.map((x) => x.key)).size).toBe(rows.length);
    for (const x of rows) {
      expect(x.differs).toBe(x.a !== x.b);
      expect(x.label.zh).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('the same preset in both runtimes: the Python lock is matched with the TypeScript one by creation order', async () => {
    const [a, b] = [await preset('flash-sale', 'typescript'), await preset('flash-sale', 'python')];
    const [da, db] = [digestOf(a.logged), digestOf(b.logged)];
    expectDigestMatchesSummary(b, db);
    expect(da.locks[0].id).not.toBe(db.locks[0].id);
    const rows = compareRuns(da, db);
    expect(row(rows, 'lock.1.acquisitions')).toMatchObject({ a: '10', b: '10', differs: false });
    expect(row(rows, 'program')).toMatchObject({ a: 'flash-sale (TypeScript)', b: 'flash-sale (Python)' });
  });

  it('bounded-queue vs producer-consumer: maximum depth and what was left', async () => {
    const [a, b] = [await preset('bounded-queue', 'python'), await preset('producer-consumer', 'typescript')];
    const [da, db] = [digestOf(a.logged), digestOf(b.logged)];
    expectDigestMatchesSummary(a, da);
    expectDigestMatchesSummary(b, db);
    const rows = compareRuns(da, db);
    expect(row(rows, 'queue.1.max-depth')).toMatchObject({ a: '3', b: '4', differs: true, section: 'queue' });
    expect(row(rows, 'queue.1.left')).toMatchObject({ a: '0', b: '1', differs: true });
  });

  it('join-in-loop-wrong vs join-in-loop: same processes and exit codes, no locks or queues', async () => {
    const [a, b] = [await preset('join-in-loop-wrong', 'typescript'), await preset('join-in-loop', 'typescript')];
    const rows = compareRuns(digestOf(a.logged), digestOf(b.logged));
    expect(row(rows, 'processes')).toMatchObject({ a: '6', b: '6', differs: false });
    expect(row(rows, 'exit-codes')).toMatchObject({ a: '0 ×6', b: '0 ×6', differs: false });
    expect(rows.map((x) => x.section).filter((s) => s === 'lock' || s === 'queue')).toEqual([]);
  });

  it('a log cut short (the monitor killed): no end, the wall time up to the last event', async () => {
    const r = await preset('hello', 'typescript');
    const cut = r.logged.slice(0, -3);
    const d = digestOf(cut);
    expect(d.end).toBeNull();
    expect(d.wallMs).toBe(Math.max(...cut.map((e) => e.t)));
    expect(row(compareRuns(d, digestOf(r.logged)), 'end')).toMatchObject({ a: 'no end (log cut short)', b: 'finished (0)', differs: true });
  });
});
