// Deadlock search on a wait-for graph, shared by the broker's own locks (locks.ts) and the locks
// a reporting runtime keeps itself (observed.ts).

import type { DeadlockEdge } from '../../api.ts';

/**
 * A cycle exists when, following "waits for a lock held by", we come back to `start`. Only the
 * newest wait can close a cycle, so searching from it on each new wait finds every cycle once.
 * Returns the cycle's edges, starting with `start` waiting for `first`, or null.
 */
export function findCycle<P extends { readonly pid: number }, L>(
  start: P,
  first: L,
  holderOf: (lock: L) => P | null,
  waitsOf: (peer: P) => Iterable<L> | undefined,
  idOf: (lock: L) => string,
): DeadlockEdge[] | null {
  const path: DeadlockEdge[] = [];
  const seen = new Set<P>();
  const visit = (peer: P, lock: L): boolean => {
    const holder = holderOf(lock);
    if (!holder) return false;
    path.push({ pid: peer.pid, lock: idOf(lock), holder: holder.pid });
    if (holder === start) return true;
    if (!seen.has(holder)) {
      seen.add(holder);
      for (const next of waitsOf(holder) ?? []) if (visit(holder, next)) return true;
    }
    path.pop();
    return false;
  };
  return visit(start, first) ? path : null;
}

/** The same cycle found from any of its waits has the same key: each is reported once. */
export function cycleKey(cycle: readonly DeadlockEdge[]): string {
  return cycle
    .map((e) => `${e.pid}>${e.lock}`)
    .sort()
    .join(',');
}

/**
 * Deadlock reports of one lock table: searches from the newest wait and reports each cycle once.
 */
export class DeadlockReporter {
  private readonly reported = new Set<string>();

  constructor(private readonly emit: (cycle: DeadlockEdge[]) => void) {}

  check<P extends { readonly pid: number }, L extends { readonly id: string; holder: P | null }>(
    start: P,
    first: L,
    waitsOf: (peer: P) => Iterable<L> | undefined,
  ): void {
    const path = findCycle(start, first, (l) => l.holder, waitsOf, (l) => l.id);
    if (!path) return;
    const key = cycleKey(path);
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.emit(path);
  }
}
