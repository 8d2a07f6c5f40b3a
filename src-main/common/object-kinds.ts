// The kinds of synchronisation and shared objects, named once for the log's contract (api.ts) and
// the wire (protocol.ts): a runtime and the monitor must agree on the same words.

/** A counting object logged as a lock: several holders at once, up to its value. Absent: a Lock (or RLock). */
export type LockKind = 'semaphore' | 'bounded-semaphore';
export const LOCK_KINDS: readonly LockKind[] = ['semaphore', 'bounded-semaphore'];

/** Objects whose waiters wait for another process's word rather than for a holder. */
export type SyncKind = 'condition' | 'event' | 'barrier';
export const SYNC_KINDS: readonly SyncKind[] = ['condition', 'event', 'barrier'];

/** A manager's shared object, reached through a proxy. */
export type SharedKind = 'dict' | 'list' | 'namespace' | 'value' | 'array';
export const SHARED_KINDS: readonly SharedKind[] = ['dict', 'list', 'namespace', 'value', 'array'];

/** Whether `v` is one of `names` (a string read off a wire or a log). */
export function isOneOf<T extends string>(names: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (names as readonly string[]).includes(v);
}
