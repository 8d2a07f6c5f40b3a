// Seed 2, the wrong way: join() inside the loop. Each child must end before the next one starts.
import { Process } from 'procscope';

export function foo(num: number): void {
  console.log(num);
}

export default async function main(): Promise<void> {
  const mp: Process[] = []; // kept from the seed, whose right-way loop joins these afterwards
  for (let i = 0; i < 5; i++) { // for i in range(5)
    const p = new Process({ target: foo, args: [i] });
    mp.push(p);
    p.start();
    await p.join(); // wrong: blocks the main process from entering the next pass of the loop
  }
}
