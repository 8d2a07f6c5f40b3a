// Appends run events to a JSON-lines log, batched per event-loop turn.
//
// Two requirements pull in opposite directions: the log must survive a SIGKILL of the monitor
// (so nothing may sit in memory for long), and a queue benchmark appends ~200k events/s (so one
// write syscall per event is too slow). The compromise: lines are buffered and written with ONE
// `writeSync` when the current turn ends (`setImmediate`), or at once when the buffer passes
// FLUSH_BYTES. A SIGKILL therefore loses at most what was appended in the turn it interrupted;
// whatever reached `writeSync` is in the kernel's page cache and survives the process.

import fs from 'node:fs';
import path from 'node:path';
import type { LockEvent, QueueEvent, RunEvent } from '../../api.ts';
import { runsDir } from '../paths.ts';

/** Flush synchronously once this many characters are buffered (~256 KiB of mostly-ASCII JSON). */
const FLUSH_BYTES = 256 * 1024;

export class RunLogWriter {
  readonly path: string;
  private fd: number | null;
  /**
   * Lines appended since the last flush, each with its newline. One growing string (V8 keeps it
   * as a rope, flattened once at the write) costs less than an array joined at the flush.
   */
  private pending = '';
  private turnFlush: NodeJS.Immediate | null = null;
  /** A failed write: every later call throws it (the deferred flush has no caller to tell). */
  private failure: Error | null = null;
  private failureReported = false;

  private constructor(filePath: string, fd: number) {
    this.path = filePath;
    this.fd = fd;
  }

  /**
   * Opens (creating it and its parent directories) `filePath` for appending. A log holds what the
   * program printed, which may be secret: a new log is readable by its owner only (0600), folders
   * made for it are 0700, and procscope's own runs folder is made 0700 if it is not.
   */
  static open(filePath: string): RunLogWriter {
    const dir = path.dirname(path.resolve(filePath));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (dir === path.resolve(runsDir())) keepPrivate(dir);
    // 'a' is O_WRONLY | O_CREAT | O_APPEND: every write lands at the current end of the file,
    // so a crash can only ever leave a torn *last* line, never a hole in the middle.
    const fd = fs.openSync(filePath, 'a', 0o600);
    return new RunLogWriter(filePath, fd);
  }

  /** Buffers one event as one JSON line; it reaches the file at the end of the current turn. */
  append(event: RunEvent): void {
    if (this.fd === null) throw new Error(`run log ${this.path} is closed: cannot append a "${event.type}" event`);
    if (this.failure) this.reportFailure();
    const line =
      event.type === 'queue' && event.side === undefined
        ? queueLine(event)
        : event.type === 'lock' && hasLockShape(event)
          ? lockLine(event)
          : JSON.stringify(event);
    this.pending += `${line}\n`;
    if (this.pending.length >= FLUSH_BYTES) {
      this.flush();
    } else if (this.turnFlush === null) {
      this.turnFlush = setImmediate(this.flushAtTurnEnd);
    }
  }

  /** Writes everything buffered now, with one write syscall (more only if the kernel writes short). */
  flush(): void {
    if (this.failure) this.reportFailure();
    if (this.pending.length === 0 || this.fd === null) return;
    // Every line, including the last, ends with '\n', which is what tells a reader that the line
    // is complete.
    const text = this.pending;
    this.pending = '';
    const bytes = Buffer.from(text, 'utf8');
    try {
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      // After a failed write the file may end in a partial line: refuse further appends rather
      // than writing complete lines after it, which would turn a torn tail into a corrupt middle.
      this.failure = new Error(`cannot write run log ${this.path}: ${describe(err)}`);
      this.reportFailure();
    }
  }

