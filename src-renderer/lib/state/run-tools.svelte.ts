// Two things done to the run shown: capturing where its processes are (Stacks) and exporting it.

import type { ExportFormat, ExportResult } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';
import type { ProcRow } from '../model/types.ts';
import { colorsByPid, orderLikeRows, readStacks, type ShownStacks } from '../stacks.ts';
import { errorText } from './stored.ts';

/**
 * One press of Capture in the Stacks tab: where the processes were at run time `t` (ms), ordered
 * like the rows then and each with its row's color, or why the engine could not say (`error`: the
 * command's failure, in one line).
 */
export type StacksCapture = { t: number } & ({ processes: (ShownStacks & { color: string })[] } | { error: string } | { noAnswer: true });

export interface ExportState {
  format: ExportFormat;
  phase: 'running' | 'done' | 'error';
  /** 0..1 from the engine's progress pushes; null until the first one. */
  fraction: number | null;
  result?: ExportResult;
  message?: string;
}

export class StacksTool {
  /** The last stacks captured for the run shown; a new run or a replay forgets them. */
  capture = $state.raw<StacksCapture | null>(null);
  pending = $state(false);

  /**
   * Asks the engine where every process of the live run is now. `t` is the run time asked about;
   * `stillOurs` says whether the view still shows that run when the answer comes.
   */
  async take(t: number, rows: readonly ProcRow[], stillOurs: () => boolean): Promise<void> {
    if (this.pending) return;
    this.pending = true;
    let next: StacksCapture;
    try {
      const processes = readStacks(await getApi().call('run.stacks', {}));
      // A snapshot: ordered and colored once, as the rows were when it was taken.
      const colors = colorsByPid(rows);
      next = processes
        ? { t, processes: orderLikeRows(processes, rows).map((p) => ({ ...p, color: colors.get(p.pid) ?? 'var(--text-faint)' })) }
        : { t, noAnswer: true };
    } catch (e) {
      next = { t, error: errorText(e) };
    } finally {
      this.pending = false;
    }
    if (stillOurs()) this.capture = next;
  }
}

export class ExportTool {
  state = $state.raw<ExportState | null>(null);

  async run(runId: string | null, format: ExportFormat): Promise<ExportResult | null> {
    if (!runId || this.state?.phase === 'running') return null;
    this.state = { format, phase: 'running', fraction: null };
    try {
      const result = await getApi().call('run.export', { runId, format });
      this.state = { format, phase: 'done', fraction: 1, result };
      return result;
    } catch (e) {
      this.state = { format, phase: 'error', fraction: null, message: errorText(e) };
      return null;
    }
  }

  progress(fraction: number): void {
    if (this.state?.phase === 'running') this.state = { ...this.state, fraction: Math.max(0, Math.min(1, fraction)) };
  }

  dismiss(): void {
    if (this.state?.phase !== 'running') this.state = null;
  }
}
