// Compare two runs from History: each is replayed into a model of its own (not the main view's),
// so both can be drawn one above the other on the same time scale. The engine replays a run with
// `runs.open`; its pushes carry the run's id, and while a compare loads they come here instead
// of the main view (see AppState's push routing). Runs are loaded one after the other, so even a
// run compared with itself lands in the right model.

import type { LocalizedText, PastRun, RunEvent } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';
import { RunStore } from '../run-store.svelte.ts';
import { errorText } from './stored.ts';

/** One line of the compare table, as the engine's run digest computes it (common/run-digest.ts). */
export interface CompareRow {
  key: string;
  label: LocalizedText;
  a: string;
  b: string;
  differs: boolean;
  section: 'run' | 'process' | 'lock' | 'queue';
}

export interface CompareSide {
  run: PastRun;
  store: RunStore;
}

export class CompareState {
  /** The two runs shown (A above B), or null when no compare is open. */
  sides = $state.raw<[CompareSide, CompareSide] | null>(null);
  loading = $state(false);
  /** What differs between the two runs, once both are loaded (null until then, or without a digest). */
  table = $state.raw<CompareRow[] | null>(null);
  /** Run ids checked in History for a compare (at most two). */
  picked = $state.raw<string[]>([]);

  #loadingInto: { runId: string; store: RunStore } | null = null;
  #generation = 0;
  readonly #notice: (m: string) => void;

  constructor(notice: (m: string) => void) {
    this.#notice = notice;
  }

  /** Checks or unchecks a run in History; a third check replaces the oldest. */
  togglePick(runId: string): void {
    const p = this.picked;
    this.picked = p.includes(runId) ? p.filter((x) => x !== runId) : [...p, runId].slice(-2);
  }

  /** A replay push: taken (true) when it belongs to the run loading for the compare. */
  take(runId: string, events: RunEvent[]): boolean {
    const into = this.#loadingInto;
    if (!into || into.runId !== runId) return false;
    into.store.ingest(events);
    return true;
  }

  async open(a: PastRun, b: PastRun): Promise<void> {
    const gen = ++this.#generation;
    const sides: [CompareSide, CompareSide] = [
      { run: a, store: new RunStore() },
      { run: b, store: new RunStore() },
    ];
    this.sides = sides;
    this.table = null;
    this.loading = true;
    try {
      for (const side of sides) {
        if (gen !== this.#generation) return;
        this.#loadingInto = { runId: side.run.runId, store: side.store };
        await getApi().call('runs.open', { runId: side.run.runId });
      }
    } catch (e) {
      this.#notice(errorText(e));
    } finally {
      if (gen === this.#generation) {
        this.#loadingInto = null;
        this.loading = false;
      }
    }
  }

  close(): void {
    this.#generation++;
    this.#loadingInto = null;
    this.sides = null;
    this.loading = false;
  }
}
