// The window's logic on real runs: presets run through the real engine (real processes, broker,
// sampler), their logs read back and fed to the renderer's model, then to the functions that fit
// the time axis, pick the top processes, build the tree and the table, write the tooltips, and
// fill the details pane. Each expectation is checked against the log's own facts.

import { beforeAll, describe, expect, it } from 'vitest';
import type { ExitEvent, LockEvent, ProcessEvent, RunEvent, SampleEvent } from '../../../src-main/api.ts';
import { en } from '../../../src-renderer/i18n/en.ts';
import { interpolate, type Params } from '../../../src-renderer/i18n/translate.ts';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import { lockDetails, processDetails } from '../../../src-renderer/lib/view/details.ts';
import { aliveSteps, LockParticipants } from '../../../src-renderer/lib/view/lane-rows.ts';
import { lessonFor } from '../../../src-renderer/lib/view/lesson.ts';
import { tableHeight } from '../../../src-renderer/lib/view/layout.ts';
import { AUTO_FOLD, buildTree, rowsUnder, visibleLines } from '../../../src-renderer/lib/view/process-tree.ts';
import { nearestRow, othersInto } from '../../../src-renderer/lib/view/series-math.ts';
import { machineShare, tableLines, totalsOf } from '../../../src-renderer/lib/view/table-view.ts';
import { FIT_PAD, fitRange, panBy, sharedFit, zoomAround } from '../../../src-renderer/lib/view/time-fit.ts';
import { lockSpanTip, pointTip, queueStepTip, timelineTip, type Translate } from '../../../src-renderer/lib/view/tooltips.ts';
import { run, type RunResult } from '../../helpers/run.ts';

const t: Translate = (key, params?: Params) => interpolate(en[key], params);

function modelOf(events: readonly RunEvent[]): RunModel {
  const m = new RunModel();
  m.ingest(events);
  return m;
}

const ofType = <T extends RunEvent['type']>(events: readonly RunEvent[], type: T) => events.filter((e) => e.type === type) as Extract<RunEvent, { type: T }>[];

const runs = new Map<string, RunResult>();

beforeAll(async () => {
  // One after another: the machine has two cores. 100 ms sampling, as tests use.
  for (const id of ['flash-sale', 'pool-map', 'bounded-queue', 'join-in-loop-wrong', 'flash-sale-unlocked']) runs.set(id, await run(id));
  runs.set('flash-sale-py', await run('flash-sale', { runtime: 'python' }));
}, 240_000);

const log = (id: string) => (runs.get(id) as RunResult).logged;

describe('the time axis fits the run', () => {
  it('from the first event after `run` to the end, with at most 2% room on each side', () => {
    for (const id of runs.keys()) {
      const events = log(id);
      const m = modelOf(events);
      const first = Math.min(...events.filter((e) => e.type !== 'run' && e.type !== 'end').map((e) => e.t));
      const end = ofType(events, 'end')[0];
      expect(m.span(), id).toEqual({ first, last: end.t });
      const r = fitRange(m.span(), false);
      const len = (end.t - first) / 1000;
      expect(r.min, `${id}: starts at most 2% before the first event`).toBeGreaterThanOrEqual(Math.max(0, first / 1000 - len * FIT_PAD) - 1e-9);
      expect(r.min).toBeLessThanOrEqual(first / 1000);
      expect(r.max, `${id}: ends at most 2% after the end`).toBeLessThanOrEqual(end.t / 1000 + len * FIT_PAD + 1e-9);
      expect(r.max).toBeGreaterThanOrEqual(end.t / 1000);
    }
  });

  it('grows with a live run: replayed batch by batch, the right edge is the latest event', () => {
    const events = log('flash-sale');
    const m = new RunModel();
    let lastMax = 0;
    for (let i = 0; i < events.length - 1; i += 7) {
      m.ingest(events.slice(i, i + 7));
      const r = fitRange(m.span(), m.end() === null);
      if (m.end() === null && m.span()) expect(r.max).toBeCloseTo(Math.max(m.now() / 1000, (m.span()?.first ?? 0) / 1000 + 0.05), 6);
      expect(r.max).toBeGreaterThanOrEqual(lastMax);
      lastMax = r.max;
    }
  });

  it('W zooms around the pointer and A/D pan inside the run; Compare shares one range', () => {
    const m = modelOf(log('join-in-loop-wrong'));
    const whole = fitRange(m.span(), false);
    const at = whole.min + (whole.max - whole.min) * 0.25;
    const z = zoomAround(whole, 0.5, at, whole);
    expect(z.max - z.min).toBeCloseTo((whole.max - whole.min) / 2, 9);
    // The time under the pointer stays where it was on screen.
    expect((at - z.min) / (z.max - z.min)).toBeCloseTo((at - whole.min) / (whole.max - whole.min), 9);
    const left = panBy(z, -10, whole);
    expect(left.min).toBe(whole.min);
    const both = sharedFit([modelOf(log('flash-sale')).span(), modelOf(log('flash-sale-unlocked')).span()]);
    expect(both?.max).toBeGreaterThanOrEqual(fitRange(modelOf(log('flash-sale')).span(), false).max - 1e-9);
    expect(both?.max).toBeGreaterThanOrEqual(fitRange(modelOf(log('flash-sale-unlocked')).span(), false).max - 1e-9);
  });
});

