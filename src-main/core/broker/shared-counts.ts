// How often each process reads and writes each manager shared object (a dict, list, Namespace,
// Value or Array proxy), whichever runtime keeps it: the broker's own (shared-objects.ts, for
// the TypeScript runtime) and a Python manager's (observed.ts, from each proxy call the shim
// reports). It alone writes `shared` events.
//
// A busy program makes tens of thousands of proxy calls a second, so the log holds counts: one
// `use` line per object and process for each interval (the run's sampling interval, counted from
// t = 0) in which the process touched it, with how many calls read and how many wrote, logged at
// the interval's end. A call is counted in the interval of its stamp (a Python process's reports
// come a little after the fact). A run that asks for each call (`sharedCalls`) also gets one
// `call` line per call.

import type { SharedEvent, SharedKind } from '../../api.ts';
import type { Peer } from './peer.ts';
import { STAMP_WINDOW_MS } from './stamp-order.ts';
import type { ObjectEvents } from './stamps.ts';

/** How long after its end an interval's counts wait for late reports, ms. */
const LATE_MS = STAMP_WINDOW_MS + 50;

/** Proxy methods that change the object (Python's names; the TypeScript runtime sends the same). Every other call reads. */
const WRITES = new Set([
  '__setitem__',
  '__delitem__',
  '__setattr__',
  '__delattr__',
  '__iadd__',
  '__imul__',
  'set',
  'clear',
  'pop',
  'popitem',
  'setdefault',
  'update',
  'append',
  'extend',
  'insert',
  'remove',
  'reverse',
  'sort',
]);

export function writes(method: string): boolean {
  return WRITES.has(method);
}

interface Interval {
  /** Which interval (its end is (n + 1) × the interval). */
  n: number;
  reads: number;
  writes: number;
}

export class SharedObject {
  announced = false;
  lastT = 0;
  /** Per process, the interval it is being counted in (its calls not logged yet). */
  readonly open = new Map<number, Interval>();

  constructor(
    readonly id: string,
    public kind: SharedKind,
  ) {}
}

export class SharedCounts {
  private readonly objects = new Map<string, SharedObject>();
  private readonly touched = new Set<SharedObject>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: ObjectEvents,
    /** How often `use` lines are written, ms. */
    private readonly intervalMs: number,
    /** Also log each call. */
    private readonly eachCall = false,
  ) {}

  ensure(id: string, kind: SharedKind): SharedObject {
    let o = this.objects.get(id);
    if (!o) this.objects.set(id, (o = new SharedObject(id, kind)));
    return o;
  }

  get(id: string): SharedObject | undefined {
    return this.objects.get(id);
  }

  created(peer: Peer, o: SharedObject, at?: number): void {
    if (o.announced) return;
    o.announced = true;
    this.event(o, { op: 'create', pid: peer.pid }, at);
  }

  /** `peer` called `method` on it (at its stamp, or now). */
  called(peer: Peer, o: SharedObject, method: string, at?: number): void {
    if (!o.announced) this.created(peer, o, at);
    const write = WRITES.has(method);
    const n = Math.max(0, Math.floor((at ?? this.out.stamps.now()) / this.intervalMs));
    let c = o.open.get(peer.pid);
    if (c && c.n < n) {
      // A call of a later interval: the earlier one is complete.
      this.use(o, peer.pid, c);
      c = undefined;
    }
    if (!c) o.open.set(peer.pid, (c = { n, reads: 0, writes: 0 }));
    if (write) c.writes += 1;
    else c.reads += 1;
    this.touched.add(o);
    if (this.eachCall) this.event(o, { op: 'call', pid: peer.pid, method, write }, at);
    if (!this.timer) {
      // Once the interval is over (and a late report of it had its time), its counts are final.
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush(false);
      }, this.intervalMs + LATE_MS);
      this.timer.unref();
    }
  }

  /** Writes the counts of intervals that are over (`all`: every one, the run is over). */
  flush(all = true): void {
    const ripe = Math.floor((this.out.stamps.now() - LATE_MS) / this.intervalMs);
    for (const o of this.touched) {
      for (const [pid, c] of o.open) {
        if (!all && c.n >= ripe) continue;
        this.use(o, pid, c);
        o.open.delete(pid);
      }
      if (o.open.size === 0) this.touched.delete(o);
    }
    if (this.touched.size > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush(false);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  private use(o: SharedObject, pid: number, c: Interval): void {
    this.event(o, { op: 'use', pid, reads: c.reads, writes: c.writes }, (c.n + 1) * this.intervalMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private event(o: SharedObject, fields: Pick<SharedEvent, 'op' | 'pid'> & Partial<SharedEvent>, at: number | undefined): void {
    const e: SharedEvent = { t: 0, type: 'shared', shared: o.id, kind: o.kind, ...fields };
    this.out.log(e, at, o);
  }
}
