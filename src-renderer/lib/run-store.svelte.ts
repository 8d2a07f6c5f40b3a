// The run model as Svelte state. Events go into the model as they arrive (it is plain
// TypeScript, mutated in place); components learn about it through `version`, which moves at most
// once per animation frame however many batches arrived, so every chart redraws at most once
// per frame. Read a query inside `$derived` keyed on the version:
//
//   let lanes = $derived.by(() => (void runStore.version, runStore.model.lockLanes()));

import type { RunEvent } from '../../src-main/api.ts';
import { RunModel, type RunModelOptions } from './model/run-model.ts';

type FrameRequest = (cb: () => void) => unknown;

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
  readonly #request: FrameRequest;

  constructor(opts?: RunModelOptions) {
    this.model = new RunModel(opts);
    this.#request = frameScheduler();
  }

  /** Feeds a batch (live or replayed) to the model; components update on the next frame. */
  ingest(events: readonly RunEvent[]): void {
    if (events.length === 0) return;
    this.model.ingest(events);
    this.#schedule();
  }

  /** Forgets the run (a new run starts, or another one is opened); components update at once. */
  reset(): void {
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