describe('CPU and memory: the total, the top N, and the others', () => {
  it("the total is every live process's latest reading summed, round by round, as the log says", () => {
    for (const id of ['flash-sale', 'pool-map']) {
      const events = log(id);
      const m = modelOf(events);
      const v = m.topSeries('cpu', undefined, 3, null);
      // The same sum, straight from the log: a reading holds until the next one or the exit.
      const latest = new Map<number, number>();
      const totals: { x: number; total: number }[] = [];
      const exited = new Set<number>();
      for (const e of events) {
        if (e.type === 'exit') {
          exited.add(e.pid);
          latest.delete(e.pid);
        } else if (e.type === 'sample') {
          if (!exited.has(e.pid)) latest.set(e.pid, (e as SampleEvent).cpu);
          totals.push({ x: e.t / 1000, total: [...latest.values()].reduce((a, b) => a + b, 0) });
        }
      }
      for (let i = 0; i < v.xs.length; i++) {
        // A round's total is the sum after its last sample: the last one with t before the next round.
        const next = i + 1 < v.xs.length ? v.xs[i + 1] : Infinity;
        const inRound = totals.filter((s) => s.x >= v.xs[i] - 1e-9 && s.x < next - 1e-9);
        expect(v.total[i], `${id} round ${i}`).toBeCloseTo(inRound[inRound.length - 1].total, 6);
      }
    }
  });

  it('the top N are the processes with the most CPU time; the selected one is added; others = total minus the lines', () => {
    const m = modelOf(log('pool-map'));
    const rows = m.processes();
    const v = m.topSeries('cpu', undefined, 2, null);
    const bySeconds = rows.filter((r) => r.cpuSeconds !== null).sort((a, b) => (b.cpuSeconds ?? 0) - (a.cpuSeconds ?? 0));
    expect(v.lines.map((l) => l.key)).toEqual(bySeconds.slice(0, 2).map((r) => r.key));
    expect(v.others).toBe(bySeconds.length - 2);
    const last = bySeconds[bySeconds.length - 1];
    const withSel = m.topSeries('cpu', undefined, 2, last.key);
    expect(withSel.lines.map((l) => l.key)).toEqual([...bySeconds.slice(0, 2).map((r) => r.key), last.key]);
    expect(withSel.lines[2].selected).toBe(true);
    const out = new Float64Array(v.xs.length);
    othersInto(out, v.total, v.lines.map((l) => l.data), 0, v.xs.length - 1);
    for (let i = 0; i < v.xs.length; i++) {
      const lines = v.lines.reduce((a, l) => a + (l.data[i] === l.data[i] ? l.data[i] : 0), 0);
      expect(out[i] + lines, `row ${i}`).toBeCloseTo(Math.max(v.total[i], lines), 6);
    }
    const rss = m.topSeries('rss', undefined, 2, null);
    const byPeak = rows.filter((r) => r.peakRss !== null).sort((a, b) => (b.peakRss ?? 0) - (a.peakRss ?? 0));
    expect(rss.lines.map((l) => l.key)).toEqual(byPeak.slice(0, 2).map((r) => r.key));
    expect(nearestRow(v.xs, v.xs[1] + 1e-6)).toBe(1);
  });

  it("a process's CPU time is the engine's figure in its last sample (an older log's: its CPU % over the time each sample covers); its peak is its largest RSS", () => {
    const events = log('pool-map');
    const m = modelOf(events);
    let engineFigures = 0;
    for (const r of m.processes()) {
      const samples = ofType(events, 'sample').filter((s) => s.pid === r.pid);
      if (samples.length === 0) {
        expect(r.cpuSeconds).toBeNull();
        continue;
      }
      const last = samples[samples.length - 1];
      if (last.cpuTime !== undefined) engineFigures++;
      expect(r.cpuSeconds, r.name).toBeCloseTo(last.cpuTime ?? 0, 9);
      expect(r.peakRss).toBe(Math.max(...samples.map((s) => s.rss)));
    }
    expect(engineFigures, 'the engine sends each process its CPU time').toBeGreaterThan(0);
    // A log without the engine's figure (made before it had one): CPU % integrated over time.
    const older = events.map((e) => (e.type === 'sample' ? { ...e, cpuTime: undefined } : e));
    const mo = modelOf(older);
    for (const r of mo.processes()) {
      const samples = ofType(older, 'sample').filter((s) => s.pid === r.pid);
      if (samples.length === 0) continue;
      let from = r.startedAt ?? samples[0].t;
      let secs = 0;
      for (const s of samples) {
        secs += (s.cpu / 100) * ((s.t - from) / 1000);
        from = s.t;
      }
      expect(r.cpuSeconds, r.name).toBeCloseTo(secs, 9);
    }
  });
});

