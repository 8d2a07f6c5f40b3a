import { describe, expect, it } from 'vitest';
import { FrameBudget } from '../../../src-renderer/components/charts/frame-budget.ts';

/** A scheduler whose frames run when the test says so. */
function manualFrames() {
  let pending: (() => void)[] = [];
  return {
    request: (cb: () => void) => void pending.push(cb),
    frame() {
      const run = pending;
      pending = [];
      for (const cb of run) cb();
    },
  };
}

describe('frame budget', () => {
  it('redraws every waiting chart in one frame when they fit', () => {
    const f = manualFrames();
    const budget = new FrameBudget(12, f.request);
    const drawn: string[] = [];
    const a = budget.register(() => drawn.push('a'));
    const b = budget.register(() => drawn.push('b'));
    a.request();
    b.request();
    a.request(); // asking twice still draws once
    f.frame();
    expect(drawn).toEqual(['a', 'b']);
  });

  it('spreads costly charts over frames, at least one per frame, and starves none', () => {
    const f = manualFrames();
    const budget = new FrameBudget(12, f.request);
    const drawn: string[][] = [];
    let frame: string[] = [];
    const jobs = ['a', 'b', 'c'].map((name) => {
      const job = budget.register(() => frame.push(name));
      job.measured(10);
      job.measured(10);
      job.measured(10);
      job.measured(10);
      return job;
    });
    for (let i = 0; i < 6; i++) {
      for (const j of jobs) j.request(); // new data every frame, for every chart
      frame = [];
      f.frame();
      drawn.push(frame);
    }
    expect(drawn.every((d) => d.length === 1)).toBe(true);
    expect(drawn.flat()).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('gives every chart of a round the same "now", even when they draw frames apart; the next round reads afresh', () => {
    const f = manualFrames();
    const budget = new FrameBudget(12, f.request);
    const run = {};
    let now = 100;
    const seen: Record<string, number[]> = { a: [], b: [], c: [] };
    const jobs = ['a', 'b', 'c'].map((name) => {
      const job = budget.register(() => seen[name].push(budget.steady(run, () => now)));
      for (let i = 0; i < 4; i++) job.measured(10); // one chart a frame
      return job;
    });
    for (const j of jobs) j.request();
    for (let i = 0; i < 3; i++) {
      f.frame();
      now += 50; // the run moves on between frames
    }
    expect(seen).toEqual({ a: [100], b: [100], c: [100] });
    // Outside a round a read is fresh; the next round holds that.
    expect(budget.steady(run, () => now)).toBe(250);
    for (const j of jobs) j.request();
    for (let i = 0; i < 3; i++) {
      f.frame();
      now += 50;
    }
    expect(seen).toEqual({ a: [100, 250], b: [100, 250], c: [100, 250] });
  });

  it('forgets a disposed chart', () => {
    const f = manualFrames();
    const budget = new FrameBudget(12, f.request);
    const drawn: string[] = [];
    const a = budget.register(() => drawn.push('a'));
    a.request();
    a.dispose();
    f.frame();
    a.request();
    f.frame();
    expect(drawn).toEqual([]);
  });
});
