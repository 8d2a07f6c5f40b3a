// Seed 4: a pool of 5 worker processes runs foo over 100 numbers.
import { Pool } from 'procscope';

// Runs in the pool's workers, which find it by export name.
export function foo(num: number): void {
  console.log(num);
}

export default async function main(): Promise<void> {
  // `with Pool(5) as p:` — the pool is terminated when the callback's promise settles.
  await Pool.with(5, async (p) => {
    // range(100). The workers take the numbers in chunks (Python's default chunksize here is 5).
    await p.map(foo, Array.from({ length: 100 }, (_, i) => i));
  });
}
