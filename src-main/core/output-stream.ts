// Text a process writes straight to its standard output or error (a pipe or socket the monitor
// holds the other end of), turned into the log's `output` lines: each whole line as it comes,
// and, when its writer is done, what the kernel still holds and the last line even without its
// newline. The monitor never waits on such a stream: a process of the run's may leave it open in
// a descendant that outlives the run, and the run ends regardless (close).

import type { Readable } from 'node:stream';
import { descriptorOf, readWaiting } from './kernel.ts';
import { LineSplitter } from './line-splitter.ts';

export class OutputStream {
  private readonly lines: LineSplitter;
  private closed = false;

  constructor(
    private readonly stream: Readable,
    line: (text: string) => void,
  ) {
    this.lines = new LineSplitter(line);
    stream.on('data', (chunk: Buffer) => this.push(chunk));
    stream.on('end', () => this.lines.end());
    stream.on('error', () => {});
  }

  /** Bytes that arrived, in order. */
  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  /**
   * Its writer is done (it exited): whatever it wrote and the kernel still holds is taken now,
   * without waiting, and the last line is ended even without its newline.
   */
  drain(): void {
    if (this.closed) return;
    const fd = descriptorOf(this.stream);
    if (fd !== null) readWaiting(fd, (chunk) => this.push(chunk));
    this.lines.end();
  }

  /** Drains it, and stops reading: what a descendant writes to it later belongs to no run. */
  close(): void {
    this.drain();
    this.closed = true;
    this.stream.destroy();
  }
}
