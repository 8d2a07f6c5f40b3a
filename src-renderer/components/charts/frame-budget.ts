// Spreads chart redraws over animation frames so one frame never pays for all five charts.
//
// A chart asks for a redraw when its data or the time axis changed; on the next animation
// frame the scheduler runs waiting charts in turn (round-robin, so none starves) while the sum of
// their last measured costs stays within the budget, always at least one. The others stay dirty
// for the next frame. Under a light load every chart redraws every frame; under a flood (a
// replay at full speed, 200 processes) each redraws every second or third frame, i.e. still
// 20-30 times a second, far more often than the sampler produces data (10 per second at most).
//
// A chart can only time its own JavaScript: the canvas work it queues (drawImage, text) is
// rasterized when the frame is painted, and on a machine without a GPU that is a good part of
// the cost. So the scheduler also learns how a frame's real cost relates to the charts' own
// estimates: after each frame that drew charts, a posted message (it runs once the frame is
// painted) measures the frame, and `factor` (frame ms per estimated ms) scales the estimates.
//
// Charts spread over frames must still agree on the time axis: a live run's "now" moves between
// frames, and a chart drawn three frames after another would end its axis later (0.2 s apart on a
// busy machine: one time, two places). So redraws come in rounds: a round holds the charts that
// were waiting when it began, and while it lasts `steady` gives every chart the value it gave the
// first (the run's "now"); when the last of them has drawn, the next read is fresh again.

export interface ChartJob {
  /** Marks the chart dirty; it redraws on a coming frame. */
  request(): void;
  /** Reports what the chart's last redraw cost (ms), to budget the next frames. */
  measured(ms: number): void;
  dispose(): void;
}

interface Job {
  run: () => void;
  dirty: boolean;
  /** Smoothed cost of a redraw, ms. */
  cost: number;
  alive: boolean;
}

type FrameRequest = (cb: () => void) => unknown;

function frameScheduler(): FrameRequest {
  const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
  if (typeof raf === 'function') return (cb) => raf.call(globalThis, cb);
  return (cb) => setTimeout(cb, 16);
}

export class FrameBudget {
  /** What a frame that draws charts should cost at most, ms (the rest of 16.7 ms is slack). */
  targetMs: number;
  /** Measured frame ms per estimated chart ms (>= 1): paint and rasterization on top of JS. */
  factor = 1.5;
  readonly #jobs: Job[] = [];
  #next = 0;
  #scheduled = false;
  readonly #request: FrameRequest;
  /** Posts "the frame is painted" (null where there is no MessageChannel: no calibration). */
  readonly #afterPaint: ((t0: number, estimated: number) => void) | null;
  /** The charts of the current round of redraws that have not drawn yet (empty: no round). */
  readonly #round = new Set<Job>();
  /** What `steady` read during the current round, per key. */
  readonly #held = new Map<object, number>();
  /** Counters for benches: frames that drew charts, charts drawn, charts left for a later frame. */
  readonly stats = { frames: 0, draws: 0, deferred: 0 };

  constructor(targetMs = 12, request: FrameRequest = frameScheduler()) {
    this.targetMs = targetMs;
    this.#request = request;
    this.#afterPaint = null;
    if (typeof MessageChannel === 'function' && typeof performance !== 'undefined') {
      const ch = new MessageChannel();
      let t0 = 0;
      let estimated = 0;
      // (typed loosely: Node's MessagePort type has no onmessage, the browser's has)
      (ch.port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => this.#calibrate(performance.now() - t0, estimated);
      this.#afterPaint = (start, est) => {
        t0 = start;
        estimated = est;
        ch.port2.postMessage(null);
      };
    }
  }

  #calibrate(frameMs: number, estimatedMs: number): void {
    if (estimatedMs < 0.5) return;
    const f = Math.min(10, Math.max(1, frameMs / estimatedMs));
    this.factor = this.factor * 0.8 + f * 0.2;
  }

  /**
   * `read()` as it was when first asked for `key` in the current round of redraws, so the charts
   * of one round show one moment; outside a round, `read()` now.
   */
  steady(key: object, read: () => number): number {
    if (this.#round.size === 0) {
      this.#held.clear();
      return read();
    }
    let v = this.#held.get(key);
    if (v === undefined) {
      v = read();
      this.#held.set(key, v);
    }
    return v;
  }

  register(run: () => void): ChartJob {
    const job: Job = { run, dirty: false, cost: 1, alive: true };
    this.#jobs.push(job);
    return {
      request: () => {
        if (!job.alive) return;
        job.dirty = true;
        this.#schedule();
      },
      measured: (ms) => {
        job.cost = job.cost * 0.7 + ms * 0.3;
      },
      dispose: () => {
        job.alive = false;
        this.#round.delete(job);
        const i = this.#jobs.indexOf(job);
        if (i >= 0) this.#jobs.splice(i, 1);
        if (this.#next > i && this.#next > 0) this.#next--;
      },
    };
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#request(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const t0 = typeof performance !== 'undefined' ? performance.now() : 0;
    const jobs = this.#jobs;
    const n = jobs.length;
    let spent = 0;
    let ran = 0;
    const first = this.#next;
    if (this.#round.size === 0) {
      // A new round: every chart waiting now draws the moment the first of them reads.
      for (const j of jobs) if (j.dirty) this.#round.add(j);
    }
    for (let k = 0; k < n; k++) {
      const i = (first + k) % n;
      const job = jobs[i];
      if (!job.dirty) continue;
      if (ran > 0 && (spent + job.cost) * this.factor > this.targetMs) continue;
      job.dirty = false;
      spent += job.cost;
      ran++;
      this.#next = (i + 1) % n;
      job.run();
      this.#round.delete(job);
    }
    if (ran > 0) {
      this.stats.frames++;
      this.stats.draws += ran;
      this.#afterPaint?.(t0, spent);
    }
    for (const j of jobs) if (j.dirty) this.stats.deferred++;
    if (jobs.some((j) => j.dirty)) this.#schedule();
  }
}

/** The one scheduler every chart of the window shares. */
export const chartFrames = new FrameBudget();