describe('the tree, the Pool, and the table', () => {
  it("pool-map: the Pool's five workers are one node under main; folding it hides them", () => {
    const events = log('pool-map');
    const m = modelOf(events);
    const rows = m.processes();
    const main = ofType(events, 'process')[0] as ProcessEvent;
    const tree = buildTree(rows);
    expect(tree).toHaveLength(1);
    expect(tree[0].key).toBe(`pid:${main.pid}`);
    const pools = tree[0].children.filter((c) => c.kind === 'pool');
    expect(pools).toHaveLength(1);
    const workers = rowsUnder(pools[0]);
    expect(workers.map((w) => w.name).sort()).toEqual(['SpawnPoolWorker-1', 'SpawnPoolWorker-2', 'SpawnPoolWorker-3', 'SpawnPoolWorker-4', 'SpawnPoolWorker-5']);
    expect(workers.every((w) => w.poolWorker)).toBe(true);
    const open = visibleLines(tree, new Map());
    expect(open.map((l) => l.node.kind)).toEqual(['process', 'pool', 'process', 'process', 'process', 'process', 'process']);
    const folded = visibleLines(tree, new Map([[pools[0].key, true]]));
    expect(folded).toHaveLength(2);
    expect(folded[1]).toMatchObject({ folded: true, descendants: 5 });
    // The tasks the workers report add up to the chunks of the map.
    expect(workers.reduce((n, w) => n + (w.tasks?.done ?? 0), 0)).toBe(ofType(events, 'task').length);
    expect(lessonFor(null, { locks: 0, queues: m.queues().length, poolWorkers: workers.length })).toBe('workers');
  });

  it(`a family of more than ${AUTO_FOLD} starts folded`, () => {
    const rows = modelOf(log('flash-sale')).processes();
    const many = [...rows, ...rows.slice(1).map((r, i) => ({ ...r, key: `${r.key}#x`, pid: (r.pid ?? 0) + 100_000 + i }))];
    const lines = visibleLines(buildTree(many), new Map());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ folded: true, descendants: 20 });
  });

  it('sorting by CPU time puts the busiest first; a filter by name, pid or state; totals of the run', () => {
    const events = log('pool-map');
    const rows = modelOf(events).processes();
    const sorted = tableLines(rows, { sort: 'cpuSeconds', descending: true, filter: '', folds: new Map() }).map((l) => (l.node.kind === 'process' ? l.node.row : null));
    const secs = sorted.map((r) => r?.cpuSeconds ?? -1);
    expect(secs[0]).toBe(Math.max(...secs));
    expect(secs.every((v, i) => i === 0 || v <= secs[i - 1])).toBe(true);
    expect(tableLines(rows, { sort: null, descending: true, filter: 'poolworker', folds: new Map() })).toHaveLength(5);
    const pid = String(rows[1].pid);
    expect(tableLines(rows, { sort: null, descending: true, filter: pid, folds: new Map() }).map((l) => l.node.key)).toContain(rows[1].key);
    expect(tableLines(rows, { sort: null, descending: true, filter: 'exited', folds: new Map() })).toHaveLength(rows.length);
    const totals = totalsOf(rows);
    expect(totals).toMatchObject({ processes: rows.length, running: 0, exited: rows.length, cpu: 0, rss: 0 });
    expect(totals.cpuSeconds).toBeCloseTo(rows.reduce((a, r) => a + (r.cpuSeconds ?? 0), 0), 9);
    expect(machineShare(150, 2)).toBe(75);
  });

  it('the table takes the rows it needs, and leaves the lesson view its height', () => {
    expect(tableHeight({ workspace: 700, tableNeeds: 200, lesson: 220, chartsChrome: 40, minTable: 120 })).toBe(200);
    expect(tableHeight({ workspace: 700, tableNeeds: 900, lesson: 220, chartsChrome: 40, minTable: 120 })).toBe(440);
    expect(tableHeight({ workspace: 300, tableNeeds: 900, lesson: 220, chartsChrome: 40, minTable: 120 })).toBe(120);
  });
});

