// What the person clicked: a process (by row key), a lock (by id), a mark on a Condition's,
// Event's or Barrier's lane, or a wait (picked in Stacks). The table, the lanes, the console and
// the details pane all read it; a new run forgets it.

/** A mark, named by what it is rather than by an index (the model may drop old marks). */
export interface MarkRef {
  lock: string;
  t: number;
  op: string;
  pid: number;
}

/** A blocked wait: on a lane (lock, semaphore, Condition, Event, Barrier) or at a queue's end. */
export interface WaitRef {
  on: 'lock' | 'queue';
  id: string;
  pid: number;
  start: number;
  /** A queue's: get or put. */
  side?: 'get' | 'put';
}

export type Selected = { kind: 'process'; key: string } | { kind: 'lock'; lock: string } | { kind: 'mark'; mark: MarkRef } | { kind: 'wait'; wait: WaitRef };

export class Selection {
  current = $state.raw<Selected | null>(null);

  selectProcess(key: string): void {
    this.current = this.current?.kind === 'process' && this.current.key === key ? this.current : { kind: 'process', key };
  }

  selectLock(lock: string): void {
    this.current = this.current?.kind === 'lock' && this.current.lock === lock ? this.current : { kind: 'lock', lock };
  }

  selectMark(mark: MarkRef): void {
    this.current = { kind: 'mark', mark };
  }

  selectWait(wait: WaitRef): void {
    this.current = { kind: 'wait', wait };
  }

  clear(): void {
    this.current = null;
  }

  get processKey(): string | null {
    return this.current?.kind === 'process' ? this.current.key : null;
  }

  /** The lane to highlight: the lock selected, or that of the mark or wait selected. */
  get lock(): string | null {
    const c = this.current;
    if (c?.kind === 'lock') return c.lock;
    if (c?.kind === 'mark') return c.mark.lock;
    if (c?.kind === 'wait' && c.wait.on === 'lock') return c.wait.id;
    return null;
  }

  get mark(): MarkRef | null {
    return this.current?.kind === 'mark' ? this.current.mark : null;
  }

  get wait(): WaitRef | null {
    return this.current?.kind === 'wait' ? this.current.wait : null;
  }
}

export const selection = new Selection();
