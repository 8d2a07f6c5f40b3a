// Queue items as bytes. Structured clone (v8.serialize) for anything, but numbers, strings,
// booleans and null, the bulk of most streams, skip it: a serializer object per item costs more
// than the item. v8's own encoding always starts with its version tag 0xFF, so the first byte
// tells the two apart. Only runtimes read items; the broker moves them as opaque bytes.

import { deserialize, serialize } from 'node:v8';

const NUMBER = 0xf1;
const STRING = 0xf2;
const SMALL = 0xf3; // false, true, null, undefined

const smalls = [false, true, null, undefined] as const;

export function encodeItem(v: unknown): Uint8Array {
  if (typeof v === 'number') {
    const b = Buffer.allocUnsafe(9);
    b[0] = NUMBER;
    b.writeDoubleLE(v, 1);
    return b;
  }
  if (typeof v === 'string' && v.length < 4096) {
    const b = Buffer.allocUnsafe(1 + Buffer.byteLength(v, 'utf8'));
    b[0] = STRING;
    b.write(v, 1, 'utf8');
    return b;
  }
  const small = smalls.indexOf(v as (typeof smalls)[number]);
  if (small !== -1) return Uint8Array.of(SMALL, small);
  return serialize(v);
}

export function decodeItem(bytes: Uint8Array): unknown {
  switch (bytes[0]) {
    case NUMBER:
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readDoubleLE(1);
    case STRING:
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', 1);
    case SMALL:
      return smalls[bytes[1]];
    default:
      return deserialize(bytes);
  }
}
