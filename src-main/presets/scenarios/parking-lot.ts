// A parking lot with 3 spaces and 8 cars: a Semaphore(3) lets at most 3 processes in at once.
import { Process, Semaphore } from 'procscope';

const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));

export async function car(n: number, lot: Semaphore): Promise<void> {
  console.log(`car ${n} arrives`);
  // Python's `with lot:` waits here while all 3 spaces are taken.
  await lot.with(async () => {
    console.log(`car ${n} parks`);
    await sleep(1 + 0.2 * (n % 3));
    console.log(`car ${n} leaves`);
  });
}

export default async function main(): Promise<void> {
  const lot = new Semaphore(3);
  const cars = Array.from({ length: 8 }, (_, n) => new Process({ target: car, args: [n, lot], name: `car-${n}` }));
  for (const c of cars) c.start();
  for (const c of cars) await c.join();
}
