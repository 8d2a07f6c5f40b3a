// Queue depths as step data, downsampled into time buckets shared by every queue.
//
// A busy queue changes depth on every put and get: 100 000 times a second in the throughput
// benchmark, far more than any chart can show. The rule:
//
//   * Time is cut into buckets of `bucketMs` (starting at 1 ms). Each queue has two columns:
//     `depth`, its depth at the END of the bucket (the last operation's depth, so the step line
//     is exact at bucket boundaries), and `peak`, the HIGHEST depth reached inside the bucket, so
//     a burst that fills and drains within one bucket still shows.
//   * A bucket row exists only where some queue had an operation; a queue without an operation
//     in a row carries its depth forward (depth and peak = previous depth), because a queue's
//     depth holds until the next operation.
//   * When the table reaches `maxRows`, the bucket width doubles and neighbouring rows merge
//     (depth = the later row's, peak = the max of both), until at most 3/4 of the rows are used.
//     So the whole run is kept, at a resolution that coarsens as the run grows: at most maxRows
//     rows ever, O(1) amortized work per operation.

import { queueColor } from './palette.ts';
import { ColumnTable } from './ring.ts';
import type { QueueView, QueuesView } from './types.ts';

interface QueueInfo {
  id: string;
  index: number;
  maxsize: number;
  /** Column of its depth; peak is the next column. */
  col: number;
  /** Depth after the latest operation (carried into new rows). */
  depth: number;
}

export class QueueSeries {
  readonly table: ColumnTable;
  #bucketMs: number;
  readonly #initialBucketMs: number;
  /** Bucket number of the last row. */
  #lastBucket = -Infinity;
  #queues: QueueInfo[] = [];
  #byId = new Map<string, QueueInfo>();
  #cache: { layout: number; meta: number; view: QueuesView } | null = null;
  #meta = 0;

  constructor(maxRows = 6000, bucketMs = 1) {
    this.table = new ColumnTable(maxRows);
    this.#bucketMs = bucketMs;
    this.#initialBucketMs = bucketMs;
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  /** Records the depth of queue `id` after an operation at time t (ms). */
  record(id: string, t: number, depth: number, maxsize: number): void {
    let q = this.#byId.get(id);
    if (!q) {
      const col = this.table.addColumn();
      this.table.addColumn();
      q = { id, index: this.#queues.length + 1, maxsize, col, depth };
      this.#queues.push(q);
      this.#byId.set(id, q);
      this.#meta++;
    } else if (q.maxsize !== maxsize) {
      q.maxsize = maxsize;
      this.#meta++;
    }
    const bucket = Math.floor(t / this.#bucketMs);
    const tbl = this.table;
    if (bucket !== this.#lastBucket || tbl.length === 0) {
      if (tbl.length >= tbl.maxRows) {
        this.#coarsen();
        return this.record(id, t, depth, maxsize);
      }
      if (bucket < this.#lastBucket) {
        // Out-of-order time (should not happen: the log is in order): fold into the last row.
        this.#fold(q, tbl.length - 1, depth);
        return;
      }
      tbl.appendRow(bucket * this.#bucketMs / 1000);
      const r = tbl.length - 1;
      // Every other known queue carries its depth into the new row (rows before a queue's first
      // operation stay NaN: it did not exist yet).
      for (const other of this.#queues) {
        if (other === q) continue;
        tbl.set(other.col, r, other.depth);
        tbl.set(other.col + 1, r, other.depth);
      }
      this.#lastBucket = bucket;
      tbl.set(q.col, r, depth);
      tbl.set(q.col + 1, r, depth);
      q.depth = depth;
      return;
    }
    this.#fold(q, tbl.length - 1, depth);
  }

  #fold(q: QueueInfo, r: number, depth: number): void {
    const tbl = this.table;
    tbl.set(q.col, r, depth);
    const peak = tbl.get(q.col + 1, r);
    if (!(peak >= depth)) tbl.set(q.col + 1, r, depth);
    q.depth = depth;
  }

  #coarsen(): void {
    const tbl = this.table;
    const target = Math.floor(tbl.maxRows * 0.75);
    do {
      const w = (this.#bucketMs *= 2);
      // Bucket x values are in seconds; recompute the bucket from the x in ms.
      tbl.mergeRows(
        (x) => Math.floor(Math.round(x * 1000 * 1e6) / 1e6 / w),
        (b) => (b * w) / 1000,
        (col, earlier, later) => {
          if (col % 2 === 0) return later === later ? later : earlier; // depth: the later one
          return later === later && !(earlier >= later) ? later : earlier; // peak: the max
        },
      );
    } while (tbl.length > target);
    this.#lastBucket = Math.floor(Math.round(tbl.x(tbl.length - 1) * 1000 * 1e6) / 1e6 / this.#bucketMs);
  }

  view(): QueuesView {
    const tbl = this.table;
    const c = this.#cache;
    if (c && c.layout === tbl.layout && c.meta === this.#meta) return c.view;
    const xs = tbl.xs();
    const queues: QueueView[] = this.#queues.map((q) => ({
      queue: q.id,
      label: `Queue ${q.index}`,
      index: q.index,
      maxsize: q.maxsize,
      color: queueColor(q.index - 1),
      xs,
      depth: tbl.column(q.col),
      peak: tbl.column(q.col + 1),
    }));
    const view = { queues, bucketMs: this.#bucketMs };
    this.#cache = { layout: tbl.layout, meta: this.#meta, view };
    return view;
  }

  clear(): void {
    this.table.clear();
    this.#bucketMs = this.#initialBucketMs;
    this.#lastBucket = -Infinity;
    this.#queues = [];
    this.#byId.clear();
    this.#cache = null;
    this.#meta++;
  }
}
