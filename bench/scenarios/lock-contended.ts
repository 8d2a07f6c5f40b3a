// Bench 2: four processes each do N acquire/release pairs on one Lock. Main releases them
// together and times from the release to the last worker's report: total ops/s.
// BENCH_LOCK_WORKERS=1 measures the uncontended round trip (no hand-off between processes).
import { Lock, Process, Queue } from 'procscope';

const WORKERS = Number(process.env.BENCH_LOCK_WORKERS ?? 4);
const PAIRS = Number(process.env.BENCH_LOCK_PAIRS ?? 5_000);

export async function hammer(lock: Lock, ready: Queue<number>, go: Queue<number>, done: Queue<number>, n: number): Promise<void> {
  await ready.put(1);
  await go.get();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  await done.put(1);
}

export default async function main(): Promise<void> {
  const lock = new Lock();
  const ready = new Queue<number>();
  const go = new Queue<number>();
  const done = new Queue<number>();
  const ps = Array.from({ length: WORKERS }, () => new Process({ target: hammer, args: [lock, ready, go, done, PAIRS] }));
  for (const p of ps) p.start();
  for (let i = 0; i < WORKERS; i++) await ready.get();
  const t0 = performance.now();
  for (let i = 0; i < WORKERS; i++) await go.put(1);
  for (let i = 0; i < WORKERS; i++) await done.get();
  const seconds = (performance.now() - t0) / 1000;
  for (const p of ps) await p.join();
  if (ps.some((p) => p.exitcode !== 0)) throw new Error('a lock worker failed');
  console.log(`INFO lock_id ${lock.id}`);
  console.log(`RESULT lock_ops_per_s ${((WORKERS * PAIRS) / seconds).toFixed(0)}`);
}
