// Seed 7: the main process produces values into a Queue, a child consumes them until it gets a
// falsy one.
import { Process, Queue } from 'procscope';

export async function foo(q: Queue): Promise<void> {
  let val = await q.get();
  // Truthiness as in Python for these values: 1, '0' (a non-empty string) and 1.1 are truthy,
  // false is falsy. (They differ elsewhere: an empty [] or {} is falsy in Python, truthy in JS.)
  while (val) {
    console.log(val);
    val = await q.get();
  }
}

export default async function main(): Promise<void> {
  const q = new Queue();
  const p = new Process({ target: foo, args: [q] });
  p.start();
  for (const val of [1, '0', false, 1.1]) {
    await q.put(val);
  }
  await p.join(); // the consumer stops at false, so 1.1 stays in the queue
}
