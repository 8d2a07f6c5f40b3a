// The last N output lines of the run (default 20 000), oldest first, filterable by pid.
// A ring of line objects: a line's text is a new string anyway, so one small object per line
// costs about the same; nothing is copied when the ring wraps.

import type { ConsoleLine } from './types.ts';

export class ConsoleLog {
  readonly maxLines: number;
  #ring: ConsoleLine[] = [];
  /** Index of the oldest line once the ring is full. */
  #head = 0;
  /** Lines dropped because the ring was full. */
  dropped = 0;

  constructor(maxLines = 20_000) {
    this.maxLines = Math.max(1, Math.floor(maxLines));
  }

  get length(): number {
    return this.#ring.length;
  }

  push(line: ConsoleLine): void {
    if (this.#ring.length < this.maxLines) {
      this.#ring.push(line);
      return;
    }
    this.#ring[this.#head] = line;
    this.#head = (this.#head + 1) % this.maxLines;
    this.dropped++;
  }

  /** Lines oldest first; only those of the given pids when a filter is given. */
  lines(filter?: ReadonlySet<number>): ConsoleLine[] {
    const n = this.#ring.length;
    const out: ConsoleLine[] = [];
    for (let k = 0; k < n; k++) {
      const line = this.#ring[(this.#head + k) % n];
      if (!filter || filter.has(line.pid)) out.push(line);
    }
    return out;
  }

  clear(): void {
    this.#ring = [];
    this.#head = 0;
    this.dropped = 0;
  }
}
