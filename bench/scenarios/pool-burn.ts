// Bench 11, TypeScript side: bench/python/pool_burn.py's twin, a CPU-bound Pool(4).map timed
// around the map call, run unprofiled and profiled (--profile, 100 Hz).
import { Pool } from 'procscope';

const ITEMS = Number(process.env.BENCH_BURN_ITEMS ?? 96);
const WORK = Number(process.env.BENCH_BURN_TS_WORK ?? 1_500_000);

export function burn(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i * i) % 1000003;
  return x;
}

export default async function main() {
  const pool = new Pool(4);
  await pool.map(burn, Array(8).fill(1000), 1);
  const t0 = performance.now();
  const results = await pool.map(burn, Array(ITEMS).fill(WORK), 1);
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  await pool.join();
  const total = results.reduce((a, b) => a + b, 0);
  console.log(`CHECK result ${total === burn(WORK) * ITEMS}`);
  console.log(`RESULT burn_s ${seconds.toFixed(4)}`);
}
