// What the person clicked: a process (by row key) or a lock (by id). The table, the lanes, the
// console and the details pane all read it; a new run forgets it.

export type Selected = { kind: 'process'; key: string } | { kind: 'lock'; lock: string };

export class Selection {
  current = $state.raw<Selected | null>(null);

  selectProcess(key: string): void {
    this.current = this.current?.kind === 'process' && this.current.key === key ? this.current : { kind: 'process', key };
  }

  selectLock(lock: string): void {
    this.current = this.current?.kind === 'lock' && this.current.lock === lock ? this.current : { kind: 'lock', lock };
  }

  clear(): void {
    this.current = null;
  }

  get processKey(): string | null {
    return this.current?.kind === 'process' ? this.current.key : null;
  }

  get lock(): string | null {
    return this.current?.kind === 'lock' ? this.current.lock : null;
  }
}

export const selection = new Selection();
