import { describe, expect, it } from 'vitest';
import { DRAW_NOW, RedrawGate, UNCHANGED, type GateState } from '../../../src-renderer/components/charts/redraw-gate.ts';

const base: GateState = { rev: 1, min: 0, max: 600, now: 600, width: 1200, extra: '' };

describe('redraw gate', () => {
  it('draws the first time, then only when something visible changed', () => {
    const g = new RedrawGate(33);
    expect(g.check(base, 0)).toBe(DRAW_NOW);
    g.drawn(base, 0);
    expect(g.check(base, 100)).toBe(UNCHANGED);
    // Following a live run: 16 ms later "now" moved 0.03 px at 2 px/s: nothing to paint.
    expect(g.check({ ...base, max: 600.016, now: 600.016 }, 116)).toBe(UNCHANGED);
    // 0.3 s later it moved more than half a pixel: redraw.
    expect(g.check({ ...base, max: 600.3, now: 600.3 }, 400)).toBe(DRAW_NOW);
    expect(g.check({ ...base, extra: 'marker 5' }, 100)).toBe(DRAW_NOW);
    expect(g.check({ ...base, width: 1000 }, 100)).toBe(DRAW_NOW);
  });

  it('redraws for new data at most every minDataIntervalMs, telling when to ask again', () => {
    const g = new RedrawGate(33);
    g.drawn(base, 1000);
    expect(g.check({ ...base, rev: 2 }, 1010)).toBe(23);
    expect(g.check({ ...base, rev: 2 }, 1040)).toBe(DRAW_NOW);
    // A zoom is not throttled.
    expect(g.check({ ...base, rev: 2, min: 100 }, 1010)).toBe(DRAW_NOW);
  });

  it('reset() makes the next check draw', () => {
    const g = new RedrawGate();
    g.drawn(base, 0);
    g.reset();
    expect(g.check(base, 1)).toBe(DRAW_NOW);
  });
});