  /**
   * Flushes and closes the file. Idempotent. Throws if a write failed and no caller has been
   * told yet (the failure happened in a deferred flush): the events since then are lost.
   */
  close(): void {
    if (this.fd === null) return;
    if (this.turnFlush !== null) {
      clearImmediate(this.turnFlush);
      this.turnFlush = null;
    }
    const fd = this.fd;
    try {
      if (!this.failure) this.flush();
    } finally {
      this.fd = null;
      this.pending = '';
      fs.closeSync(fd);
    }
    if (this.failure && !this.failureReported) this.reportFailure();
  }

  get closed(): boolean {
    return this.fd === null;
  }

  private reportFailure(): never {
    this.failureReported = true;
    throw this.failure ?? new Error(`run log ${this.path}: unknown write failure`);
  }

  // An arrow property so `setImmediate` can take it without allocating a closure per turn.
  private readonly flushAtTurnEnd = (): void => {
    this.turnFlush = null;
    try {
      this.flush();
    } catch {
      // Kept in `this.failure`; the next append/flush/close throws it to a caller that can act.
      this.failureReported = false;
    }
  };
}

/** Takes group and other access away from a folder of ours (one made by an older procscope). */
function keepPrivate(dir: string): void {
  try {
    const st = fs.statSync(dir);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(dir, st.mode & 0o700);
  } catch {
    // Not ours to change, or gone: the log itself is still created 0600.
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return String(err);
}

/**
 * The hottest line (a queue stream logs two per item), written by hand: the same JSON as
 * JSON.stringify gives, in the same key order, at a fraction of the cost. Only for a put, get or
 * create: a blocked wait's line also names its side and who waits.
 */
function queueLine(e: QueueEvent): string {
  return `{"t":${stamp(e.t)},"type":"queue","queue":${quoted(e.queue)},"op":"${e.op}","pid":${e.pid},"depth":${e.depth},"maxsize":${e.maxsize}}`;
}

/**
 * A lock's request, acquire or release: three lines per contended acquisition, as hot as a queue's.
 * Written by hand for the shape lock-state.ts makes (a Lock's, or a semaphore's with its holders
 * and value after), the same JSON as JSON.stringify in the same key order; any other (a create, a
 * timed request, an error) goes through JSON.stringify.
 */
function lockLine(e: LockEvent): string {
  const head = `{"t":${stamp(e.t)},"type":"lock","lock":${quoted(e.lock)},"op":"${e.op}","pid":${e.pid},"holder":${e.holder},"waiters":[${e.waiters.join(',')}]`;
  return e.holders === undefined ? `${head}}` : `${head},"holders":[${e.holders.join(',')}],"value":${e.value}}`;
}

/** Object ids as JSON strings: a run names a few objects millions of times. */
const quotedIds = new Map<string, string>();
const MAX_QUOTED = 4096;

function quoted(id: string): string {
  let q = quotedIds.get(id);
  if (q === undefined) {
    if (quotedIds.size >= MAX_QUOTED) quotedIds.clear();
    q = JSON.stringify(id);
    quotedIds.set(id, q);
  }
  return q;
}

/** Fractions of a stamp in whole µs, as String(t) writes them: '.5' for 500, '.012' for 12, '' for 0. */
const FRACTIONS = Array.from({ length: 1000 }, (_, us) => (us === 0 ? '' : `.${String(us).padStart(3, '0').replace(/0+$/, '')}`));

/**
 * String(t) for a stamp in ms, which the session rounds to whole µs: the integer part and a
 * table's fraction cost a fraction of a double's shortest form. Any other number (more digits,
 * negative, huge) gets String's own.
 */
function stamp(t: number): string {
  const us = Math.round(t * 1000);
  if (us >= 0 && us < 2 ** 52 && us / 1000 === t) {
    const ms = Math.floor(us / 1000);
    return `${ms}${FRACTIONS[us - ms * 1000]}`;
  }
  return String(t);
}

/** Whether lockLine writes all of `e`: none of the keys only some events have (JSON.stringify writes those). */
function hasLockShape(e: LockEvent): boolean {
  return e.kind === undefined && e.capacity === undefined && e.timed === undefined && e.error === undefined && (e.holders === undefined) === (e.value === undefined);
}
