// Reads a run log back, line by line, validating every line against the contract.
//
// The one tolerated defect is a *torn tail*: the writer appends whole lines, each ending in '\n',
// so a monitor killed mid-write can only leave an incomplete LAST line. That line is dropped and
// reported; everything before it is kept. Any other bad line means the file was damaged or was
// never a run log, and reading stops with a RunLogError naming the line.
//
// Memory: the file is read as bytes, split on '\n', and a line longer than a chunk is kept as the
// text of its pieces, joined once when its newline is in. (Appending each chunk to the pending
// text, then searching it, flattened a longer string at every chunk: a 63 MiB line cost the CLI
// 425-650 MB.) What is alive at once is about three copies of the longest line: its pieces, their
// join, and the event parsed from it.

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LOG_VERSION, parseRunEvent } from '../../api.ts';
import type { RunEvent } from '../../api.ts';

export class RunLogError extends Error {
  override readonly name = 'RunLogError';
  /** The file (or label) being read. */
  readonly source: string;
  /** 1-based line the problem is on; null when the file could not be read at all. */
  readonly line: number | null;

  constructor(message: string, source: string, line: number | null) {
    super(message);
    this.source = source;
    this.line = line;
  }
}

/** The incomplete last line that was dropped. */
export interface TornTail {
  /** 1-based line number of the dropped line. */
  line: number;
  /** Bytes dropped with it: the end of the file from where that line starts. */
  bytes: number;
}

/** The line a shell prints about a torn tail it dropped from `source`. */
export function tornTailNote(source: string, torn: TornTail): string {
  const size = torn.bytes === 1 ? '1 byte' : `${torn.bytes} bytes`;
  return `${source}: its last line (line ${torn.line}) was torn and is left out: ${size} dropped (the monitor stopped in the middle of writing it)`;
}

export interface ReadRunLogOptions {
  /** Called once, at the end, if the last line was torn and dropped. */
  onTornTail?: (tail: TornTail) => void;
  /** Called as the file is read with the fraction of its bytes read so far (0..1). */
  onProgress?: (fraction: number) => void;
}

/** A line a valid run log never has: the first line of a real log is a few hundred bytes. */
const MAX_FIRST_LINE = 64 * 1024;
/** Output lines can be long, but a line this long means a damaged or foreign file. */
const MAX_LINE = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/** Streams the events of the log at `filePath`, holding only one chunk and one line in memory. */
export async function* readRunLog(filePath: string, options: ReadRunLogOptions = {}): AsyncGenerator<RunEvent> {
  const { handle, size } = await openLog(filePath);
  // The stream owns the handle from here: it closes it at the end, on error, or when the
  // consumer stops early (the for-await below destroys the stream on return).
  const stream = handle.createReadStream({ highWaterMark: CHUNK_BYTES });
  const lines = new LineJudge(filePath);
  // The line being read so far, decoded piece by piece as its chunks arrive (so no chunk is kept
  // for it), and its size in bytes. A character split between chunks waits in the decoder.
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  let pending = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.onProgress?.(size > 0 ? Math.min(1, stream.bytesRead / size) : 1);
      let start = 0;
      // '\n' is never part of a multi-byte UTF-8 sequence: splitting the bytes on it is safe.
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        const bytes = pending + nl - start + 1;
        let text: string;
        if (pending === 0) text = chunk.toString('utf8', start, nl);
        else {
          parts.push(decoder.write(chunk.subarray(start, nl)), decoder.end());
          text = parts.join('');
          parts = [];
          pending = 0;
        }
        start = nl + 1;
        const event = lines.complete(text, bytes);
        if (event) yield event;
      }
      if (start < chunk.length) {
        parts.push(decoder.write(chunk.subarray(start)));
        pending += chunk.length - start;
        lines.checkPending(pending);
      }
    }
  } catch (err) {
    if (err instanceof RunLogError) throw err;
    throw unreadable(filePath, err);
  } finally {
    stream.destroy();
  }
  const torn = lines.end(pending);
  if (torn) options.onTornTail?.(torn);
}

/**
 * Opens a log for reading. Only a regular file is a log: a FIFO would block the read (and the
 * open itself, without O_NONBLOCK) until someone writes to it, a device would never end.
 */
