import { describe, expect, it } from 'vitest';
import { ColumnTable } from '../../../src-renderer/lib/model/ring.ts';

const arr = (a: Float64Array) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

describe('column ring', () => {
  for (const initial of [8, Infinity]) {
    it(`keeps the newest maxRows rows as one contiguous view (initial capacity ${initial})`, () => {
      const t = new ColumnTable(10, initial);
      const c = t.addColumn();
      for (let i = 0; i < 57; i++) {
        t.appendRow(i);
        if (i % 3 === 0) t.set(c, t.length - 1, i * 10);
      }
      expect(t.length).toBe(10);
      expect(t.firstSeq).toBe(47);
      expect(arr(t.xs())).toEqual([47, 48, 49, 50, 51, 52, 53, 54, 55, 56]);
      // Rows never set read as missing, even in slots reused after a slide.
      expect(arr(t.column(c))).toEqual([null, 480, null, null, 510, null, null, 540, null, null]);
      expect(t.lowerBound(50.5)).toBe(4);
    });
  }

  it('gives a column added later NaN for the rows before it', () => {
    const t = new ColumnTable(4);
    t.addColumn();
    t.appendRow(1);
    t.appendRow(2);
    const late = t.addColumn();
    t.appendRow(3);
    t.set(late, 2, 7);
    expect(arr(t.column(late))).toEqual([null, null, 7]);
  });

  it('merges rows of the same bucket with the given rule', () => {
    const t = new ColumnTable(100);
    const last = t.addColumn();
    const peak = t.addColumn();
    [
      [0, 1, 1],
      [1, 5, 9],
      [2, 2, 2],
      [5, 0, 3],
    ].forEach(([x, a, b], r) => {
      t.appendRow(x);
      t.set(last, r, a);
      t.set(peak, r, b);
    });
    t.mergeRows(
      (x) => Math.floor(x / 2),
      (b) => b * 2,
      (col, earlier, later) => (col === last ? later : Math.max(earlier, later)),
    );
    expect(arr(t.xs())).toEqual([0, 2, 4]);
    expect(arr(t.column(last))).toEqual([5, 2, 0]);
    expect(arr(t.column(peak))).toEqual([9, 2, 3]);
    // Appending after a merge starts from missing values again.
    t.appendRow(9);
    expect(arr(t.column(peak))).toEqual([9, 2, 3, null]);
  });
});
