// Whose row a line of fd-level output goes to. The kernel names the process that wrote it
// (writer-output.ts); that is the line's owner if it is a process of the run. A process that
// is not one (`ls` run by a worker, say) writes on behalf of its nearest ancestor that is.
//
// A process of the run may write before it is listed: it connects to the broker and says hello
// before its program runs, but the monitor may read its output before that hello. So the lines
// of a writer that has a connection open and is not listed yet wait for its listing (at most
// ORDER_WAIT_MS, the bound every ordering wait has), keeping their order.

import type { StreamName } from '../api.ts';
import { ORDER_WAIT_MS } from './broker/sequencer.ts';
import { readProcStat } from './process-group.ts';

export interface OutputOwnerHost {
  /** The main process's pid. */
  root(): number;
  /** Whether `pid` is a listed process of the run. */
  listed(pid: number): boolean;
  /** Whether `pid` has a connection to the broker open (it is about to say hello, or did). */
  connecting(pid: number): boolean;
  line(pid: number, stream: StreamName, text: string): void;
}

/** How far up the tree an owner is looked for. */
const MAX_DEPTH = 64;

interface Held {
  lines: { stream: StreamName; text: string }[];
  timer: NodeJS.Timeout | null;
}

export class OutputOwners {
  private readonly held = new Map<number, Held>();

  constructor(private readonly host: OutputOwnerHost) {}

  /** A line `writer` wrote (null: the kernel did not say: the main process's). */
  line(stream: StreamName, writer: number | null, text: string): void {
    if (writer === null) return this.host.line(this.host.root(), stream, text);
    const waiting = this.held.get(writer);
    if (waiting) {
      waiting.lines.push({ stream, text });
      return;
    }
    if (this.host.listed(writer)) return this.host.line(writer, stream, text);
    // Its hello may be read in this same turn of the event loop (the connection is accepted
    // before the output is read, as it was made before the output was written): decide after.
    const h: Held = { lines: [{ stream, text }], timer: null };
    this.held.set(writer, h);
    setImmediate(() => {
      if (this.held.get(writer) !== h) return;
      if (this.host.listed(writer) || !this.host.connecting(writer)) return this.release(writer);
      h.timer = setTimeout(() => this.release(writer), ORDER_WAIT_MS);
      h.timer.unref();
    });
  }

  /** `pid` was listed: what it wrote meanwhile is its own. */
  listed(pid: number): void {
    this.release(pid);
  }

  /** The run is over: every line waiting goes to its owner as things stand. */
  close(): void {
    for (const pid of [...this.held.keys()]) this.release(pid);
  }

  private release(writer: number): void {
    const h = this.held.get(writer);
    if (!h) return;
    this.held.delete(writer);
    if (h.timer) clearTimeout(h.timer);
    const owner = this.ownerOf(writer);
    for (const l of h.lines) this.host.line(owner, l.stream, l.text);
  }

  /** The writer if it is listed, else its nearest listed ancestor, else the main process. */
  private ownerOf(writer: number): number {
    let pid = writer;
    for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
      if (this.host.listed(pid)) return pid;
      const stat = readProcStat(pid);
      if (stat === null) break;
      pid = stat.ppid;
    }
    return this.host.root();
  }
}
