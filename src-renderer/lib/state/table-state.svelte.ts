// How the process table is read: sorted by a column (or as the tree), filtered, and which nodes
// are folded. Survives runs: a person who sorts by CPU wants the next run sorted by CPU too.

import { SvelteMap } from 'svelte/reactivity';
import type { SortKey } from '../view/table-view.ts';

export class TableState {
  sort = $state<SortKey | null>(null);
  descending = $state(true);
  filter = $state('');
  /** Explicit fold choices by node key (true: folded); the rest fold by size (process-tree.ts). */
  folds = new SvelteMap<string, boolean>();

  /** A header click: a new column sorts (numbers highest first, names A-Z), the same one flips, a third click goes back to the tree. */
  sortBy(key: SortKey): void {
    const firstDescending = key !== 'name' && key !== 'pid' && key !== 'state' && key !== 'startedAt';
    if (this.sort !== key) {
      this.sort = key;
      this.descending = firstDescending;
    } else if (this.descending === firstDescending) {
      this.descending = !this.descending;
    } else {
      this.sort = null;
    }
  }

  toggleFold(key: string, folded: boolean): void {
    this.folds.set(key, !folded);
  }

  unfold(keys: readonly string[]): void {
    for (const k of keys) this.folds.set(k, false);
  }
}
