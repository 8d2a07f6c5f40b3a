// A table's sort: the column and its direction, as a click on a header changes them (the same
// column again reverses it; another starts in its natural direction), and what aria-sort says.

export class SortOrder<K extends string> {
  key = $state<K>() as K;
  ascending = $state(false);

  /** `ascendingFirst`: the columns that sort A to Z (names) rather than largest first. */
  constructor(
    key: K,
    private readonly ascendingFirst: readonly K[] = [],
  ) {
    this.key = key;
    this.ascending = ascendingFirst.includes(key);
  }

  by(key: K): void {
    if (this.key === key) this.ascending = !this.ascending;
    else {
      this.key = key;
      this.ascending = this.ascendingFirst.includes(key);
    }
  }

  aria(key: K): 'ascending' | 'descending' | 'none' {
    return this.key === key ? (this.ascending ? 'ascending' : 'descending') : 'none';
  }

  /** +1 or -1: the factor a comparison is multiplied by. */
  get sign(): number {
    return this.ascending ? 1 : -1;
  }
}
