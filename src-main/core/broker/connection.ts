// One scenario process's connection, as the broker sees it: its frames in, its answers out
// (batched per turn), its output split into lines, and the questions it has not answered yet.

import type net from 'node:net';
import { Codec, FrameDecoder, encodeFrame, type DownMessage, type UpMessage } from '../../protocol.ts';
import { UNKNOWN_PEER, type Peer as Connector } from '../run-claims.ts';
import type { Emit, Peer } from './peer.ts';
import type { Inbox } from './sequencer.ts';

/** Longest partial line kept per stream before it is emitted anyway. */
const MAX_LINE = 64 * 1024;

/** What a scenario process answers to a question from the broker. */
export type Answer = Extract<UpMessage, { k: 'ctlres' | 'stkres' }>;

export class Connection implements Peer {
  inbox!: Inbox<Connection, UpMessage>;
  get pid(): number {
    return this.inbox.pid;
  }
  get borrows(): boolean {
    return this.codec === Codec.V8;
  }
  /** Questions sent to this process (controls, stacks) and not answered yet; null: it is gone. */
  readonly asks = new Map<number, (answer: Answer | null) => void>();
  codec: Codec = Codec.V8;
  readonly decoder = new FrameDecoder();
  private outbox: Buffer[] = [];
  private readonly partial: [string, string] = ['', ''];
  /** Object ids the process's `ops` records name, by index (they arrive with their first use). */
  readonly opIds: string[] = [];
  /** Failed the gate (first message not a hello of a process of the run): nothing of it is handled. */
  refused = false;
  /** Its frames could not be read any more: what arrived before is still handled. */
  broken = false;
  warnings = 0;
  /** Who connected, as the kernel said at accept (see run-claims.ts). */
  connector: Connector = UNKNOWN_PEER;

  constructor(
    readonly socket: net.Socket,
    private readonly schedule: (c: Connection) => void,
  ) {}

  send(msg: DownMessage): void {
    this.outbox.push(encodeFrame(msg, this.codec));
    if (this.outbox.length === 1) this.schedule(this);
  }

  flush(): void {
    if (this.outbox.length === 0) return;
    const buf = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  /** A chunk of its stdout (0) or stderr (1): each whole line is one `output` event. */
  output(s: 0 | 1, text: string, emit: Emit): void {
    const stream = s === 0 ? 'stdout' : 'stderr';
    let buf = this.partial[s] + text;
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.charCodeAt(nl - 1) === 13 ? buf.slice(0, nl - 1) : buf.slice(0, nl);
      emit({ type: 'output', pid: this.pid, stream, text: line });
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
    if (buf.length > MAX_LINE) {
      emit({ type: 'output', pid: this.pid, stream, text: buf });
      buf = '';
    }
    this.partial[s] = buf;
  }

  /** It is gone: a last line without its newline is still a line. */
  endOutput(emit: Emit): void {
    for (const s of [0, 1] as const) {
      if (this.partial[s]) emit({ type: 'output', pid: this.pid, stream: s === 0 ? 'stdout' : 'stderr', text: this.partial[s] });
      this.partial[s] = '';
    }
  }
}
