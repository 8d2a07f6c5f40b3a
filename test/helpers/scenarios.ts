// Scenarios more than one test file runs, written fresh for each caller.

import { scenarioFile } from './run.ts';

/** ~6000 events over ~2 s: a producer pauses every 20 puts, so events keep coming while we look. */
export function burstScenario(): string {
  return scenarioFile(`
import { Process, Queue } from 'procscope';
export async function consume(q: Queue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await q.get();
}
export default async function main(): Promise<void> {
  const n = 3000;
  const q = new Queue<number>();
  const p = new Process({ target: consume, args: [q, n] });
  p.start();
  for (let i = 0; i < n; i++) {
    await q.put(i);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  await p.join();
}
`, 'burst.ts');
}
