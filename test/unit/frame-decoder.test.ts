// The frame decoder every socket of the run goes through (broker and runtime alike): whatever way
// the kernel splits the stream, the same messages come out, in order, once each.

import { describe, expect, it } from 'vitest';
import { Codec, FrameDecoder, MAX_FRAME, encodeFrame, type DownMessage, type UpMessage } from '../../src-main/protocol.ts';

const messages: (UpMessage | DownMessage)[] = [
  { k: 'hello', pid: 41, ppid: 40, name: 'MainProcess', daemon: false },
  { k: 'out', s: 0, text: 'héllo 世界 😀\n' },
  { k: 'put', q: 'queue-41-1', v: new Uint8Array([1, 2, 3, 250]) },
  { k: 'ok', rid: 7 },
  { k: 'out', s: 1, text: '' },
];

/** Frames of `messages`, V8 and JSON mixed, as one stream. */
function stream(): { bytes: Buffer; expected: unknown[] } {
  const frames = messages.map((m, i) => encodeFrame(m, i % 2 === 0 ? Codec.V8 : Codec.JSON));
  // JSON frames come back as JSON would: a Uint8Array does not survive it, so none is sent as JSON.
  const expected = messages.map((m) => structuredClone(m));
  return { bytes: Buffer.concat(frames), expected };
}

/** Feeds `bytes` cut at `cuts` (ascending offsets); returns what was decoded. */
function decode(bytes: Buffer, cuts: number[]): unknown[] {
  const d = new FrameDecoder();
  const got: unknown[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    d.push(bytes.subarray(from, c), (m) => got.push(m));
    from = c;
  }
  return got;
}

const normal = (xs: unknown[]) => xs.map((x) => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))));

describe('FrameDecoder', () => {
  it('gives the same messages for a stream cut once at every offset', () => {
    const { bytes, expected } = stream();
    for (let i = 0; i <= bytes.length; i++) {
      expect(normal(decode(bytes, [i])), `cut at ${i} of ${bytes.length}`).toEqual(normal(expected));
    }
  });

  it('gives the same messages for a stream cut twice, at every pair of offsets', () => {
    const { bytes, expected } = stream();
    const want = normal(expected);
    for (let i = 1; i < bytes.length; i++) {
      for (let j = i; j < bytes.length; j++) {
        const got = normal(decode(bytes, [i, j]));
        if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `cuts at ${i} and ${j}`).toEqual(want);
      }
    }
  });

  it('byte by byte, and with the length field itself split across chunks', () => {
    const { bytes, expected } = stream();
    expect(normal(decode(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)))).toEqual(normal(expected));
    // 1, 2 and 3 bytes of a frame's length before the rest arrives.
    for (const k of [1, 2, 3]) expect(normal(decode(bytes, [k, k + 1, k + 2]))).toEqual(normal(expected));
  });

  it('a 32 MiB frame in 64 KiB chunks comes out whole, as do the frames around it', () => {
    const big = new Uint8Array(32 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4099) big[i] = i & 0xff;
    const bytes = Buffer.concat([
      encodeFrame({ k: 'ok', rid: 1 }),
      encodeFrame({ k: 'put', q: 'q', v: big }),
      encodeFrame({ k: 'ok', rid: 2 }),
    ]);
    const cuts: number[] = [];
    for (let off = 65536; off < bytes.length; off += 65536) cuts.push(off);
    const got = decode(bytes, cuts) as { k: string; rid?: number; v?: Uint8Array }[];
    expect(got.map((m) => m.k)).toEqual(['ok', 'put', 'ok']);
    expect(got[2].rid).toBe(2);
    expect(got[1].v?.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(got[1].v!), Buffer.from(big)), 'the item arrives intact').toBe(0);
  });

  it('refuses a bad length as soon as its four bytes are in, and an unknown codec', () => {
    const d = new FrameDecoder();
    const len = Buffer.alloc(4);
    len.writeUInt32LE(MAX_FRAME + 1);
    d.push(len.subarray(0, 2), () => undefined);
    expect(() => d.push(len.subarray(2), () => undefined)).toThrow(`bad frame length ${MAX_FRAME + 1}`);
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0, 0]), () => undefined)).toThrow('bad frame length 0');
    expect(() => new FrameDecoder().push(Buffer.from([2, 0, 0, 0, 9, 0]), () => undefined)).toThrow('unknown codec 9');
  });
});
