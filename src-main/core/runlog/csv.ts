// Exports the resource samples of a run as CSV: one row per pid per sample.
// RFC 4180: CRLF line ends, a field is quoted when it holds a comma, quote, CR or LF, and quotes
// inside it are doubled. Only process names can need it, but they are user-chosen.
//
// A spreadsheet runs a cell that starts with =, +, -, @ (or a tab or CR before one) as a
// formula, and a process name is whatever the program chose: such a name is written with a
// leading single quote, as OWASP recommends ("CSV injection"), which spreadsheets show as text.
// Numeric columns are written from the log's numbers, never from text, so they are left as they
// are; a name that is itself a plain number (`-1`) is also left alone: a spreadsheet reads it as
// that number, which is no formula, and a quote would only make it harder to read.

import type { Pid, RunEvent } from '../../api.ts';
import { writeExportFile } from './export-file.ts';
import { readRunLog, type TornTail } from './reader.ts';

export const CSV_HEADER = 't_ms,pid,name,cpu_percent,rss_bytes';
const EOL = '\r\n';

/** Turns events into CSV rows, remembering each pid's name from its `process` event. */
class SampleRows {
  private readonly names = new Map<Pid, string>();

  /** The CSV row (with its line end) for `event`, or null if it is not a sample. */
  row(event: RunEvent): string | null {
    if (event.type === 'process') {
      // A later `process` event for the same pid is a recycled pid: samples after it are the new one's.
      this.names.set(event.pid, csvField(event.name));
      return null;
    }
    if (event.type !== 'sample') return null;
    return `${event.t},${event.pid},${this.names.get(event.pid) ?? ''},${event.cpu},${event.rss}${EOL}`;
  }
}

/** A text cell: neutralised if a spreadsheet would run it, then quoted per RFC 4180 when it needs it. */
export function csvField(value: string): string {
  const cell = FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** What a spreadsheet may take for the start of a formula (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A number as a spreadsheet reads one: an optional sign, digits, an optional fraction and exponent. */
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The whole CSV for `events` as one string (header included): for tests and small runs. */
export function samplesToCsv(events: Iterable<RunEvent>): string {
  const rows = new SampleRows();
  const out: string[] = [CSV_HEADER + EOL];
  for (const event of events) {
    const row = rows.row(event);
    if (row !== null) out.push(row);
  }
  return out.join('');
}

/**
 * Streams the samples of the log at `logPath` into a CSV file at `outPath`. The file appears
 * only when complete (see export-file.ts).
 */
export async function exportCsv(
  logPath: string,
  outPath: string,
  onProgress?: (fraction: number) => void,
): Promise<{ rows: number; torn: TornTail | null }> {
  let rows = 0;
  let torn: TornTail | null = null;
  await writeExportFile(outPath, async (write) => {
    // Rows are batched into ~1 MiB writes: one write per row would dominate the export.
    let batch: string[] = [CSV_HEADER + EOL];
    let batchChars = 0;
    const sampleRows = new SampleRows();
    for await (const event of readRunLog(logPath, { onProgress, onTornTail: (t) => (torn = t) })) {
      const row = sampleRows.row(event);
      if (row === null) continue;
      batch.push(row);
      batchChars += row.length;
      rows++;
      if (batchChars >= 1024 * 1024) {
        await write(batch.join(''));
        batch = [];
        batchChars = 0;
      }
    }
    await write(batch.join(''));
  });
  onProgress?.(1);
  return { rows, torn };
}
