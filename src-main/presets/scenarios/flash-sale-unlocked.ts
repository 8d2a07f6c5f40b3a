// Seed 8 without the lock: ten buyers race for a stock of 3 kept in the file `product`, and
// nothing stops two of them from reading the same stock before either writes it back.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, ValueError } from 'procscope';

/** Python's int(text): a whole number, else ValueError (JavaScript's Number('') would give 0). */
function int(text: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new ValueError(`invalid literal for int() with base 10: '${text}'`);
  return Number(text);
}

export async function buy(i: number): Promise<void> {
  let num = int(readFileSync('product', 'utf8'));
  // Not in the seed: simulating work between read and write. It widens the window in which
  // other buyers read the same, stale stock, so the race shows on every run, not only sometimes.
  await sleep(200);

  if (num > 0) {
    num -= 1;
    console.log(`子进程${i}抢购成功！`); // child i: purchase succeeded!
  } else {
    console.log(`子进程${i}抢购失败！`); // child i: purchase failed!
  }

  writeFileSync('product', String(num));
}

export default async function main(): Promise<void> {
  // Not in the seed, which assumes the file `product` already exists: the initial stock is 3.
  writeFileSync('product', '3');
  for (let i = 0; i < 10; i++) {
    const p = new Process({ target: buy, args: [i] });
    p.start();
  }
  // No join(), as in the seed: main still waits for its non-daemon children before exiting.
}
