// How often each process reads and writes each manager shared object (a dict, list, Namespace,
// Value or Array proxy), whichever runtime keeps it: the broker's own (shared-objects.ts, for
// the TypeScript runtime) and a Python manager's (observed.ts, from each proxy call the shim
// reports). It alone writes `shared` events.
//
// A busy program makes tens of thousands of proxy calls a second, so the log holds counts: one
// `use` line per object and process for each interval (the run's sampling interval) in which the
// process touched it, with how many calls read and how many wrote. A run that asks for each call
// (`sharedCalls`) also gets one `call` line per call.

import type { SharedEvent, SharedKind } from '../../api.ts';
import type { Peer } from './peer.ts';
import type { ObjectEvents } from './stamps.ts';

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

export class SharedObject {
  announced = false;
  lastT = 0;
  /** Calls per process since the last `use` line: [reads, writes]. */
  readonly since = new Map<number, [number, number]>();

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
    let c = o.since.get(peer.pid);
    if (!c) o.since.set(peer.pid, (c = [0, 0]));
    c[write ? 1 : 0] += 1;
    this.touched.add(o);
    if (this.eachCall) this.event(o, { op: 'call', pid: peer.pid, method, write }, at);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes the counts gathered since the last `use` lines (the interval ended, or the run did). */
  flush(): void {
    for (const o of this.touched) {
      for (const [pid, [reads, writes]] of o.since) this.event(o, { op: 'use', pid, reads, writes }, undefined);
      o.since.clear();
    }
    this.touched.clear();
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
