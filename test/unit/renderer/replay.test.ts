import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import type { RunEvent } from '../../../src-main/api.ts';
import { created, exit, lock, out, proc, queue, run, sample } from './events.ts';

/** A small but busy run: 6 workers over 30 s with samples, a queue, a contended lock and output. */
function syntheticRun(): RunEvent[] {
  const ev: RunEvent[] = [run(0, 100), proc(1, 100, 1, 'MainProcess'), queue(2, 'q', 'create', 0, 8, 100), lock(2, 'L', 'create', 100, null)];
  let depth = 0;
  let holder: number | null = null;
  for (let w = 0; w < 6; w++) ev.push(created(3 + w, `h${w}`, 100, `Worker-${w}`));
  for (let tick = 1; tick <= 300; tick++) {
    const t = tick * 100;
    if (tick <= 6) ev.push(proc(t - 50, 200 + tick, 100, `Worker-${tick - 1}`, `h${tick - 1}`));
    const alive = [100, ...[1, 2, 3, 4, 5, 6].filter((k) => tick > k && !(tick > 250 && k % 2 === 0)).map((k) => 200 + k)];
    alive.forEach((pid, k) => ev.push(sample(t + k * 0.01, pid, (tick * 7 + k * 13) % 100, (40 + k + tick / 10) * 1024 * 1024)));
    depth = Math.max(0, Math.min(8, depth + ((tick % 5) - 2)));
    ev.push(queue(t + 1, 'q', tick % 2 ? 'put' : 'get', depth, 8, 201));
    const pid = alive[tick % alive.length];
    if (holder === null) {
      ev.push(lock(t + 2, 'L', 'request', pid, null), lock(t + 2, 'L', 'acquire', pid, pid));
      holder = pid;
    } else {
      if (pid !== holder) ev.push(lock(t + 2, 'L', 'request', pid, holder));
      ev.push(lock(t + 40, 'L', 'release', holder, null, pid !== holder ? [pid] : []));
      if (pid !== holder) ev.push(lock(t + 40, 'L', 'acquire', pid, pid));
      holder = pid !== holder ? pid : null;
    }
    ev.push(out(t + 3, pid, `tick ${tick}`));
    if (tick === 251) for (const k of [2, 4, 6]) ev.push(exit(t + 5, 200 + k, k === 4 ? -15 : 0));
  }
  ev.push({ t: 30_100, type: 'end', reason: 'finished', exitcode: 0 });
  return ev;
}

/** Everything the queries show, as plain data. */
function snapshot(m: RunModel) {
  const arr = (a: Float64Array) => Array.from(a);
  return {
    processes: m.processes(),
    cpu: m.cpu().data.map(arr),
    rss: m.rss().data.map(arr),
    cpuCoarse: m.cpu({ from: 0, to: 30, points: 40 }).data.map(arr),
    queues: m.queues().map((q) => ({ label: q.label, xs: arr(q.xs), depth: arr(q.depth), peak: arr(q.peak) })),
    lanes: m.lockLanes().map((l) => ({ holds: l.holds, waits: l.waits, stats: l.stats, flag: l.flag })),
    timeline: m.timeline(),
    console: m.console(),
    end: m.end(),
    now: m.now(),
  };
}

describe('replaying a log', () => {
  it('gives the same state whether the events come in one batch or in many', () => {
    const events = syntheticRun();
    const whole = new RunModel({ maxPoints: 200 });
    whole.ingest(events);

    const pieces = new RunModel({ maxPoints: 200 });
    for (let i = 0, size = 1; i < events.length; i += size, size = (size * 7) % 53 + 1) {
      pieces.ingest(events.slice(i, i + size));
      pieces.processes(); // queries between batches must not change the outcome
      pieces.cpu({ from: 0, to: 30, points: 40 });
    }
    const shown = snapshot(whole);
    // The run really exercises every part: evicted rows, a coarse level, waits, exits.
    expect(shown.cpu[0]).toHaveLength(200);
    expect(shown.cpuCoarse[0].length).toBeLessThan(200);
    expect(shown.lanes[0].waits.length).toBeGreaterThan(10);
    expect(shown.processes.filter((p) => p.state === 'exited')).toHaveLength(3);
    expect(snapshot(pieces)).toEqual(shown);
  });

  it('reset() forgets the run: replaying it again gives the same state', () => {
    const events = syntheticRun();
    const m = new RunModel({ maxPoints: 200 });
    m.ingest(events);
    const first = snapshot(m);
    m.reset();
    expect(m.processes()).toEqual([]);
    expect(m.cpu().series).toEqual([]);
    expect(m.run()).toBeNull();
    m.ingest(events);
    expect(snapshot(m)).toEqual(first);
  });

  it('bumps version on every batch that has events', () => {
    const m = new RunModel();
    const v0 = m.version;
    m.ingest([]);
    expect(m.version).toBe(v0);
    m.ingest([run()]);
    expect(m.version).toBe(v0 + 1);
  });
});
