// Exports the resource samples of a run as CSV: one row per pid per sample.
// RFC 4180: CRLF line ends, a field is quoted when it holds a comma, quote, CR or LF, and quotes
// inside it are doubled. Only process names can need it, but they are user-chosen.

import type { Pid, RunEvent } from '../../api.ts';
import { writeExportFile } from './export-file.ts';
import { readRunLog } from './reader.ts';

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

/** Quotes a field per RFC 4180 when it needs it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

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
): Promise<{ rows: number }> {
  let rows = 0;
  await writeExportFile(outPath, async (write) => {
    // Rows are batched into ~1 MiB writes: one write per row would dominate the export.
    let batch: string[] = [CSV_HEADER + EOL];
    let batchChars = 0;
    const sampleRows = new SampleRows();
    for await (const event of readRunLog(logPath, { onProgress })) {
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
  return { rows };
}
