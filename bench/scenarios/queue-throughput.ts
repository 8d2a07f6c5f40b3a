// Bench 1: one producer (main) -> one consumer (a child) through an unbounded Queue.
// The consumer times its own gets, from the moment the first item arrives to the moment the
// end marker arrives, so process startup stays out of the figure. The producer starts only once
// the consumer says it is ready, as in bench/python/queue_throughput.py.
import { Process, Queue } from 'procscope';

const ITEMS = Number(process.env.BENCH_QUEUE_ITEMS ?? 200_000);

export async function consume(items: Queue<number | null>, ready: Queue<string>): Promise<void> {
  await ready.put('ready');
  let v = await items.get();
  const t0 = performance.now();
  let n = 0;
  let sum = 0;
  while (v !== null) {
    sum += v;
    n += 1;
    v = await items.get();
  }
  const seconds = (performance.now() - t0) / 1000;
  const expected = (ITEMS * (ITEMS - 1)) / 2;
  console.log(`CHECK items ${n} sum_ok ${sum === expected}`);
  console.log(`INFO queue_id ${items.id}`);
  console.log(`RESULT queue_items_per_s ${(n / seconds).toFixed(0)}`);
}

export default async function main(): Promise<void> {
  const items = new Queue<number | null>();
  const ready = new Queue<string>();
  const p = new Process({ target: consume, args: [items, ready] });
  p.start();
  await ready.get();
  for (let i = 0; i < ITEMS; i++) await items.put(i);
  await items.put(null);
  await p.join();
  if (p.exitcode !== 0) throw new Error(`consumer exited with ${p.exitcode}`);
}
