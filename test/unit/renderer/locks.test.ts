import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import type { RunEvent } from '../../../src-main/api.ts';
import { exit, lock, proc, run } from './events.ts';

function model(events: RunEvent[]): RunModel {
  const m = new RunModel();
  m.ingest([run(), proc(0, 1, 0, 'MainProcess'), proc(1, 2, 1, 'P2', 'h2'), proc(1, 3, 1, 'P3', 'h3'), ...events]);
  return m;
}

const vals = (a: Float64Array | undefined) => (a ? Array.from(a) : []);
const spans = (segs: { pid: number; start: number; end: number | null }[]) => segs.map((s) => [s.pid, s.start, s.end]);

describe('lock lanes', () => {
  it('two holders one after the other give two non-overlapping holds and no wait', () => {
    const m = model([
      lock(5, 'L', 'create', 1, null),
      lock(10, 'L', 'request', 2, null),
      lock(10, 'L', 'acquire', 2, 2),
      lock(20, 'L', 'release', 2, null),
      lock(25, 'L', 'request', 3, null),
      lock(25, 'L', 'acquire', 3, 3),
      lock(40, 'L', 'release', 3, null),
    ]);
    const [lane] = m.lockLanes();
    expect(lane.label).toBe('Lock 1');
    expect(spans(lane.holds)).toEqual([
      [2, 10, 20],
      [3, 25, 40],
    ]);
    expect(lane.waits).toEqual([]);
    expect(lane.holds[0].key).toBe('h2');
    expect(lane.holds[1].color).toBe(m.processes().find((r) => r.pid === 3)?.color);
  });

  it('a semaphore: named with its capacity, its holders overlap, a request waits only when listed', () => {
    const sem = (t: number, op: 'create' | 'request' | 'acquire' | 'release', pid: number, holders: number[], waiters: number[] = []): RunEvent => ({
      t,
      type: 'lock',
      lock: 'S',
      op,
      pid,
      holder: holders[0] ?? null,
      waiters,
      holders,
      value: 2 - holders.length,
      ...(op === 'create' ? { kind: 'semaphore' as const, capacity: 2 } : {}),
    });
    const m = model([
      sem(5, 'create', 1, []),
      sem(10, 'request', 2, []),
      sem(10, 'acquire', 2, [2]),
      sem(12, 'request', 3, [2]),
      sem(12, 'acquire', 3, [2, 3]),
      sem(14, 'request', 1, [2, 3], [1]),
      sem(20, 'release', 2, [3], [1]),
      sem(20, 'acquire', 1, [3, 1]),
      sem(30, 'release', 3, [1]),
      sem(31, 'release', 1, []),
    ]);
    const [lane] = m.lockLanes();
    expect([lane.label, lane.kind, lane.capacity]).toEqual(['Semaphore 1', 'semaphore', 2]);
    expect(spans(lane.holds)).toEqual([
      [2, 10, 20],
      [3, 12, 30],
      [1, 20, 31],
    ]);
    expect(spans(lane.waits)).toEqual([[1, 14, 20]]);
  });

  it("an Event: its lane has no holds; each waiter's wait ends at the set() that released it, a timed-out one at its timeout", () => {
    const ev = (t: number, op: 'create' | 'wait' | 'set' | 'timeout', pid: number, waiters: number[], released?: number[]): RunEvent => ({
      t,
      type: 'sync',
      sync: 'E',
      kind: 'event',
      op,
      pid,
      waiters,
      set: op === 'set',
      ...(released ? { released } : {}),
    });
    const m = model([ev(5, 'create', 1, []), ev(10, 'wait', 2, [2]), ev(11, 'wait', 3, [2, 3]), ev(12, 'timeout', 3, [2]), ev(13, 'wait', 3, [2, 3]), ev(20, 'set', 1, [], [2, 3])]);
    const [lane] = m.lockLanes();
    expect([lane.label, lane.kind]).toEqual(['Event 1', 'event']);
    expect(lane.holds).toEqual([]);
    expect(spans(lane.waits)).toEqual([
      [2, 10, 20],
      [3, 11, 12],
      [3, 13, 20],
    ]);
    expect(vals(m.lockWaiting().get('E')?.depth)).toEqual([0, 1, 2, 1, 2, 0]);
  });

  it('a process that asks while another holds gets a wait segment ending at its acquire', () => {
    const m = model([
      lock(10, 'L', 'request', 2, null),
      lock(10, 'L', 'acquire', 2, 2),
      lock(12, 'L', 'request', 3, 2),
      lock(30, 'L', 'release', 2, null, [3]),
      lock(30, 'L', 'acquire', 3, 3),
    ]);
    const [lane] = m.lockLanes();
    expect(spans(lane.waits)).toEqual([[3, 12, 30]]);
    expect(spans(lane.holds)).toEqual([
      [2, 10, 30],
      [3, 30, null],
    ]);
    expect(lane.holder).toBe(3);
  });

  it('a wait that times out ends at the timeout, and the lock is not acquired', () => {
    const m = model([
      lock(10, 'L', 'request', 2, null),
      lock(10, 'L', 'acquire', 2, 2),
      lock(12, 'L', 'request', 3, 2),
      lock(17, 'L', 'timeout', 3, 2),
    ]);
    const [lane] = m.lockLanes();
    expect(spans(lane.waits)).toEqual([[3, 12, 17]]);
    expect(lane.waitCols.outcome[0]).toBe(1);
    expect(lane.stats).toMatchObject({ acquisitions: 1, waited: 0, timeouts: 1 });
  });

  it('a waiter that exits stops waiting there', () => {
    const m = model([lock(10, 'L', 'request', 2, null), lock(10, 'L', 'acquire', 2, 2), lock(12, 'L', 'request', 3, 2), exit(19, 3, -9)]);
    expect(spans(m.lockLanes()[0].waits)).toEqual([[3, 12, 19]]);
  });

  it('flags a lock whose holder exited holding it: "held by <pid>, which exited"', () => {
    const m = model([
      lock(10, 'L', 'request', 2, null),
      lock(10, 'L', 'acquire', 2, 2),
      lock(12, 'L', 'request', 3, 2),
      lock(20, 'L', 'abandoned', 2, 2, [3]),
      exit(20, 2, 1),
    ]);
    const [lane] = m.lockLanes();
    expect(lane.flag).toEqual({ kind: 'abandoned', text: 'held by 2, which exited', pid: 2, at: 20 });
    expect(spans(lane.holds)).toEqual([[2, 10, 20]]);
    expect(lane.abandoned).toMatchObject({ pid: 2, at: 20 });
    // 3 is still waiting, for ever: its wait stays open.
    expect(spans(lane.waits)).toEqual([[3, 12, null]]);
  });

  it('flags every lock of a deadlock cycle with a text naming both pids and both locks', () => {
    const m = model([
      lock(1, 'A', 'create', 1, null),
      lock(1, 'B', 'create', 1, null),
      lock(10, 'A', 'request', 2, null),
      lock(10, 'A', 'acquire', 2, 2),
      lock(12, 'B', 'request', 3, null),
      lock(12, 'B', 'acquire', 3, 3),
      lock(20, 'B', 'request', 2, 3),
      lock(22, 'A', 'request', 3, 2),
      {
        t: 22,
        type: 'deadlock',
        cycle: [
          { pid: 3, lock: 'A', holder: 2 },
          { pid: 2, lock: 'B', holder: 3 },
        ],
      },
    ]);
    const lanes = m.lockLanes();
    expect(lanes.map((l) => l.flag?.kind)).toEqual(['deadlock', 'deadlock']);
    const flag = lanes[0].flag;
    expect(flag?.kind === 'deadlock' && flag.pids).toEqual([3, 2]);
    expect(flag?.text).toBe('Deadlock: 3 waits for Lock 1 held by 2; 2 waits for Lock 2 held by 3');
    expect(lanes[1].flag?.text).toBe(flag?.text);
    expect(m.deadlocks()).toHaveLength(1);
  });

  it('computes lock_stat figures: acquisitions, waited, wait and hold avg/max in ms', () => {
    const m = model([
      lock(0, 'L', 'create', 1, null),
      lock(10, 'L', 'request', 1, null), // free: not a wait
      lock(10, 'L', 'acquire', 1, 1),
      lock(20, 'L', 'request', 2, 1), // held by 1: waits
      lock(30, 'L', 'request', 3, 1, [2]), // held, 2 queued: waits
      lock(40, 'L', 'release', 1, null, [2, 3]), // hold 30
      lock(40, 'L', 'acquire', 2, 2, [3]), // waited 20
      lock(45, 'L', 'timeout', 3, 2), // gave up after 15: a timeout, not an acquisition
      lock(50, 'L', 'release', 2, null), // hold 10
      lock(60, 'L', 'request', 3, null),
      lock(60, 'L', 'acquire', 3, 3),
      lock(100, 'L', 'release', 3, null), // hold 40
    ]);
    const s = m.lockLanes()[0].stats;
    expect(s.acquisitions).toBe(3);
    expect(s.waited).toBe(1);
    expect(s.avgWait).toBe(20);
    expect(s.maxWait).toBe(20);
    expect(s.avgHold).toBeCloseTo(80 / 3, 9);
    expect(s.maxHold).toBe(40);
    expect(s.timeouts).toBe(1);
  });

  it('stays bounded under 100 000 acquisitions, still covering the whole run, with exact figures', () => {
    const m = new RunModel({ maxSegments: 1000 });
    const events: RunEvent[] = [run(), proc(0, 1, 0, 'MainProcess'), proc(1, 2, 1, 'P2', 'h2')];
    for (let i = 0; i < 100_000; i++) {
      const pid = 1 + (i % 2);
      events.push(lock(i, 'L', 'request', pid, null), lock(i, 'L', 'acquire', pid, pid), lock(i + 0.5, 'L', 'release', pid, null));
    }
    m.ingest(events);
    const lane = m.lockLanes()[0];
    const holds = lane.holdCols;
    expect(holds.length).toBeLessThanOrEqual(1000);
    expect(lane.stats.acquisitions).toBe(100_000);
    expect(lane.stats.avgHold).toBeCloseTo(0.5, 9);
    // The whole run is still covered (old holds merged into coarser blocks, in order)…
    expect(holds.start[0]).toBe(0);
    for (let i = 1; i < holds.length; i++) expect(holds.start[i]).toBeGreaterThanOrEqual(holds.start[i - 1]);
    // …and the newest ones keep their full detail.
    expect(holds.start[holds.length - 1]).toBe(99_999);
    expect(holds.end[holds.length - 1]).toBe(99_999.5);
  });
});

describe('bounded segments', () => {
  it('never merges away an open wait, however old', () => {
    const m = new RunModel({ maxSegments: 100 });
    const events: RunEvent[] = [run(), proc(0, 1, 0, 'MainProcess'), proc(1, 2, 1, 'P2', 'h2'), proc(1, 3, 1, 'P3', 'h3')];
    // 3 takes the lock at 0 and never lets go; 2 waits for it from t = 1 on; L2 churns meanwhile.
    events.push(lock(0, 'L', 'request', 3, null), lock(0, 'L', 'acquire', 3, 3), lock(1, 'L', 'request', 2, 3));
    for (let i = 0; i < 5000; i++) events.push(lock(2 + i, 'L', 'request', 1, 3, [2]), lock(2.5 + i, 'L', 'timeout', 1, 3, [2]));
    m.ingest(events);
    const lane = m.lockLanes()[0];
    expect(lane.waitCols.length).toBeLessThanOrEqual(100);
    const open = [...lane.waitCols.openIndices()];
    expect(open.map((i) => [lane.waitCols.pid[i], lane.waitCols.start[i]])).toEqual([[2, 1]]);
    expect(lane.stats.timeouts).toBe(5000);
  });
});
