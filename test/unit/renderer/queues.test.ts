import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import type { RunEvent } from '../../../src-main/api.ts';
import { proc, queue, run } from './events.ts';
import { processDetails } from '../../../src-renderer/lib/view/details.ts';

const vals = (a: Float64Array) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

describe('queue depth', () => {
  it('records every put and get as a step, labelled by creation order', () => {
    const m = new RunModel();
    m.ingest([
      run(),
      queue(10, 'qa', 'create', 0, 3),
      queue(20, 'qa', 'put', 1, 3),
      queue(30, 'qa', 'put', 2, 3),
      queue(40, 'qa', 'get', 1, 3),
      queue(50, 'qb', 'create', 0),
    ]);
    const queues = m.queues();
    expect(queues.map((q) => [q.queue, q.label, q.maxsize])).toEqual([
      ['qa', 'Queue 1', 3],
      ['qb', 'Queue 2', 0],
    ]);
    expect(vals(queues[0].xs)).toEqual([0.01, 0.02, 0.03, 0.04]);
    expect(vals(queues[0].depth)).toEqual([0, 1, 2, 1]);
    // Each queue has its own rows: Queue 2 starts at its create.
    expect(vals(queues[1].xs)).toEqual([0.05]);
    expect(vals(queues[1].depth)).toEqual([0]);
  });

  it('counts the processes blocked in a get or a put over time, apart from the depth', () => {
    const m = new RunModel();
    const wait = (t: number, op: 'wait' | 'woken' | 'timeout', pid: number, getters: number[], putters: number[] = []): RunEvent => ({
      t,
      type: 'queue',
      queue: 'q',
      op,
      pid,
      depth: 0,
      maxsize: 0,
      side: 'get',
      getters,
      putters,
    });
    m.ingest([run(), queue(10, 'q', 'create', 0), wait(20, 'wait', 7, [7]), wait(30, 'wait', 8, [7, 8]), queue(40, 'q', 'put', 1), wait(41, 'woken', 7, [8]), queue(42, 'q', 'get', 0, 0, 7), wait(50, 'timeout', 8, [])]);
    expect(vals(m.queues()[0].depth)).toEqual([0, 1, 0]);
    const w = m.queueWaiting().get('q');
    expect(w && vals(w.xs)).toEqual([0.02, 0.03, 0.041, 0.05]);
    expect(w && vals(w.depth)).toEqual([1, 2, 1, 0]);
    // The details pane: each process's blocked waits on the queue, and for how long.
    m.ingest([proc(1, 7, 1, 'getter'), proc(1, 8, 1, 'quitter')]);
    const of = (pid: number) => processDetails(m, m.processes().find((r) => r.pid === pid)?.key ?? '')?.queues;
    expect(of(7)).toEqual([{ queue: 'q', index: 1, put: 0, get: 1, waits: 1, waited: 21, longestWait: 21 }]);
    expect(of(8)).toEqual([{ queue: 'q', index: 1, put: 0, get: 0, waits: 1, waited: 20, longestWait: 20 }]);
  });

  it('keeps the last depth and the peak of a bucket when many operations share it', () => {
    const m = new RunModel();
    // All within one 1 ms bucket: up to 5 then back to 2.
    m.ingest([run(), queue(10.1, 'q', 'put', 1), queue(10.2, 'q', 'put', 5), queue(10.3, 'q', 'get', 2)]);
    const q = m.queues()[0];
    expect(vals(q.depth)).toEqual([2]);
    expect(vals(q.peak)).toEqual([5]);
  });

  it('downsamples 100 000 operations a second to at most maxPoints rows and keeps the spikes', () => {
    const maxPoints = 200;
    const m = new RunModel({ maxPoints });
    const events: RunEvent[] = [run()];
    // 2 s at 100k ops/s: the depth cycles 0..3, with one spike to 500 lasting 50 µs.
    for (let i = 0; i < 200_000; i++) {
      const t = i * 0.01;
      const spike = i >= 154_321 && i < 154_326;
      events.push(queue(t, 'q', i % 2 ? 'get' : 'put', spike ? 500 : i % 4, 0));
    }
    m.ingest(events);
    const [q] = m.queues();
    const bucketMs = q.bucketMs;
    expect(q.xs.length).toBeLessThanOrEqual(maxPoints);
    expect(bucketMs).toBeGreaterThan(1);
    expect(Math.max(...vals(q.peak).map((v) => v ?? 0))).toBe(500);
    // The spike sits in the bucket that holds t = 1543.21 ms, and only there.
    const at = vals(q.xs).findIndex((x, k) => (x ?? 0) * 1000 <= 1543.21 && (k + 1 === q.xs.length || q.xs[k + 1] * 1000 > 1543.21));
    expect(q.peak[at]).toBe(500);
    expect(vals(q.peak).filter((v) => v === 500)).toHaveLength(1);
    // The last depth is the last operation's.
    expect(q.depth[q.depth.length - 1]).toBe(199_999 % 4);
  });
});

describe('queue depth, reported late', () => {
  it('keeps each queue exact when two queues report out of time order (Python mode batches)', () => {
    const m = new RunModel();
    // Queue a's batch arrives first, then queue b's with earlier stamps: t is ordered per queue only.
    m.ingest([run(), queue(100, 'a', 'put', 1), queue(105, 'a', 'put', 2), queue(90, 'b', 'put', 1), queue(95, 'b', 'put', 2), queue(101, 'b', 'get', 1)]);
    const [a, b] = m.queues();
    expect(vals(a.xs)).toEqual([0.1, 0.105]);
    expect(vals(b.xs)).toEqual([0.09, 0.095, 0.101]);
    expect(vals(b.depth)).toEqual([1, 2, 1]);
  });
});
