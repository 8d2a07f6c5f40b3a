// Seed 2, the right way: start every child first, then join them all after the loop.
import { Process } from 'procscope';

export function foo(num: number): void {
  console.log(num);
}

export default async function main(): Promise<void> {
  const mp: Process[] = [];
  for (let i = 0; i < 5; i++) { // for i in range(5)
    const p = new Process({ target: foo, args: [i] });
    mp.push(p);
    p.start(); // returns at once: the five children run side by side
  }

  for (const p of mp) {
    await p.join(); // right: by now every child is already running
  }
}
