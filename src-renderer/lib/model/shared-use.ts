// Who read and wrote which of a manager's shared objects (dict, list, Namespace, Value, Array),
// and how often, from the log's `shared` lines: `use` lines are counts per process per interval,
// `call` lines (with --shared-calls) one call each. Kept per object and process as running sums
// over time, so the counts within any time range are two binary searches away.

import type { Pid, SharedEvent, SharedKind } from '../../../src-main/api.ts';
import { lowerBound } from '../../../src-main/common/sorted.ts';

/** One process's use of one object: at each `t`, the reads and writes so far (running sums). */
class UseSums {
  readonly t: number[] = [];
  readonly reads: number[] = [];
  readonly writes: number[] = [];

  add(t: number, reads: number, writes: number): void {
    const n = this.t.length;
    const r = (n > 0 ? this.reads[n - 1] : 0) + reads;
    const w = (n > 0 ? this.writes[n - 1] : 0) + writes;
    if (n > 0 && this.t[n - 1] >= t) {
      // Same instant, or a line stamped earlier than the last (another clock): fold into the last.
      this.reads[n - 1] = r;
      this.writes[n - 1] = w;
      return;
    }
    this.t.push(t);
    this.reads.push(r);
    this.writes.push(w);
  }

  /** Reads and writes stamped in [from, to] ms. */
  within(from: number, to: number): { reads: number; writes: number } {
    const a = lowerBound(this.t, from) - 1;
    const b = lowerBound(this.t, to + 1e-9) - 1;
    if (b < 0) return { reads: 0, writes: 0 };
    return { reads: this.reads[b] - (a >= 0 ? this.reads[a] : 0), writes: this.writes[b] - (a >= 0 ? this.writes[a] : 0) };
  }
}

export interface SharedObjectInfo {
  id: string;
  kind: SharedKind;
  /** 1-based, per kind, in creation order: dict 1, list 1, dict 2… */
  index: number;
  /** The process that made it (null when only its use was seen). */
  creator: Pid | null;
}

/** The matrix the shared-objects view draws: objects in creation order, processes that touched one. */
export interface SharedMatrix {
  objects: SharedObjectInfo[];
  /** Per process, per object (same order as `objects`): reads and writes in the range. */
  rows: { pid: Pid; reads: number[]; writes: number[]; total: number }[];
  /** The most calls of one cell (for shading). */
  most: number;
}

export class SharedUse {
  readonly #objects = new Map<string, SharedObjectInfo>();
  readonly #perKind = new Map<SharedKind, number>();
  /** By object id, then pid. */
  readonly #use = new Map<string, Map<Pid, UseSums>>();

  clear(): void {
    this.#objects.clear();
    this.#perKind.clear();
    this.#use.clear();
  }

  get size(): number {
    return this.#objects.size;
  }

  record(e: SharedEvent): void {
    let info = this.#objects.get(e.shared);
    if (!info) {
      const index = (this.#perKind.get(e.kind) ?? 0) + 1;
      this.#perKind.set(e.kind, index);
      this.#objects.set(e.shared, (info = { id: e.shared, kind: e.kind, index, creator: null }));
    }
    if (e.op === 'create') {
      info.creator = e.pid;
      return;
    }
    const reads = e.op === 'use' ? (e.reads ?? 0) : e.write ? 0 : 1;
    const writes = e.op === 'use' ? (e.writes ?? 0) : e.write ? 1 : 0;
    if (reads + writes === 0) return;
    let byPid = this.#use.get(e.shared);
    if (!byPid) this.#use.set(e.shared, (byPid = new Map()));
    let sums = byPid.get(e.pid);
    if (!sums) byPid.set(e.pid, (sums = new UseSums()));
    sums.add(e.t, reads, writes);
  }

  /** Reads and writes per process and object stamped within [fromMs, toMs], busiest process first. */
  matrix(fromMs: number, toMs: number): SharedMatrix {
    const objects = [...this.#objects.values()];
    const rows = new Map<Pid, SharedMatrix['rows'][number]>();
    let most = 0;
    objects.forEach((o, j) => {
      for (const [pid, sums] of this.#use.get(o.id) ?? []) {
        const c = sums.within(fromMs, toMs);
        if (c.reads + c.writes === 0) continue;
        let row = rows.get(pid);
        if (!row) rows.set(pid, (row = { pid, reads: new Array<number>(objects.length).fill(0), writes: new Array<number>(objects.length).fill(0), total: 0 }));
        row.reads[j] = c.reads;
        row.writes[j] = c.writes;
        row.total += c.reads + c.writes;
        if (c.reads + c.writes > most) most = c.reads + c.writes;
      }
    });
    return { objects, rows: [...rows.values()].sort((a, b) => b.total - a.total || a.pid - b.pid), most };
  }
}
