import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src-main/api.ts';
import { lastIndexAtOrBefore, ProcessHistory, type HistoryRow } from '../../../src-renderer/lib/process-history.ts';

const events: RunEvent[] = [
  { t: 10, type: 'process', pid: 100, ppid: 1, name: 'MainProcess', daemon: false },
  { t: 20, type: 'sample', pid: 100, cpu: 50, rss: 1000 },
  { t: 300, type: 'created', handle: 'h1', owner: 100, name: 'demo', daemon: true },
  { t: 310, type: 'process', pid: 101, ppid: 100, name: 'demo', daemon: true, handle: 'h1' },
  { t: 500, type: 'sample', pid: 100, cpu: 10, rss: 2000 },
  { t: 500, type: 'sample', pid: 101, cpu: 80, rss: 3000 },
  { t: 1000, type: 'sample', pid: 101, cpu: 5, rss: 3500 },
  { t: 1300, type: 'exit', pid: 101, exitcode: -15 },
  { t: 1400, type: 'closed', handle: 'h1', pid: 101 },
  { t: 1500, type: 'created', handle: 'h2', owner: 100, name: 'later', daemon: false },
];

// The rows as the model reports them at the end of the run.
const rows: HistoryRow[] = [
  { key: 'pid:100', handle: null, pid: 100, state: 'running', exitcode: null, cpu: 1, rss: 2100, startedAt: 10, endedAt: null },
  { key: 'h1', handle: 'h1', pid: 101, state: 'closed', exitcode: -15, cpu: null, rss: null, startedAt: 310, endedAt: 1300 },
  { key: 'h2', handle: 'h2', pid: null, state: 'created', exitcode: null, cpu: null, rss: null, startedAt: null, endedAt: null },
];

function history() {
  const h = new ProcessHistory();
  h.ingest(events);
  return h;
}

describe('process table as of a moment', () => {
  it('binary search finds the last time at or before t', () => {
    const ts = [10, 20, 20, 30];
    expect(lastIndexAtOrBefore(ts, 4, 5)).toBe(-1);
    expect(lastIndexAtOrBefore(ts, 4, 20)).toBe(2);
    expect(lastIndexAtOrBefore(ts, 4, 25)).toBe(2);
    expect(lastIndexAtOrBefore(ts, 4, 99)).toBe(3);
    expect(lastIndexAtOrBefore(ts, 0, 99)).toBe(-1);
  });

  it('leaves out objects not created yet', () => {
    expect(history().asOf(rows, 100).map((r) => r.key)).toEqual(['pid:100']);
    expect(history().asOf(rows, 305).map((r) => r.key)).toEqual(['pid:100', 'h1']);
  });

  it('a created object not started yet is created, with no numbers', () => {
    const [, demo] = history().asOf(rows, 305);
    expect(demo).toMatchObject({ state: 'created', exitcode: null, cpu: null, rss: null });
  });

  it('a running process shows its last sample at or before the moment', () => {
    const [main, demo] = history().asOf(rows, 700);
    expect(main).toMatchObject({ state: 'running', cpu: 10, rss: 2000 });
    expect(demo).toMatchObject({ state: 'running', cpu: 80, rss: 3000, exitcode: null });
  });

  it('running before its first sample has no numbers yet', () => {
    const [, demo] = history().asOf(rows, 400);
    expect(demo).toMatchObject({ state: 'running', cpu: null, rss: null });
  });

  it('after its exit it is exited with its exitcode, then closed', () => {
    expect(history().asOf(rows, 1350)[1]).toMatchObject({ state: 'exited', exitcode: -15, cpu: null });
    expect(history().asOf(rows, 1450)[1]).toMatchObject({ state: 'closed', exitcode: -15 });
  });

  it('keeps the other fields of the row', () => {
    const out = history().asOf([{ ...rows[0], extra: 'kept' } as HistoryRow & { extra: string }], 50);
    expect(out[0].extra).toBe('kept');
  });

  it('forgets everything on reset', () => {
    const h = history();
    h.reset();
    expect(h.sampleAt(100, 10_000)).toBeNull();
    // Without its `created` time the object counts from its start.
    expect(h.asOf(rows, 305).map((r) => r.key)).toEqual(['pid:100', 'h2']);
  });

  it('grows past its first buffer without losing samples', () => {
    const h = new ProcessHistory();
    const many: RunEvent[] = Array.from({ length: 1000 }, (_, i) => ({ t: i, type: 'sample', pid: 7, cpu: i, rss: i * 10 }));
    h.ingest(many);
    expect(h.sampleAt(7, 999)).toEqual({ cpu: 999, rss: 9990 });
    expect(h.sampleAt(7, 500.5)).toEqual({ cpu: 500, rss: 5000 });
  });
});

describe("a Pool worker's task count", () => {
  const pool: RunEvent[] = [
    { t: 10, type: 'process', pid: 100, ppid: 1, name: 'MainProcess', daemon: false },
    { t: 20, type: 'process', pid: 201, ppid: 100, name: 'ForkPoolWorker-1', daemon: true },
    { t: 50, type: 'task', pid: 201, done: 1, failed: 0 },
    { t: 80, type: 'task', pid: 201, done: 2, failed: 1 },
  ];

  it('the model keeps the latest counts on the worker row only', async () => {
    const { RunModel } = await import('../../../src-renderer/lib/model/run-model.ts');
    const m = new RunModel();
    m.ingest([{ t: 0, type: 'run', version: 1, scenario: 'pool-map', startedAt: '2026-01-01T00:00:00.000Z', interval: 500, cwd: '/' }, ...pool]);
    const [main, worker] = m.processes();
    expect(main.tasks).toBeUndefined();
    expect(worker.tasks).toEqual({ done: 2, failed: 1 });
  });

  it('as of a moment: the counts then, none before the first finished task', () => {
    const h = new ProcessHistory();
    h.ingest(pool);
    const worker: HistoryRow = { key: 'pid:201', handle: null, pid: 201, state: 'running', exitcode: null, cpu: null, rss: null, startedAt: 20, endedAt: null, tasks: { done: 2, failed: 1 } };
    expect(h.asOf([worker], 30)[0].tasks).toBeUndefined();
    expect(h.asOf([worker], 60)[0].tasks).toEqual({ done: 1, failed: 0 });
    expect(h.asOf([worker], 90)[0].tasks).toEqual({ done: 2, failed: 1 });
  });
});
