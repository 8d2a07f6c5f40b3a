// Deadlock search on the wait-for graph of lock-state.ts, for both runtimes' locks and semaphores.
//
// A process waits for objects (one per blocked thread or task); an object is held by one process
// (a Lock) or by several (a Semaphore's permits). A waiter on an object is stuck when the object
// has no free permit and EVERY holder of it is stuck too: any one of them that runs may release.
// A process is stuck when ANY of its waits is (a thread that never wakes is a hang, whatever the
// process's other threads do). The stuck processes are the greatest set closed under those rules,
// and a deadlock is reported when the newest wait's process is stuck and lies on a cycle of it:
// for Locks alone this is exactly the wait-for cycle through that wait. A process stuck only
// because it waits on a deadlock it is not part of is not a new deadlock (it is reported with the
// cycle's own wait, if ever).

import type { DeadlockEdge } from '../../api.ts';

/** The graph as the lock state keeps it. */
export interface WaitGraph<P extends { readonly pid: number }, L> {
  /** The objects `p` is blocked on (undefined or empty: it runs). */
  waitsOf(p: P): Iterable<L> | undefined;
  /** Who holds the object: one process per permit, oldest first. */
  holdersOf(l: L): readonly P[];
  /** It can be taken now: whoever waits on it is not stuck (a semaphore with a permit left). */
  free(l: L): boolean;
  idOf(l: L): string;
}

function hasWaits<P extends { readonly pid: number }, L>(g: WaitGraph<P, L>, p: P): boolean {
  const w = g.waitsOf(p);
  if (!w) return false;
  for (const _ of w) return true;
  return false;
}

/** `l` blocks its waiters for good if every holder of it is in `stuck`. */
function blocksWithin<P extends { readonly pid: number }, L>(g: WaitGraph<P, L>, l: L, stuck: (p: P) => boolean): boolean {
  if (g.free(l)) return false;
  const holders = g.holdersOf(l);
  if (holders.length === 0) return false;
  for (const h of holders) if (!stuck(h)) return false;
  return true;
}

/**
 * The edges of the deadlock that `start`'s waits close, starting with `start`'s own, or null.
 * Each edge is `{ pid, lock, holder }`: `pid` waits for `lock`, held by `holder`.
 */
export function findDeadlock<P extends { readonly pid: number }, L>(start: P, g: WaitGraph<P, L>): DeadlockEdge[] | null {
  // Fast path, the common case: some holder of each waited object runs.
  let candidate = false;
  for (const l of g.waitsOf(start) ?? []) {
    if (blocksWithin(g, l, (h) => h === start || hasWaits(g, h))) candidate = true;
  }
  if (!candidate) return null;

  // Everyone reachable from start through waits and holders.
  const order: P[] = [start];
  const reached = new Set<P>(order);
  for (let i = 0; i < order.length; i++) {
    for (const l of g.waitsOf(order[i]) ?? []) {
      for (const h of g.holdersOf(l)) {
        if (!reached.has(h)) {
          reached.add(h);
          order.push(h);
        }
      }
    }
  }
  // The stuck ones: start from all that wait, drop whoever has a way out, until none does.
  const stuck = new Set<P>(order.filter((p) => hasWaits(g, p)));
  const inStuck = (p: P) => stuck.has(p);
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of stuck) {
      let blocked = false;
      for (const l of g.waitsOf(p) ?? []) if (blocksWithin(g, l, inStuck)) blocked = true;
      if (!blocked) {
        stuck.delete(p);
        changed = true;
      }
    }
  }
  if (!stuck.has(start)) return null;

  // The edges among the stuck, and the part of them that leads back to start (its cycle).
  const edges: { from: P; lock: L; to: P }[] = [];
  for (const p of stuck) {
    for (const l of g.waitsOf(p) ?? []) {
      if (!blocksWithin(g, l, inStuck)) continue;
      const seen = new Set<P>();
      for (const h of g.holdersOf(l)) if (!seen.has(h)) edges.push({ from: p, lock: l, to: (seen.add(h), h) });
    }
  }
  const back = new Set<P>([start]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of edges) {
      if (back.has(e.to) && !back.has(e.from)) {
        back.add(e.from);
        grew = true;
      }
    }
  }
  if (!edges.some((e) => e.from === start && back.has(e.to))) return null;
  // In breadth-first order from start, so that a cycle of Locks reads as it goes round.
  const out: DeadlockEdge[] = [];
  const visited = new Set<P>([start]);
  const queue: P[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i];
    for (const e of edges) {
      if (e.from !== p) continue;
      out.push({ pid: p.pid, lock: g.idOf(e.lock), holder: e.to.pid });
      if (back.has(e.to) && !visited.has(e.to)) {
        visited.add(e.to);
        queue.push(e.to);
      }
    }
  }
  return out;
}

/** The same deadlock found from any of its waits has the same key. */
export function cycleKey(cycle: readonly DeadlockEdge[]): string {
  return [...new Set(cycle.map((e) => `${e.pid}>${e.lock}`))].sort().join(',');
}

/**
 * Deadlock reports of one lock state: each deadlock once while it lasts. When one of its waits
 * ends (a timeout, a kill, a release from another thread), it is forgotten, so that the same
 * processes and objects deadlocking again later are reported again.
 */
export class DeadlockReporter {
  private readonly reported = new Set<string>();
  /** `pid>object` -> the keys of the reported deadlocks that wait includes. */
  private readonly byWait = new Map<string, Set<string>>();

  constructor(private readonly emit: (cycle: DeadlockEdge[]) => void) {}

  check<P extends { readonly pid: number }, L>(start: P, graph: WaitGraph<P, L>): void {
    const cycle = findDeadlock(start, graph);
    if (!cycle) return;
    const key = cycleKey(cycle);
    if (this.reported.has(key)) return;
    this.reported.add(key);
    for (const e of cycle) {
      const w = `${e.pid}>${e.lock}`;
      let keys = this.byWait.get(w);
      if (!keys) this.byWait.set(w, (keys = new Set()));
      keys.add(key);
    }
    this.emit(cycle);
  }

  /** `pid`'s wait on `object` ended: the deadlocks it was part of are over. */
  ended(pid: number, object: string): void {
    if (this.byWait.size === 0) return;
    const keys = this.byWait.get(`${pid}>${object}`);
    if (!keys) return;
    this.byWait.delete(`${pid}>${object}`);
    for (const k of keys) this.reported.delete(k);
  }

  /** `pid` is gone: every deadlock it waited in is over. */
  gone(pid: number): void {
    for (const w of [...this.byWait.keys()]) if (w.startsWith(`${pid}>`)) this.ended(pid, w.slice(w.indexOf('>') + 1));
  }
}
