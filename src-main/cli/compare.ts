// `procscope compare A.jsonl B.jsonl`: what differs between two runs, as a table (or its rows as
// JSON). Each log is read as a stream, so two long runs cost two passes and a few counters.

import type { Lang } from '../api.ts';
import { RunDigest, compareRuns, type CompareRow, type RunDigestResult } from '../common/run-digest.ts';
import { readRunLog } from '../core/runlog/reader.ts';
import { table } from './format.ts';

export interface CompareCommand {
  a: string;
  b: string;
  json: boolean;
}

/** A log's digest; a torn last line (the monitor was killed mid-write) is left out, and said. */
export async function digestLog(file: string, note: (line: string) => void): Promise<RunDigestResult> {
  const digest = new RunDigest();
  for await (const e of readRunLog(file, { onTornTail: (tail) => note(`${file}: line ${tail.line} was cut short and is left out`) })) {
    digest.add(e);
  }
  return digest.result();
}

/** The rows as an aligned table: `*` marks a row that differs. */
export function compareText(rows: readonly CompareRow[], a: string, b: string, lang: Lang = 'en'): string[] {
  const body: string[][] = [];
  let section: CompareRow['section'] | null = null;
  for (const r of rows) {
    if (section !== null && r.section !== section) body.push(['', '', '', '']);
    section = r.section;
    body.push([r.differs ? '*' : '', r.label[lang], r.a, r.b]);
  }
  const differ = rows.filter((r) => r.differs).length;
  return [
    `A: ${a}`,
    `B: ${b}`,
    '',
    ...table(['', 'WHAT', 'A', 'B'], body),
    '',
    differ === 0 ? 'no row differs' : `* ${differ} of ${rows.length} rows differ (locks and queues are matched by the order each run created them)`,
  ];
}

export async function compareCommand(cmd: CompareCommand, out: (text: string) => void, note: (line: string) => void): Promise<number> {
  const [a, b] = [await digestLog(cmd.a, note), await digestLog(cmd.b, note)];
  const rows = compareRuns(a, b);
  if (cmd.json) out(`${JSON.stringify(rows, null, 2)}\n`);
  else out(`${compareText(rows, cmd.a, cmd.b).join('\n')}\n`);
  return 0;
}
