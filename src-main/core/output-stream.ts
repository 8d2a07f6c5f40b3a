// Text a process writes straight to its standard output or error (a pipe or socket the monitor
// holds the other end of), turned into the log's `output` lines: each whole line as it comes,
// and, when its writer is done, what the kernel still holds and the last line even without its
// newline. The monitor never waits on such a stream: a process of the run's may leave it open in
// a descendant that outlives the run, and the run ends regardless (close).

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** How much one synchronous read takes at a time. */
const READ_BYTES = 64 * 1024;

export class OutputStream {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private closed = false;

  constructor(
    private readonly stream: Readable,
    private readonly line: (text: string) => void,
  ) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
    stream.on('end', () => this.endLine());
    stream.on('error', () => {});
  }

  /** Bytes that arrived, in order. */
  push(chunk: Buffer): void {
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    for (const text of lines) this.line(text);
  }

  /**
   * Its writer is done (it exited): whatever it wrote and the kernel still holds is taken now,
   * without waiting, and the last line is ended even without its newline.
   */
  drain(): void {
    if (this.closed) return;
    const fd = descriptorOf(this.stream);
    if (fd !== null) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(fd, buf, 0, READ_BYTES, null);
        } catch {
          break; // EAGAIN: nothing more now (the descriptor does not block); or gone
        }
        if (n <= 0) break;
        this.push(Buffer.from(buf.subarray(0, n)));
      }
    }
    this.endLine();
  }

  /** Drains it, and stops reading: what a descendant writes to it later belongs to no run. */
  close(): void {
    this.drain();
    this.closed = true;
    this.stream.destroy();
  }

  private endLine(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.line(rest);
  }
}

/** The descriptor under a stream of net/child_process (non-blocking), if it has one. */
function descriptorOf(stream: Readable): number | null {
  const fd = (stream as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