describe('locks', () => {
  for (const id of ['flash-sale', 'flash-sale-py']) {
    it(`${id}: ten buyers, each on its own row in arrival order; the details list every hold, in order`, () => {
      const events = log(id);
      const m = modelOf(events);
      const [lane] = m.lockLanes();
      const part = new LockParticipants();
      part.update(lane.holdCols, lane.waitCols);
      const locks = ofType(events, 'lock') as LockEvent[];
      const arrival = [...new Set(locks.filter((e) => e.op === 'request' || e.op === 'acquire').sort((a, b) => a.t - b.t).map((e) => e.pid))];
      expect(part.order.map((proc) => m.procAt(proc)?.pid)).toEqual(arrival);
      const d = lockDetails(m, lane.lock);
      expect(d?.holdsTotal).toBe(locks.filter((e) => e.op === 'acquire').length);
      expect(d?.holds.map((h) => h.pid)).toEqual(locks.filter((e) => e.op === 'acquire').sort((a, b) => a.t - b.t).map((e) => e.pid));
      expect(d?.perProcess).toHaveLength(10);
      const waiting = m.lockWaiting().get(lane.lock);
      const most = Math.max(...locks.map((e) => e.waiters.length));
      expect(Math.max(...Array.from(waiting?.peak ?? []))).toBe(most);
      const main = m.processes()[0];
      const pd = processDetails(m, main.key);
      expect(pd?.children).toBe(10);
      const buyer = m.processes()[1];
      expect(processDetails(m, buyer.key)?.locks[0]).toMatchObject({ lock: lane.lock, holds: 1 });
    });
  }
});

describe('tooltips', () => {
  it('a timeline bar: the process, its start, end, lifetime and exit code', () => {
    const events = log('join-in-loop-wrong');
    const m = modelOf(events);
    const [mainRow] = m.timeline();
    const exit = ofType(events, 'exit').find((e) => e.pid === mainRow.pid) as ExitEvent;
    const tip = timelineTip(t, mainRow, m.now());
    expect(tip.title).toBe(`MainProcess (${mainRow.pid})`);
    expect(tip.rows).toContainEqual(['Ended', `${(exit.t / 1000).toFixed(3)} s`]);
    expect(tip.rows).toContainEqual(['Exit code', '0']);
    const killed = timelineTip(t, { ...mainRow, exitcode: -9 }, m.now());
    expect(killed.rows).toContainEqual(['Exit code', '-9 (SIGKILL)']);
    const unknown = timelineTip(t, { ...mainRow, exitcode: null }, m.now());
    expect(unknown.rows).toContainEqual(['Exit code', 'could not be read']);
  });

  it('a hold and a wait of flash-sale: who, which lock, how long', () => {
    const m = modelOf(log('flash-sale'));
    const [lane] = m.lockLanes();
    const c = lane.holdCols;
    const name = m.procAt(c.proc[0])?.name ?? '';
    const hold = lockSpanTip(t, { kind: 'hold', lockLabel: 'Lock 1', name, pid: c.pid[0], color: '', start: c.start[0], end: c.end[0] }, m.now());
    expect(hold.title).toBe(`${name} (${c.pid[0]}) holds Lock 1`);
    expect(hold.rows[2][0]).toBe('Held for');
    const w = lane.waitCols;
    expect(w.length).toBeGreaterThan(0);
    const wait = lockSpanTip(t, { kind: 'wait', lockLabel: 'Lock 1', name: 'x', pid: w.pid[0], color: '', start: w.start[0], end: w.end[0], outcome: w.outcome[0] }, m.now());
    expect(wait.title).toBe(`x (${w.pid[0]}) waits for Lock 1`);
    expect(wait.rows).toContainEqual(['Outcome', 'acquired the lock']);
  });

  it('a queue step of bounded-queue: the third put leaves it full (3 of 3)', () => {
    const events = log('bounded-queue');
    const m = modelOf(events);
    const [q] = m.queues();
    const puts = ofType(events, 'queue').filter((e) => e.op === 'put');
    const i = q.depth.findIndex((d) => d === 3);
    const tip = queueStepTip(t, { queueLabel: 'Queue 1', color: q.color, start: q.xs[i] * 1000, bucketMs: q.bucketMs, op: q.op[i], who: `MainProcess (${puts[2].pid})`, depth: q.depth[i], peak: q.peak[i], count: q.count[i], maxsize: q.maxsize });
    expect(tip.rows).toContainEqual(['Depth after', '3 / 3']);
    expect(tip.rows.find((r) => r[0] === 'Operation')?.[1]).toContain('put()');
  });

  it('a CPU point: the time, the total, each line, and the others', () => {
    const m = modelOf(log('pool-map'));
    const v = m.topSeries('cpu', undefined, 2, null);
    const i = Math.floor(v.xs.length / 2);
    const tip = pointTip(t, { kind: 'cpu', x: v.xs[i], total: v.total[i], lines: v.lines.map((l) => ({ label: l.label, color: l.color, value: l.data[i] })), others: 0, othersCount: v.others });
    expect(tip.title).toBe(`${v.xs[i].toFixed(3)} s`);
    expect(tip.rows[0]).toEqual(['Total', `${v.total[i].toFixed(1)} %`]);
    expect(tip.rows.map((r) => r[0])).toContain(`others (${v.others})`);
    expect(tip.note).toBe('CPU 100% = one core fully busy');
  });
});

