// Queue depths as step data, downsampled into time buckets, one table per queue.
//
// A busy queue changes depth on every put and get: 100 000 times a second in the throughput
// benchmark, far more than any chart can show. The rule, per queue:
//
//   * Time is cut into buckets of `bucketMs` (starting at 1 ms). A row per bucket that had an
//     operation: `depth`, the depth at the END of the bucket (the last operation's, so the step
//     line is exact at bucket boundaries), and `peak`, the HIGHEST depth reached inside the
//     bucket, so a burst that fills and drains within one bucket still shows. Between rows the
//     depth holds (a step line), as a queue's depth does until its next operation.
//   * When the table reaches `maxRows`, the bucket width doubles and neighbouring rows merge
//     (depth = the later row's, peak = the max of both), until at most 3/4 of the rows are used.
//     So the whole run is kept, at a resolution that coarsens as the run grows: at most maxRows
//     rows ever, O(1) amortized work per operation.
//
// Each queue has its own table (and bucket width) because the run log orders `t` per queue,
// not across queues: reports of Python-mode queues arrive in batches stamped with their own
// process's clock (docs/run-log.md), so one shared time grid would see time go backwards.

import { queueColor } from './palette.ts';
import { ColumnTable } from './ring.ts';
import type { QueueView } from './types.ts';

const DEPTH = 0;
const PEAK = 1;
/** The bucket's last operation (1 put, -1 get, 0 create), who did it, and how many there were. */
const OP = 2;
const PID = 3;
const COUNT = 4;
const OP_CODE = { create: 0, put: 1, get: -1 } as const;

class QueueSteps {
  readonly table: ColumnTable;
  bucketMs: number;
  /** Bucket number of the last row. */
  lastBucket = -Infinity;
  maxsize: number;
  #cache: { layout: number; maxsize: number; view: QueueView } | null = null;

  constructor(
    readonly id: string,
    readonly index: number,
    maxRows: number,
    bucketMs: number,
    maxsize: number,
  ) {
    this.table = new ColumnTable(maxRows);
    for (let c = 0; c <= COUNT; c++) this.table.addColumn();
    this.bucketMs = bucketMs;
    this.maxsize = maxsize;
  }

  record(t: number, depth: number, op: number, pid: number): void {
    const tbl = this.table;
    const bucket = Math.floor(t / this.bucketMs);
    if (tbl.length > 0 && bucket <= this.lastBucket) {
      // Same bucket (or, against the log's promise, an earlier one): fold into the last row.
      const r = tbl.length - 1;
      tbl.set(DEPTH, r, depth);
      if (!(tbl.get(PEAK, r) >= depth)) tbl.set(PEAK, r, depth);
      tbl.set(OP, r, op);
      tbl.set(PID, r, pid);
      tbl.set(COUNT, r, tbl.get(COUNT, r) + 1);
      return;
    }
    if (tbl.length >= tbl.maxRows) {
      this.#coarsen();
      this.record(t, depth, op, pid);
      return;
    }
    tbl.appendRow((bucket * this.bucketMs) / 1000);
    const r = tbl.length - 1;
    tbl.set(DEPTH, r, depth);
    tbl.set(PEAK, r, depth);
    tbl.set(OP, r, op);
    tbl.set(PID, r, pid);
    tbl.set(COUNT, r, 1);
    this.lastBucket = bucket;
  }

  #coarsen(): void {
    const tbl = this.table;
    const target = Math.floor(tbl.maxRows * 0.75);
    // Bucket x values are seconds; recover the bucket from the x in ms (rounded against float noise).
    const ms = (x: number) => Math.round(x * 1000 * 1e6) / 1e6;
    do {
      const w = (this.bucketMs *= 2);
      tbl.mergeRows(
        (x) => Math.floor(ms(x) / w),
        (b) => (b * w) / 1000,
        (col, earlier, later) => (col === PEAK ? (later > earlier ? later : earlier) : col === COUNT ? earlier + later : later),
      );
    } while (tbl.length > target);
    this.lastBucket = Math.floor(ms(tbl.x(tbl.length - 1)) / this.bucketMs);
  }

  view(): QueueView {
    const tbl = this.table;
    const c = this.#cache;
    if (c && c.layout === tbl.layout && c.maxsize === this.maxsize) return c.view;
    const view: QueueView = {
      queue: this.id,
      label: `Queue ${this.index}`,
      index: this.index,
      maxsize: this.maxsize,
      color: queueColor(this.index - 1),
      xs: tbl.xs(),
      depth: tbl.column(DEPTH),
      peak: tbl.column(PEAK),
      op: tbl.column(OP),
      pid: tbl.column(PID),
      count: tbl.column(COUNT),
      bucketMs: this.bucketMs,
    };
    this.#cache = { layout: tbl.layout, maxsize: this.maxsize, view };
    return view;
  }
}

export class QueueSeries {
  readonly #maxRows: number;
  readonly #bucketMs: number;
  #queues: QueueSteps[] = [];
  readonly #byId = new Map<string, QueueSteps>();
  #list: { views: QueueView[] } | null = null;

  constructor(maxRows = 6000, bucketMs = 1) {
    this.#maxRows = maxRows;
    this.#bucketMs = bucketMs;
  }

  /** Records the depth of queue `id` after an operation (`op` by `pid`) at time t (ms). */
  record(id: string, t: number, depth: number, maxsize: number, op: keyof typeof OP_CODE | 'lock' = 'lock', pid = 0): void {
    let q = this.#byId.get(id);
    if (!q) {
      q = new QueueSteps(id, this.#queues.length + 1, this.#maxRows, this.#bucketMs, maxsize);
      this.#queues.push(q);
      this.#byId.set(id, q);
    }
    q.maxsize = maxsize;
    q.record(t, depth, op === 'lock' ? 0 : OP_CODE[op], pid);
    this.#list = null;
  }

  /** Every queue in creation order; a queue's arrays are views, valid until it changes. */
  view(): QueueView[] {
    return (this.#list ??= { views: this.#queues.map((q) => q.view()) }).views;
  }

  clear(): void {
    this.#queues = [];
    this.#byId.clear();
    this.#list = null;
  }
}
