// The calls a person makes from a process row (start(), join(), terminate(), kill(), close()) and
// what they returned, as Python would print them; the join timeout field.

import { SvelteMap } from 'svelte/reactivity';
import type { ControlResult, ProcessTarget } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';
import { parseTimeout } from '../format.ts';
import type { ProcRow } from '../model/types.ts';
import type { RowAction } from '../row-actions.ts';
import { errorText } from './stored.ts';

/** One call made from a row, as the person sees it: `join(timeout=1) → None`. */
export interface RowCall {
  seq: number;
  action: RowAction;
  /** The call as Python would spell it. */
  call: string;
  pending: boolean;
  ok: boolean;
  text: string;
  exitcode?: number | null;
  alive?: boolean;
}

/** Calls kept per row: enough to read "terminate() → None" then "join() → exitcode -15". */
const CALLS_PER_ROW = 3;

export class RowControls {
  /** Calls made from each row, by row key. */
  rowCalls = new SvelteMap<string, RowCall[]>();
  /** The join timeout field, as typed (seconds; empty = wait). */
  joinTimeout = $state('');
  joinTimeoutInvalid = $derived(parseTimeout(this.joinTimeout) === null);
  #seq = 0;

  /** A new run (or another one shown): its rows have no calls yet. */
  clear(): void {
    this.rowCalls.clear();
  }

  async control(row: Pick<ProcRow, 'key' | 'handle' | 'pid'>, action: RowAction): Promise<void> {
    const target: ProcessTarget | null = row.handle ? { handle: row.handle } : row.pid !== null ? { pid: row.pid } : null;
    if (!target) return;
    let timeout: number | undefined;
    if (action === 'join') {
      const parsed = parseTimeout(this.joinTimeout);
      if (parsed === null) return;
      timeout = parsed;
    }
    const seq = ++this.#seq;
    const call = timeout !== undefined ? `join(timeout=${timeout})` : `${action}()`;
    const entry: RowCall = { seq, action, call, pending: true, ok: true, text: '' };
    this.rowCalls.set(row.key, [...(this.rowCalls.get(row.key) ?? []), entry].slice(-CALLS_PER_ROW));
    let done: RowCall;
    try {
      const r: ControlResult = await send(action, target, timeout);
      done = { ...entry, pending: false, ok: r.ok, text: r.text, exitcode: r.exitcode, alive: r.alive };
    } catch (e) {
      done = { ...entry, pending: false, ok: false, text: errorText(e) };
    }
    const list = this.rowCalls.get(row.key);
    // The view may have moved to another run meanwhile: then the answer has no row to go to.
    if (!list || !list.some((c) => c.seq === seq)) return;
    this.rowCalls.set(
      row.key,
      list.map((c) => (c.seq === seq ? done : c)),
    );
  }
}

function send(action: RowAction, target: ProcessTarget, timeout: number | undefined): Promise<ControlResult> {
  const api = getApi();
  switch (action) {
    case 'start':
      return api.call('process.start', { target });
    case 'join':
      return api.call('process.join', timeout === undefined ? { target } : { target, timeout });
    case 'terminate':
      return api.call('process.terminate', { target });
    case 'kill':
      return api.call('process.kill', { target });
    case 'close':
      return api.call('process.close', { target });
  }
}
