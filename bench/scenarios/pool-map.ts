// Bench 3: Pool(5).map of trivial items. Times the map call alone, and pool creation + map +
// terminate (what `with Pool(5) as p: p.map(...)` costs in Python).
import { Pool } from 'procscope';

const ITEMS = Number(process.env.BENCH_POOL_ITEMS ?? 100_000);

export function double(x: number): number {
  return x * 2;
}

export default async function main(): Promise<void> {
  const xs = Array.from({ length: ITEMS }, (_, i) => i);
  let mapSeconds = 0;
  const t0 = performance.now();
  const out = await Pool.with(5, async (p) => {
    const t = performance.now();
    const r = await p.map(double, xs);
    mapSeconds = (performance.now() - t) / 1000;
    return r;
  });
  const totalSeconds = (performance.now() - t0) / 1000;
  console.log(`CHECK results ${out.length} last_ok ${out[ITEMS - 1] === 2 * (ITEMS - 1)}`);
  console.log(`RESULT pool_map_s ${mapSeconds.toFixed(4)}`);
  console.log(`RESULT pool_total_s ${totalSeconds.toFixed(4)}`);
}
