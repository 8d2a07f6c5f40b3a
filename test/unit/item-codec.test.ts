import { describe, expect, it } from 'vitest';
import { decodeItem, encodeItem } from '../../src-main/runtime/item-codec.ts';
import { packItems, unpackItems } from '../../src-main/protocol.ts';

describe('queue items as bytes', () => {
  it('round-trips primitives through the fast path and everything else through structured clone', () => {
    const values: unknown[] = [0, -0, 1.1, -7, NaN, Infinity, 2 ** 53, '', '0', 'héllo 世界 😀', 'x'.repeat(5000), true, false, null, undefined,
      { a: [1, 'b'] }, new Map([[1, new Set([2])]]), new Date(0), 10n, new Uint8Array([1, 2, 3])];
    for (const v of values) expect(decodeItem(encodeItem(v)), String(v)).toEqual(v);
    expect(Object.is(decodeItem(encodeItem(-0)), -0)).toBe(true);
    // The fast path is really taken for the common cases (one tag byte, then the value).
    expect(encodeItem(42).length).toBe(9);
    expect(encodeItem(null).length).toBe(2);
  });

  it('packs many items into one buffer and back, and refuses a truncated pack', () => {
    const items = [encodeItem(1), encodeItem('two'), encodeItem({ three: 3 }), new Uint8Array(0)];
    const back = unpackItems(packItems(items));
    expect(back.map((b) => [...b])).toEqual(items.map((b) => [...b]));
    expect(() => unpackItems(packItems(items).subarray(0, 7))).toThrow('truncated item pack');
  });
});
