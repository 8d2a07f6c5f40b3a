// The run model as Svelte state. Events go into the model as they arrive (it is plain
// TypeScript, mutated in place); components learn about it through `version`, which moves at most
// once per animation frame however many batches arrived, so every chart redraws at most once
// per frame. Read a query inside `$derived` keyed on the version:
//
//   let lanes = $derived.by(() => (void runStore.version, runStore.model.lockLanes()));

import type { RunEvent } from '../../src-main/api.ts';
import { RunModel, type RunModelOptions } from './model/run-model.ts';

type FrameRequest = (cb: () => void) => unknown;

/** While a replay streams in, the view shows its progress this often, ms. */
const REPLAY_SHOW_MS = 250;

/** requestAnimationFrame where there is one (a window), else a ~60 Hz timer (tests, workers). */
function frameScheduler(): FrameRequest {
  const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
  if (typeof raf === 'function') return (cb) => raf.call(globalThis, cb);
  return (cb) => setTimeout(cb, 16);
}

export class RunStore {
  readonly model: RunModel;
  /** The model's version as components see it: follows `model.version` once per frame. */
  version = $state(0);
  #scheduled = false;
  #later: ReturnType<typeof setTimeout> | null = null;
  readonly #request: FrameRequest;

  constructor(opts?: RunModelOptions) {
    this.model = new RunModel(opts);
    this.#request = frameScheduler();
  }

  /**
   * Feeds a batch (live or replayed) to the model; components update on the next frame. A replay
   * (`catchingUp`) shows itself at most every REPLAY_SHOW_MS: a long log arrives in hundreds of
   * batches, and drawing every intermediate state of a 1,000-process run cost more than reading it.
   */
  ingest(events: readonly RunEvent[], catchingUp = false): void {
    if (events.length === 0) return;
    this.model.ingest(events);
    if (catchingUp) this.#scheduleLater();
    else this.#schedule();
  }

  #scheduleLater(): void {
    if (this.#scheduled || this.#later !== null) return;
    this.#later = setTimeout(() => {
      this.#later = null;
      this.#schedule();
    }, REPLAY_SHOW_MS);
  }

  /** Shows what was ingested on the next frame, without waiting for a replay's next showing. */
  flush(): void {
    if (this.#later !== null) clearTimeout(this.#later);
    this.#later = null;
    this.#schedule();
  }

  /** Forgets the run (a new run starts, or another one is opened); components update at once. */
  reset(): void {
    if (this.#later !== null) clearTimeout(this.#later);
    this.#later = null;
    this.model.reset();
    this.version = this.model.version;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#request(() => {
      this.#scheduled = false;
      this.version = this.model.version;
    });
  }
}

export const runStore = new RunStore();
