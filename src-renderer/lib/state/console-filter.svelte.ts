// Which processes' output the console shows (chips toggle a pid, a double-click shows only it).

import { SvelteSet } from 'svelte/reactivity';

export class ConsoleFilter {
  /** Pids whose console output is hidden. */
  hidden = new SvelteSet<number>();

  toggle(pid: number): void {
    if (this.hidden.has(pid)) this.hidden.delete(pid);
    else this.hidden.add(pid);
  }

  showAll(): void {
    this.hidden.clear();
  }

  /** Shows only this pid's output (or everything again if it already was the only one). */
  solo(pid: number, pids: readonly number[]): void {
    const alreadySolo = !this.hidden.has(pid) && pids.every((p) => p === pid || this.hidden.has(p));
    this.hidden.clear();
    if (!alreadySolo) for (const p of pids) if (p !== pid) this.hidden.add(p);
  }

  /** The pids shown, or undefined when nothing is hidden. */
  shownOf(pids: readonly number[]): ReadonlySet<number> | undefined {
    if (this.hidden.size === 0) return undefined;
    return new Set(pids.filter((p) => !this.hidden.has(p)));
  }
}
