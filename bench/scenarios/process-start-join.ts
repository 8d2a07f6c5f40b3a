// Bench 4: start + join of a Process whose target does nothing, sequentially; median ms.
// The first round warms the OS caches (and the scenario's compiled-TypeScript cache) and is dropped.
import { Process } from 'procscope';

const ROUNDS = Number(process.env.BENCH_START_ROUNDS ?? 10);

export function nothing(): void {}

export default async function main(): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const t = performance.now();
    const p = new Process({ target: nothing });
    p.start();
    await p.join();
    if (p.exitcode !== 0) throw new Error(`child exited with ${p.exitcode}`);
    if (i > 0) ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`INFO start_join_ms_all ${ms.map((m) => m.toFixed(1)).join(',')}`);
  console.log(`RESULT start_join_ms ${ms[Math.floor(ms.length / 2)].toFixed(2)}`);
}
