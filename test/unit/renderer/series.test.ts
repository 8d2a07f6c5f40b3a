import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import { exit, proc, run, sample } from './events.ts';

const MiB = 1024 * 1024;

/** Values of a Float64Array column, NaN shown as null so expectations read naturally. */
const vals = (a: Float64Array) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

describe('cpu and memory series', () => {
  it('aligns the samples of one sampler tick in one row, a missing process as a gap', () => {
    const m = new RunModel();
    m.ingest([
      run(0, 100),
      proc(1, 100, 1, 'MainProcess'),
      proc(2, 101, 100, 'A', 'h1'),
      sample(100.1, 100, 10, 20 * MiB),
      sample(100.3, 101, 50, 30 * MiB),
      sample(200.2, 100, 11, 21 * MiB),
      // 101 is missing from this tick
      sample(300.1, 100, 12, 22 * MiB),
      sample(300.2, 101, 70, 31 * MiB),
    ]);
    const cpu = m.cpu();
    expect(cpu.series.map((s) => s.label)).toEqual(['MainProcess (100)', 'A (101)']);
    // x = the tick's first sample, in seconds
    expect(Array.from(cpu.data[0], (x) => Math.round(x * 1e7) / 1e7)).toEqual([0.1001, 0.2002, 0.3001]);
    expect(vals(cpu.data[1])).toEqual([10, 11, 12]);
    expect(vals(cpu.data[2])).toEqual([50, null, 70]);
    expect(vals(m.rss().data[2])).toEqual([30, null, 31]);
  });

  it('starts a new row when a pid comes again within the window (a fast sampler)', () => {
    const m = new RunModel();
    m.ingest([run(0, 1000), proc(1, 100, 1, 'MainProcess'), sample(10, 100, 1), sample(20, 100, 2), sample(30, 100, 3)]);
    expect(vals(m.cpu().data[1])).toEqual([1, 2, 3]);
  });

  it('keeps at most maxPoints rows, dropping the oldest', () => {
    const m = new RunModel({ maxPoints: 50 });
    const events = [run(0, 100), proc(1, 100, 1, 'MainProcess')];
    for (let i = 1; i <= 1000; i++) events.push(sample(i * 100, 100, i));
    m.ingest(events);
    const cpu = m.cpu();
    expect(cpu.data[0].length).toBe(50);
    expect(cpu.data[1][0]).toBe(951);
    expect(cpu.data[1][49]).toBe(1000);
    expect(cpu.data[0][49]).toBeCloseTo(100, 6);
  });

  it('hands a chart a max level with about one point per pixel, keeping every peak', () => {
    const m = new RunModel({ maxPoints: 6000 });
    const events = [run(0, 100), proc(1, 100, 1, 'MainProcess')];
    for (let i = 0; i < 6000; i++) events.push(sample(i * 100 + 1, 100, i === 4321 ? 99 : 1));
    m.ingest(events);
    const view = m.cpu({ from: 0, to: 600, points: 500 });
    expect(view.level).toBeGreaterThan(0);
    expect(view.data[0].length).toBeLessThanOrEqual(500);
    expect(Math.max(...vals(view.data[1]).map((v) => v ?? 0))).toBe(99);
    // Zoomed in on 20 s (200 rows), the raw rows fit.
    expect(m.cpu({ from: 400, to: 420, points: 500 }).level).toBe(0);
  });

  it('drops the series of an exited process once all its samples aged out', () => {
    const m = new RunModel({ maxPoints: 100 });
    const events = [run(0, 100), proc(1, 100, 1, 'MainProcess'), proc(2, 101, 100, 'short', 'h1')];
    events.push(sample(100, 100, 1), sample(100.5, 101, 5), exit(150, 101));
    for (let i = 2; i < 400; i++) events.push(sample(i * 100, 100, 1));
    m.ingest(events);
    expect(m.cpu().series.map((s) => s.key)).toEqual(['pid:100']);
    expect(m.cpu().data).toHaveLength(2);
    expect(m.processes().map((r) => r.name)).toEqual(['MainProcess', 'short']);
  });

  it('does not allocate a row per sample: 200 processes x 10 min stay within maxPoints rows', () => {
    const m = new RunModel();
    const events = [run(0, 100), proc(1, 1000, 1, 'MainProcess')];
    for (let p = 1; p < 200; p++) events.push(proc(2, 1000 + p, 1000, `P${p}`, `h${p}`));
    for (let tick = 0; tick < 6100; tick++) for (let p = 0; p < 200; p++) events.push(sample(tick * 100 + 5 + p * 0.01, 1000 + p, p % 100));
    m.ingest(events);
    const cpu = m.cpu();
    expect(cpu.series).toHaveLength(200);
    expect(cpu.data[0].length).toBe(6000);
    expect(cpu.data[200][5999]).toBe(99);
  });
});