describe('folded families', () => {
  it("a folded family's band counts its processes alive over time", () => {
    const rows = modelOf(log('join-in-loop-wrong')).processes().slice(1);
    const s = aliveSteps(rows, 0);
    // join() inside the loop: the children never overlap.
    expect(s.max).toBe(1);
    expect(s.n.every((n) => n <= 1)).toBe(true);
  });
});

describe('a pid that speaks before its process event', () => {
  it('(Python mode sends output and process events on different channels) keeps one row, named as its Process object', () => {
    const events = log('flash-sale-py');
    const proc = ofType(events, 'process')[1] as ProcessEvent;
    const out = ofType(events, 'output').find((e) => e.pid === proc.pid);
    expect(out, 'the buyer printed something').toBeDefined();
    // The same events, with the buyer's first output moved before its `process` event.
    const moved = events.filter((e) => e !== out);
    moved.splice(moved.indexOf(proc), 0, { ...(out as RunEvent), t: proc.t });
    const m = modelOf(moved);
    const rows = m.processes().filter((r) => r.pid === proc.pid);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: proc.name, handle: proc.handle, key: proc.handle });
    expect(m.processes()).toHaveLength(11);
  });
});

describe('lock lanes in pixel columns', () => {
  it("flash-sale: each column names the holder the log says held the lock there; each buyer's row shows its hold and its wait", async () => {
    const { LaneCoverage, FREE, HELD, WAITING } = await import('../../../src-renderer/components/charts/lane-paint.ts');
    const m = modelOf(log('flash-sale'));
    const [lane] = m.lockLanes();
    const part = new LockParticipants();
    part.update(lane.holdCols, lane.waitCols);
    const holds = lane.holds;
    const from = Math.min(...holds.map((h) => h.start));
    const to = Math.max(...holds.map((h) => h.end ?? 0));
    const width = 2000;
    const kx = width / (to - from);
    const bx = -from * kx;
    const cov = new LaneCoverage();
    cov.read(lane.holdCols, lane.waitCols, from, to, m.now(), kx, bx, width, part.order.length, part.rowTable());
    for (const h of holds) {
      // The middle column of each hold wide enough to own one.
      const a = Math.floor(h.start * kx + bx);
      const b = Math.ceil((h.end ?? to) * kx + bx);
      if (b - a < 3) continue;
      const mid = Math.floor((a + b) / 2);
      expect(m.procAt(cov.holder[mid])?.pid, `column ${mid}`).toBe(h.pid);
      const row = part.rowTable()[cov.holder[mid]];
      expect(cov.rows[row][mid]).toBe(HELD);
    }
    // Nine buyers waited; each has waiting columns on its own row.
    const waited = lane.waits.map((w) => w.pid);
    for (const pid of new Set(waited)) {
      const proc = part.order.find((p) => m.procAt(p)?.pid === pid) as number;
      const r = part.rowTable()[proc];
      expect(Array.from(cov.rows[r].subarray(0, width)).some((v) => v === WAITING), `pid ${pid}`).toBe(true);
    }
    const runs: number[] = [];
    LaneCoverage.runs(cov.holder, cov.width, -1, (a, b, v) => runs.push(v));
    expect(runs.length).toBeGreaterThanOrEqual(new Set(holds.map((h) => h.pid)).size);
    expect(FREE).toBe(0);
  });
});
