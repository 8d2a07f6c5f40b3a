// A FIFO with O(1) shift and prepend: the broker's queues hold up to millions of items in a
// benchmark, and Array.prototype.shift is O(n) on large arrays.

export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head += 1;
    // Compact once the dead prefix dominates, keeping shift amortized O(1).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  /** Puts `vs` back at the front, in their order (returned lease items go first again). */
  unshiftAll(vs: readonly T[]): void {
    if (vs.length === 0) return;
    if (this.head >= vs.length) {
      this.head -= vs.length;
      for (let i = 0; i < vs.length; i++) this.items[this.head + i] = vs[i];
    } else {
      this.items = [...vs, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  /** Removes the first element matching `pred`; returns it. */
  remove(pred: (v: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      if (pred(this.items[i])) {
        const [v] = this.items.splice(i, 1);
        return v;
      }
    }
    return undefined;
  }

  /** Removes every element matching `pred`. */
  removeAll(pred: (v: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let i = this.head; i < this.items.length; i++) (pred(this.items[i]) ? removed : kept).push(this.items[i]);
    this.items = kept;
    this.head = 0;
    return removed;
  }

  toArray(): T[] {
    return this.items.slice(this.head);
  }
}
