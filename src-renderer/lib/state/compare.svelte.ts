// Compare two runs from History: each is replayed into a model of its own (not the main view's),
// so both can be drawn one above the other on the same time scale. The engine replays a run with
// `runs.open`; its pushes carry the run's id, and while a compare loads they come here instead
// of the main view (see AppState's push routing). Runs are loaded one after the other, so even a
// run compared with itself lands in the right model.

import type { PastRun, RunEvent } from '../../../src-main/api.ts';
import { compareRuns, RunDigest, type CompareRow } from '../../../src-main/common/run-digest.ts';
import { VerdictReader, type Verdict } from '../../../src-main/common/verdict.ts';
import type { VerdictSpec } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';
import { RunStore } from '../run-store.svelte.ts';
import { errorText } from './stored.ts';

export interface CompareSide {
  run: PastRun;
  store: RunStore;
  /** The figures of the compare table, read as the run's events arrive (common/run-digest.ts). */
  digest: RunDigest;
  /** The preset's verdict on this run (null for a program of your own), once it is loaded. */
  reader: VerdictReader | null;
  verdict: Verdict | null;
}

export type { CompareRow };

export class CompareState {
  /** The two runs shown (A above B), or null when no compare is open. */
  sides = $state.raw<[CompareSide, CompareSide] | null>(null);
  loading = $state(false);
  /** What differs between the two runs, once both are loaded (null until then, or without a digest). */
  table = $state.raw<CompareRow[] | null>(null);
  /** Run ids checked in History for a compare (at most two). */
  picked = $state.raw<string[]>([]);

  #loadingInto: CompareSide | null = null;
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
    if (!into || into.run.runId !== runId) return false;
    into.store.ingest(events, true);
    for (const e of events) {
      into.digest.add(e);
      into.reader?.add(e);
    }
    return true;
  }

  /** `verdictOf` gives a run's preset verdict spec (null for a program of your own). */
  async open(a: PastRun, b: PastRun, verdictOf: (scenario: string) => VerdictSpec | null = () => null): Promise<void> {
    const gen = ++this.#generation;
    const side = (run: PastRun): CompareSide => {
      const spec = verdictOf(run.scenario);
      return { run, store: new RunStore(), digest: new RunDigest(), reader: spec ? new VerdictReader(spec) : null, verdict: null };
    };
    const sides: [CompareSide, CompareSide] = [side(a), side(b)];
    this.sides = sides;
    this.table = null;
    this.loading = true;
    try {
      for (const side of sides) {
        if (gen !== this.#generation) return;
        this.#loadingInto = side;
        await getApi().call('runs.open', { runId: side.run.runId });
      }
      if (gen === this.#generation) {
        this.table = compareRuns(sides[0].digest.result(), sides[1].digest.result());
        this.sides = [
          { ...sides[0], verdict: sides[0].reader?.result() ?? null },
          { ...sides[1], verdict: sides[1].reader?.result() ?? null },
        ];
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
