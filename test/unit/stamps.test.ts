import { describe, it, expect } from 'vitest';
import { Stamps } from '../../src-main/core/broker/stamps.ts';

describe('Stamps.fit', () => {
  it('keeps a stamp between the floor and now, reading the clock only for a stamp past the last time it read', () => {
    let now = 100;
    let reads = 0;
    const stamps = new Stamps(() => {
      reads += 1;
      return now;
    });
    // Later than now: now, read from the clock.
    expect(stamps.fit(150.0004, 0)).toBe(100);
    expect(reads).toBe(1);
    // Earlier than a time the clock gave: as it is (rounded to whole µs, kept above the floor), no read.
    expect(stamps.fit(50.0004, 0)).toBe(50);
    expect(stamps.fit(40, 60)).toBe(60);
    expect(stamps.fit(-5, 0)).toBe(0);
    expect(reads).toBe(1);
    // The clock went on: a stamp past what it last gave reads it again.
    now = 200;
    expect(stamps.fit(150, 0)).toBe(150);
    expect(reads).toBe(2);
    expect(stamps.fit(250, 0)).toBe(200);
    expect(reads).toBe(3);
  });
});
