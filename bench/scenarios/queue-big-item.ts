// Bench 1c: one large item (32 MiB by default) through a Queue, from main to a child. The child
// times from the moment main began the put (the item carries it, wall clock) to the moment its
// get returned: the frame crosses the broker twice (put in, get out), 64 KiB at a time.
import { Process, Queue } from 'procscope';

const MIB = Number(process.env.BENCH_BIG_ITEM_MIB ?? 32);

interface Item {
  at: number;
  data: Uint8Array;
}

const wallNow = () => performance.timeOrigin + performance.now();

export async function receive(items: Queue<Item>, ready: Queue<string>): Promise<void> {
  await ready.put('ready');
  const item = await items.get();
  const seconds = (wallNow() - item.at) / 1000;
  let sum = 0;
  for (let i = 0; i < item.data.length; i += 4096) sum += item.data[i];
  console.log(`CHECK bytes ${item.data.length} intact ${item.data.length === MIB * 1024 * 1024 && sum === expectedSum(item.data.length)}`);
  console.log(`RESULT big_item_s ${seconds.toFixed(3)}`);
}

function expectedSum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i += 4096) sum += (i >> 12) & 0xff;
  return sum;
}

export default async function main(): Promise<void> {
  const items = new Queue<Item>();
  const ready = new Queue<string>();
  const data = new Uint8Array(MIB * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff;
  const p = new Process({ target: receive, args: [items, ready] });
  p.start();
  await ready.get();
  await items.put({ at: wallNow(), data });
  await p.join();
  if (p.exitcode !== 0) throw new Error(`receiver exited with ${p.exitcode}`);
}
