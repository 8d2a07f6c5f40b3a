// Bytes as lines: a writer's output arrives in chunks cut anywhere (mid-line, mid-character);
// whole lines go out as they complete, and the rest once the writer is done.

import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly line: (text: string) => void) {}

  push(chunk: Buffer): void {
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    for (const text of lines) this.line(text);
  }

  /** The writer is done: its last line, even without a newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.line(rest);
  }
}
