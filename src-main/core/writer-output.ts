// The run's standard output and error as every process of it writes them below its runtime
// (`os.write(1, ...)`, `fs.writeSync(1, ...)`, a native crash message, a program it execs):
// each process inherits the same two descriptors, and each read of them says which process
// wrote it (kernel.ts, SO_PASSCRED), so each line is its writer's. A writer's lines are cut
// apart from everyone else's: two processes writing half-lines at once never mix.
//
// Where the kernel cannot say (not Linux, no koffi), the two descriptors are plain pipes, read
// by output-stream.ts, and every line is the main process's.

import type { StreamName } from '../api.ts';
import { OUTPUT_STDERR, OUTPUT_STDOUT } from '../protocol.ts';
import { taggedStream, type TaggedReader, type TaggedStream } from './kernel.ts';
import { LineSplitter } from './line-splitter.ts';

/** A line and who wrote it (null: the kernel did not say). */
export type WriterLine = (stream: StreamName, writer: number | null, text: string) => void;

/** A tagged socket's bytes, as each writer's lines. */
export class TaggedLines {
  /** Each writer's lines apart: one's half-line never joins another's. */
  private readonly writers = new Map<number | null, LineSplitter>();
  private ended = false;

  constructor(
    readonly socket: TaggedReader,
    /** Null: the stream's first byte names it (OUTPUT_STDOUT or OUTPUT_STDERR). */
    private name: StreamName | null,
    private readonly line: WriterLine,
  ) {}

  /** Everything written so far and not read yet, without waiting. */
  take(): void {
    if (this.ended) return;
    for (;;) {
      const r = this.socket.read();
      if (r === 'empty') return;
      if (r === 'end') {
        this.ended = true;
        return;
      }
      this.push(r.pid, r.data);
    }
  }

  /** `writer` is done (it exited): its last line is ended even without its newline. */
  flush(writer: number | null): void {
    const w = this.writers.get(writer);
    if (!w) return;
    this.writers.delete(writer);
    w.end();
  }

  flushAll(): void {
    for (const writer of [...this.writers.keys()]) this.flush(writer);
  }

  private push(writer: number | null, data: Buffer): void {
    if (this.name === null) {
      const tag = data[0];
      this.name = tag === OUTPUT_STDOUT ? 'stdout' : tag === OUTPUT_STDERR ? 'stderr' : null;
      if (this.name === null) {
        this.ended = true; // not an output connection: nothing of it is read
        return;
      }
      data = data.subarray(1);
    }
    const name = this.name;
    let w = this.writers.get(writer);
    if (!w) this.writers.set(writer, (w = new LineSplitter((text) => this.line(name, writer, text))));
    w.push(data);
  }
}

/** The run's stdout and stderr as streams that name their writer; null where there are none. */
export class WriterOutput {
  private readonly streams: TaggedLines[];
  private readonly sockets: TaggedStream[];
  private closed = false;

  private constructor(out: TaggedStream, err: TaggedStream, line: WriterLine) {
    this.sockets = [out, err];
    this.streams = [new TaggedLines(out, 'stdout', line), new TaggedLines(err, 'stderr', line)];
  }

  static open(line: WriterLine): WriterOutput | null {
    const out = taggedStream();
    if (!out) return null;
    const err = taggedStream();
    if (!err) {
      out.close();
      return null;
    }
    return new WriterOutput(out, err, line);
  }

  /** The descriptors the main process is to be started with, as its 1 and 2. */
  get descriptors(): { stdout: number; stderr: number } {
    const [out, err] = this.sockets as [TaggedStream, TaggedStream];
    return { stdout: out.writer, stderr: err.writer };
  }

  /**
   * The main process was started (or could not be) with the descriptors: the monitor drops its
   * copies, and reads from now on as writes come.
   */
  started(): void {
    for (const s of this.sockets) s.handedOver();
    for (const s of this.streams) s.socket.watch(() => s.take());
  }

  /** Everything written so far, read now (before an exit is logged, say). */
  take(): void {
    for (const s of this.streams) s.take();
  }

  /** `pid` has exited: what it wrote is read now, its last line even without a newline. */
  ended(pid: number): void {
    if (this.closed) return;
    for (const s of this.streams) {
      s.take();
      s.flush(pid);
    }
  }

  /** The run is over: what is left is read, and what a descendant writes later is no one's. */
  close(): void {
    if (this.closed) return;
    for (const s of this.streams) {
      s.take();
      s.flushAll();
      s.socket.close();
    }
    this.closed = true;
  }
}
