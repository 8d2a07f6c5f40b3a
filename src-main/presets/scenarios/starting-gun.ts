// A starting gun: five runners wait on an Event; one set() releases them all at once.
import { Event, Process, Queue } from 'procscope';

const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));

export async function runner(n: number, ready: Queue<number>, gun: Event): Promise<void> {
  await ready.put(n);
  await gun.wait(); // on the line until the gun fires
  console.log(`runner ${n} is off`);
}

export default async function main(): Promise<void> {
  const ready = new Queue<number>();
  const gun = new Event();
  const runners = Array.from({ length: 5 }, (_, n) => new Process({ target: runner, args: [n, ready, gun], name: `runner-${n}` }));
  for (const r of runners) r.start();
  for (let i = 0; i < runners.length; i++) await ready.get(); // every runner has reached the line
  await sleep(0.5); // "on your marks": long enough for each one to be inside wait()
  console.log('BANG');
  gun.set();
  for (const r of runners) await r.join();
}