async function openLog(filePath: string): Promise<{ handle: fs.promises.FileHandle; size: number }> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(filePath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw unreadable(filePath, err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new RunLogError(`cannot read run log ${filePath}: is a directory`, filePath, null);
    if (!st.isFile()) throw new RunLogError(`cannot read run log ${filePath}: not a regular file (${kindOf(st)})`, filePath, null);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err instanceof RunLogError ? err : unreadable(filePath, err);
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** Parses a whole log held in memory: for tests and small inputs. Same rules as readRunLog. */
export function parseRunLogText(text: string, source = '<text>'): { events: RunEvent[]; tornTail: boolean } {
  const lines = new LineJudge(source);
  const events: RunEvent[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    const line = text.slice(start, nl);
    const event = lines.complete(line, Buffer.byteLength(line) + 1);
    start = nl + 1;
    if (event) events.push(event);
  }
  const torn = lines.end(Buffer.byteLength(text.slice(start)));
  return { events, tornTail: torn !== null };
}

/**
 * Judges lines in order. A complete line that is not JSON cannot be judged on its own: it is a
 * torn tail if nothing follows it (the kernel can extend the file before the data lands, e.g.
 * zero bytes after a power cut), and corruption otherwise. So it is held until the next line
 * or the end of input decides.
 */
class LineJudge {
  private lineNo = 0;
  private sawRun = false;
  /** A complete line that was not valid JSON, awaiting judgement: its number and size. */
  private unparsed: { line: number; bytes: number } | null = null;

  constructor(private readonly source: string) {}

  /**
   * A newline-terminated line (without the '\n'; `bytes` with it). Returns its event, or null if
   * held back.
   */
  complete(text: string, bytes: number): RunEvent | null {
    this.lineNo++;
    if (this.unparsed !== null) throw this.corrupt(this.unparsed.line, 'not valid JSON');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (this.lineNo === 1) throw this.notALog();
      this.unparsed = { line: this.lineNo, bytes };
      return null;
    }
    return this.check(value, this.lineNo);
  }

  /** Called with the size (bytes) of the unterminated line carried over between chunks. */
  checkPending(length: number): void {
    const line = this.lineNo + 1;
    if (line === 1 && length > MAX_FIRST_LINE) throw this.notALog();
    if (length > MAX_LINE) throw this.corrupt(line, `line longer than ${MAX_LINE / 1024 / 1024} MiB`);
  }

  /** End of input; `rest` is the size (bytes) after the last newline. Returns the torn tail, if any. */
  end(rest: number): TornTail | null {
    let torn: TornTail | null = null;
    if (this.unparsed !== null) {
      // A complete line that was not JSON: torn only if it is really the last thing in the file.
      if (rest > 0) throw this.corrupt(this.unparsed.line, 'not valid JSON');
      torn = this.unparsed;
    } else if (rest > 0) {
      // No trailing newline: the write of this line did not finish, even if it happens to parse.
      torn = { line: this.lineNo + 1, bytes: rest };
    }
    if (!this.sawRun) throw this.notALog();
    return torn;
  }

  private check(value: unknown, line: number): RunEvent {
    const parsed = parseRunEvent(value);
    if (line === 1) {
      if (!parsed.ok) {
        const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
        if (type === 'run') throw this.corrupt(1, parsed.reason);
        throw this.notALog();
      }
      if (parsed.event.type !== 'run') throw this.notALog();
      if (parsed.event.version !== LOG_VERSION) {
        throw new RunLogError(
          `cannot read run log ${this.source}: line 1: log format version ${parsed.event.version}, this procscope reads version ${LOG_VERSION}`,
          this.source,
          1,
        );
      }
      this.sawRun = true;
      return parsed.event;
    }
    if (!parsed.ok) throw this.corrupt(line, parsed.reason);
    return parsed.event;
  }

  private corrupt(line: number, reason: string): RunLogError {
    return new RunLogError(`corrupt run log ${this.source}: line ${line}: ${reason}`, this.source, line);
  }

  private notALog(): RunLogError {
    return new RunLogError(
      `cannot read run log ${this.source}: line 1: not a procscope run log (first line must be a "run" event)`,
      this.source,
      1,
    );
  }
}

function unreadable(source: string, err: unknown): RunLogError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : err instanceof Error
            ? err.message
            : String(err);
  return new RunLogError(`cannot read run log ${source}: ${why}`, source, null);
}
