// The file name ending of each export, one table for the CLI and the window's downloads.

import type { ExportFormat } from '../../api.ts';

export const EXPORT_SUFFIX: Record<ExportFormat, string> = {
  jsonl: '.jsonl',
  csv: '.csv',
  trace: '.trace.json',
  // speedscope recognizes its own files by content; the suffix says what to open them with.
  speedscope: '.speedscope.json',
};
