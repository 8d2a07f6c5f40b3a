// Reads a run log back, line by line, validating every line against the contract.
//
// The one tolerated defect is a *torn tail*: the writer appends whole lines, each ending in '\n',
// so a monitor killed mid-write can only leave an incomplete LAST line. That line is dropped and
// reported; everything before it is kept. Any other bad line means the file was damaged or was
// never a run log, and reading stops with a RunLogError naming the line.

import fs from 'node:fs';
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
  /** Its length in characters (the text itself may be a partial, arbitrarily long output line). */
  length: number;
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

/** Streams the events of the log at `filePath`, holding only one chunk and one line in memory. */
export async function* readRunLog(filePath: string, options: ReadRunLogOptions = {}): AsyncGenerator<RunEvent> {
  let handle: fs.promises.FileHandle;
  let size: number;
  try {
    handle = await fs.promises.open(filePath, 'r');
  } catch (err) {
    throw unreadable(filePath, err);
  }
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw unreadable(filePath, err);
  }
  // The stream owns the handle from here: it closes it at the end, on error, or when the
  // consumer stops early (the for-await below destroys the stream on return).
  const stream = handle.createReadStream({ encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  const lines = new LineJudge(filePath);
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      options.onProgress?.(size > 0 ? Math.min(1, stream.bytesRead / size) : 1);
      const text = rest.length > 0 ? rest + chunk : chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const event = lines.complete(text.slice(start, nl));
        start = nl + 1;
        if (event) yield event;
      }
      rest = start === 0 ? text : text.slice(start);
      lines.checkPending(rest.length);
    }
  } catch (err) {
    if (err instanceof RunLogError) throw err;
    throw unreadable(filePath, err);
  } finally {
    stream.destroy();
  }
  const torn = lines.end(rest);
  if (torn) options.onTornTail?.(torn);
}

/** Parses a whole log held in memory: for tests and small inputs. Same rules as readRunLog. */
export function parseRunLogText(text: string, source = '<text>'): { events: RunEvent[]; tornTail: boolean } {
  const lines = new LineJudge(source);
  const events: RunEvent[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    const event = lines.complete(text.slice(start, nl));
    start = nl + 1;
    if (event) events.push(event);
  }
  const torn = lines.end(text.slice(start));
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
  /** Line number of a complete line that was not valid JSON, awaiting judgement. */
  private unparsed: number | null = null;

  constructor(private readonly source: string) {}

  /** A newline-terminated line (without the '\n'). Returns its event, or null if held back. */
  complete(text: string): RunEvent | null {
    this.lineNo++;
    if (this.unparsed !== null) throw this.corrupt(this.unparsed, 'not valid JSON');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (this.lineNo === 1) throw this.notALog();
      this.unparsed = this.lineNo;
      return null;
    }
    return this.check(value, this.lineNo);
  }

  /** Called with the length of the unterminated text carried over between chunks. */
  checkPending(length: number): void {
    const line = this.lineNo + 1;
    if (line === 1 && length > MAX_FIRST_LINE) throw this.notALog();
    if (length > MAX_LINE) throw this.corrupt(line, `line longer than ${MAX_LINE / 1024 / 1024} MiB`);
  }

  /** End of input; `rest` is the text after the last newline. Returns the torn tail, if any. */
  end(rest: string): TornTail | null {
    let torn: TornTail | null = null;
    if (this.unparsed !== null) {
      // A complete line that was not JSON: torn only if it is really the last thing in the file.
      if (rest.length > 0) throw this.corrupt(this.unparsed, 'not valid JSON');
      torn = { line: this.unparsed, length: 0 };
    } else if (rest.length > 0) {
      // No trailing newline: the write of this line did not finish, even if it happens to parse.
      torn = { line: this.lineNo + 1, length: rest.length };
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
