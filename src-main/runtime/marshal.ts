// Arguments cross to a child by value (structured clone), except queues, locks and the other
// shared objects (semaphores, Conditions, Events, Barriers, manager proxies), which arrive as live
// handles to the same broker object: Python's "shared through inheritance".

import { serialize, deserialize } from 'node:v8';

export const HANDLE = Symbol('procscope.handle');

export interface HandleRef {
  kind: 'queue' | 'lock' | 'semaphore' | 'condition' | 'event' | 'barrier' | 'shared';
  id: string;
  maxsize?: number;
  /** A bounded semaphore's initial value; a Barrier's parties. */
  n?: number;
  /** A BoundedSemaphore (not a Semaphore); a shared object's kind. */
  sub?: string;
  /** A Condition's lock. */
  inner?: HandleRef;
  /** A Barrier's default timeout (seconds). */
  timeout?: number | null;
  /** A manager Array's typecode. */
  code?: string;
}

/** Implemented by every shared object: what a child needs to reach the same broker object. */
export interface Shareable {
  [HANDLE](): HandleRef;
}

const MARK = '__procscope_handle__';
const revivers = new Map<HandleRef['kind'], () => unknown>();
let revivingRef: HandleRef | null = null;

/**
 * How a child makes its handle to an object that crossed to it: `make` runs the class's own
 * constructor, which sees `reviving()` and then creates nothing, only names the existing object.
 */
export function registerReviver(kind: HandleRef['kind'], make: () => unknown): void {
  revivers.set(kind, make);
}

/** The handle being revived while a constructor runs for it (see registerReviver), else null. */
export function reviving(): HandleRef | null {
  return revivingRef;
}

/** The object a handle names, in this process (a Condition revives its Lock with it). */
export function revive(ref: HandleRef): unknown {
  const make = revivers.get(ref.kind);
  if (!make) throw new Error(`cannot revive a ${ref.kind} handle`);
  revivingRef = ref;
  try {
    return make();
  } finally {
    revivingRef = null;
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function replaceHandles(v: unknown, seen: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  if (HANDLE in v) return { [MARK]: (v as Shareable)[HANDLE]() };
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(replaceHandles(x, seen));
    return out;
  }
  if (v instanceof Map) {
    const out = new Map();
    seen.set(v, out);
    for (const [k, x] of v) out.set(replaceHandles(k, seen), replaceHandles(x, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set();
    seen.set(v, out);
    for (const x of v) out.add(replaceHandles(x, seen));
    return out;
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, x] of Object.entries(v)) out[k] = replaceHandles(x, seen);
    return out;
  }
  return v;
}

function reviveHandles(v: unknown, seen: Set<object>): unknown {
  if (typeof v !== 'object' || v === null || seen.has(v)) return v;
  seen.add(v);
  if (isPlainObject(v) && MARK in v) {
    return revive((v as Record<string, HandleRef>)[MARK]);
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveHandles(v[i], seen);
  } else if (v instanceof Map) {
    for (const [k, x] of v) v.set(k, reviveHandles(x, seen));
  } else if (v instanceof Set) {
    const items = [...v];
    v.clear();
    for (const x of items) v.add(reviveHandles(x, seen));
  } else if (isPlainObject(v)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveHandles(o[k], seen);
  }
  return v;
}

/** Structured-clone bytes of `value`, with queues and locks turned into handles. */
export function marshal(value: unknown): Buffer {
  return serialize(replaceHandles(value, new Map()));
}

export function unmarshal(bytes: Uint8Array): unknown {
  return reviveHandles(deserialize(bytes), new Set());
}
