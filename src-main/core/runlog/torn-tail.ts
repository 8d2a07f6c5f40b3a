// How many bytes at the end of a run log a reader drops as a torn tail (reader.ts's rule), found
// from the end of the file alone: a list of past runs shows it without reading gigabytes.

import type fs from 'node:fs';

const BLOCK = 64 * 1024;
/** As far back as the reader lets a line go (its MAX_LINE): past it, the log is corrupt anyway. */
const MAX_SCAN = 64 * 1024 * 1024 + 1;
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;

/**
 * The size of the torn tail of the log open as `handle` (`size` bytes long), 0 if it has none:
 * - a last line without its newline (its write did not finish) is torn, whatever it holds;
 * - a last line with its newline is torn when it is not JSON (zeros after a power cut, say); a
 *   line the writer wrote is one JSON object, so one that does not end in `}` cannot be one, and
 *   one that does is parsed when it is short enough to have been read.
 */
export async function tornTailBytes(handle: fs.promises.FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const last = await byteAt(handle, size - 1);
  const end = last === NEWLINE ? size - 1 : size;
  const { start, text } = await lastLine(handle, end);
  if (last !== NEWLINE) return size - start;
  const bytes = size - start;
  if (end === start || (await byteAt(handle, end - 1)) !== CLOSE_BRACE) return bytes;
  if (text === null) return 0;
  try {
    JSON.parse(text);
    return 0;
  } catch {
    return bytes;
  }
}

async function byteAt(handle: fs.promises.FileHandle, pos: number): Promise<number> {
  const one = Buffer.alloc(1);
  await handle.read(one, 0, 1, pos);
  return one[0];
}

/**
 * Where the line that ends at `end` (exclusive) starts, and its text when it is at most one
 * block long (null otherwise: the caller only parses short lines).
 */
async function lastLine(handle: fs.promises.FileHandle, end: number): Promise<{ start: number; text: string | null }> {
  const block = Buffer.alloc(BLOCK);
  for (let to = end; to > 0 && end - to < MAX_SCAN; ) {
    const from = Math.max(0, to - BLOCK);
    const { bytesRead } = await handle.read(block, 0, to - from, from);
    const nl = block.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl !== -1) {
      const start = from + nl + 1;
      return { start, text: end - start <= BLOCK ? await text(handle, start, end) : null };
    }
    to = from;
  }
  return { start: Math.max(0, end - MAX_SCAN), text: null };
}

async function text(handle: fs.promises.FileHandle, start: number, end: number): Promise<string> {
  const buf = Buffer.alloc(end - start);
  await handle.read(buf, 0, buf.length, start);
  return buf.toString('utf8');
}
