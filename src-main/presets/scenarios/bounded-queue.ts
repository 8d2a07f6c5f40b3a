// Seed 6: a bounded Queue. The seed runs at module top level; here it is in main, because every
// child process would run the module's top-level code again (this preset has no children, but
// scenarios keep their top level free of side effects).
import { Queue } from 'procscope';

export default async function main(): Promise<void> {
  // A queue that holds at most 3 items
  const q = new Queue(3);
  // Add items with put (awaited: the queue lives in the broker, another process)
  await q.put(1);
  await q.put(2);
  await q.put(3);
  // Is the queue full? (JavaScript prints true/false where Python prints True/False)
  console.log(await q.full()); // => true
  // The queue's current size
  console.log(await q.qsize()); // => 3
  // Take items with get, first in, first out
  console.log(await q.get()); // => 1
  console.log(await q.get()); // => 2
  console.log(await q.get()); // => 3
  // Is the queue empty?
  console.log(await q.empty()); // => true
}
