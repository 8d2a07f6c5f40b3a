// Where a run's processes waited: its `wait` lines summed per call site and object. A wait with no
// `end` lasted until its process exited, or still lasts (until `now`).

import type { RunEvent, WaitKind, WaitSite } from '../../api.ts';

export interface WaitRow {
  key: string;
  site: WaitSite;
  kind: WaitKind;
  /** The lock or queue waited in. */
  object: string | null;
  /** The pid joined. */
  target: number | null;
  pids: number[];
  count: number;
  /** ms, over every wait of the row. */
  total: number;
  longest: number;
  /** When the longest began, and who waited: where the lanes show it. */
  longestAt: number;
  longestPid: number;
  /** Waits still going on (or cut by their process's end). */
  open: number;
  /** Waits that gave up (a timeout). */
  timeouts: number;
}

interface Open {
  row: WaitRow;
  at: number;
}

/** Collects `wait` lines (and the exits that end their open waits) as they come. */
export class WaitTable {
  private readonly rows = new Map<string, WaitRow>();
  private readonly open = new Map<string, Open>();
  private readonly exits = new Map<number, number>();
  version = 0;

  reset(): void {
    this.rows.clear();
    this.open.clear();
    this.exits.clear();
    this.version++;
  }

  /** Takes a run event; false when it says nothing about waits. */
  ingest(e: RunEvent): boolean {
    if (e.type === 'exit') {
      this.exits.set(e.pid, e.t);
      for (const [k, o] of this.open) if (k.startsWith(`${e.pid}:`)) this.close(k, o, e.t, false, true);
      return false;
    }
    if (e.type !== 'wait') return false;
    const id = `${e.pid}:${e.wait}`;
    if (e.op === 'begin') {
      if (!e.site || !e.kind) return false;
      const key = `${e.site.file}\0${e.site.line}\0${e.site.func}\0${e.kind}\0${e.object ?? ''}\0${e.target ?? ''}`;
      let row = this.rows.get(key);
      if (!row) {
        row = {
          key,
          site: e.site,
          kind: e.kind,
          object: e.object ?? null,
          target: e.target ?? null,
          pids: [],
          count: 0,
          total: 0,
          longest: 0,
          longestAt: e.t,
          longestPid: e.pid,
          open: 0,
          timeouts: 0,
        };
        this.rows.set(key, row);
      }
      row.count += 1;
      row.open += 1;
      if (!row.pids.includes(e.pid)) row.pids.push(e.pid);
      this.open.set(id, { row, at: e.t });
    } else {
      const o = this.open.get(id);
      if (o) this.close(id, o, e.t, e.timeout === true, false);
    }
    this.version++;
    return true;
  }

  private close(id: string, o: Open, t: number, timedOut: boolean, cut: boolean): void {
    this.open.delete(id);
    const d = Math.max(0, t - o.at);
    o.row.total += d;
    if (d > o.row.longest) this.longest(o.row, d, o.at, Number(id.slice(0, id.indexOf(':'))));
    if (!cut) o.row.open -= 1;
    if (timedOut) o.row.timeouts += 1;
    this.version++;
  }

  private longest(row: WaitRow, d: number, at: number, pid: number): void {
    row.longest = d;
    row.longestAt = at;
    row.longestPid = pid;
  }

  /**
   * The rows, waits still open counted up to `now` (the run's time, or its end). Rows are
   * copies: the table goes on filling.
   */
  table(now: number): WaitRow[] {
    const out = new Map<string, WaitRow>();
    for (const [k, r] of this.rows) out.set(k, { ...r, pids: [...r.pids] });
    for (const [id, o] of this.open) {
      const r = out.get(o.row.key) as WaitRow;
      const d = Math.max(0, now - o.at);
      r.total += d;
      if (d > r.longest) this.longest(r, d, o.at, Number(id.slice(0, id.indexOf(':'))));
    }
    return [...out.values()].sort((a, b) => b.total - a.total || b.count - a.count);
  }
}
