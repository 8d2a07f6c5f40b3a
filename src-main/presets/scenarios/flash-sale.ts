// Seed 8: ten buyers race for a stock of 3 kept in the file `product`; a Lock makes each
// read-check-write happen as one step.
import { readFileSync, writeFileSync } from 'node:fs';
import { Lock, Process, ValueError } from 'procscope';

/** Python's int(text): a whole number, else ValueError (JavaScript's Number('') would give 0). */
function int(text: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new ValueError(`invalid literal for int() with base 10: '${text}'`);
  return Number(text);
}

export async function buy(i: number, lock: Lock): Promise<void> {
  await lock.acquire();
  let num = int(readFileSync('product', 'utf8'));

  if (num > 0) {
    num -= 1;
    console.log(`子进程${i}抢购成功！`); // child i: purchase succeeded!
  } else {
    console.log(`子进程${i}抢购失败！`); // child i: purchase failed!
  }

  writeFileSync('product', String(num));

  lock.release();
  // If anything above threw, the lock would never be released. The seed's second variant,
  // `with lock:`, is `await lock.with(async () => { ... })` here: it releases even on an error.
}

export default async function main(): Promise<void> {
  // Not in the seed, which assumes the file `product` already exists: the initial stock is 3.
  writeFileSync('product', '3');
  const lock = new Lock();
  for (let i = 0; i < 10; i++) {
    const p = new Process({ target: buy, args: [i, lock] });
    p.start();
  }
  // No join(), as in the seed: main still waits for its non-daemon children before exiting.
}
