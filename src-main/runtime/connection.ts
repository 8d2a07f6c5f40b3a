// The scenario process's one connection to the monitor's broker.
//
// Messages are batched and written once per event-loop turn (or when 64 KiB pile up), so a loop
// of puts costs one syscall per batch, not per item. Everything still pending when the process
// exits is written synchronously from the 'exit' handler, so `process.exit(n)` right after a put
// or a print loses nothing.

import net from 'node:net';
import fs from 'node:fs';
import {
  Codec,
  FrameDecoder,
  encodeFrame,
  isDownMessage,
  type DownMessage,
  type Rid,
  type UpMessage,
} from '../protocol.ts';
import { BrokerGoneError } from './errors.ts';

type Reply = Extract<DownMessage, { k: 'ok' } | { k: 'fail' }>;

const FLUSH_BYTES = 64 * 1024;

/** What takes the broker's recalls: leased queue items (queue.ts), lent locks (lock.ts). */
const recalls: { queue?: (client: BrokerClient, id: string) => void; lock?: (client: BrokerClient, id: string) => void } = {};

/** Sets who answers the broker's recalls of leased items (`queue`) or of lent locks (`lock`). */
export function onRecall(kind: 'queue' | 'lock', handle: (client: BrokerClient, id: string) => void): void {
  recalls[kind] = handle;
}

export class BrokerClient {
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder();
  private outbox: UpMessage[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private nextRid: Rid = 1;
  private readonly waiting = new Map<Rid, (reply: Reply) => void>();
  private closed = false;
  /**
   * Messages written so far, the hello included: the monitor counts what it reads the same way,
   * so a child started now can say how much of ours must be read before it (its hello's `after`).
   */
  sent = 0;
  /** Called when the person at the window calls a member of one of our Process objects. */
  onControl: (msg: Extract<DownMessage, { k: 'ctl' }>) => void = () => {};
  /** Called once if the monitor goes away: queues and locks live there, so nothing can go on. */
  onLost: (why: string) => void = () => {};

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (m) => this.dispatch(m));
      } catch (err) {
        this.fail(`broker stream corrupt: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => this.fail('lost the connection to the procscope monitor'));
    socket.on('close', () => this.fail('lost the connection to the procscope monitor'));
    // The connection alone must not keep a finished process alive; pending requests do.
    socket.unref();
  }

  static connect(path: string): Promise<BrokerClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new BrokerClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Queues a message for the next batch. */
  send(msg: UpMessage): void {
    if (this.closed) return;
    this.outbox.push(msg);
    this.outboxBytes += msg.k === 'put' ? msg.v.length + 32 : msg.k === 'out' ? msg.text.length + 16 : 32;
    this.scheduleFlush();
  }

  /** Adds bytes folded into an already queued message (consecutive puts) to the batch's size. */
  grew(bytes: number): void {
    this.outboxBytes += bytes;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.outboxBytes >= FLUSH_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * The last message still waiting in the outbox, so a caller may fold another operation into it
   * (consecutive acks of one queue become one message).
   */
  lastQueued(): UpMessage | undefined {
    return this.outbox[this.outbox.length - 1];
  }

  /** Sends a request and resolves with the broker's answer. Keeps the process alive meanwhile. */
  request(build: (rid: Rid) => UpMessage): Promise<Reply> {
    if (this.closed) return Promise.reject(new BrokerGoneError('lost the connection to the procscope monitor'));
    const rid = this.nextRid++;
    const p = new Promise<Reply>((resolve) => this.waiting.set(rid, resolve));
    if (this.waiting.size === 1) this.socket.ref();
    this.send(build(rid));
    return p;
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || this.closed) return;
    const frames = this.outbox.map((m) => encodeFrame(m, Codec.V8));
    this.outbox = [];
    this.outboxBytes = 0;
    this.sent += frames.length;
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  /**
   * Bytes written but not yet taken by the kernel. A producer that never lets its event loop
   * turn (a loop of awaited unbounded puts) would otherwise pile up its whole stream in memory
   * while the consumer starves; past a limit it waits for the drain.
   */
  get backlog(): number {
    return this.socket.writableLength + this.outboxBytes;
  }

  /** Flushes and resolves once the socket has handed everything to the kernel (or is gone). */
  drain(): Promise<void> {
    this.flush();
    if (this.closed || this.socket.writableLength === 0) return Promise.resolve();
    // The socket is unref'd between requests: waiting on it alone, the process would end here
    // with its last reports (a release, its last lines, its bye) still unwritten, exit code 0,
    // and a lock it had released lent to it for good.
    this.socket.ref();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        if (this.waiting.size === 0) this.socket.unref();
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /**
   * Writes what is pending with blocking syscalls: for 'exit' handlers, where nothing async runs.
   * Data the socket itself still queues (only when the broker stopped reading) cannot be saved.
   */
  flushSync(): void {
    if (this.outbox.length === 0 || this.closed) return;
    const buf = Buffer.concat(this.outbox.map((m) => encodeFrame(m, Codec.V8)));
    this.sent += this.outbox.length;
    this.outbox = [];
    this.outboxBytes = 0;
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || this.socket.writableLength > 0) {
      this.socket.write(buf);
      return;
    }
    let off = 0;
    let spins = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(fd, buf, off);
      } catch (err) {
        // The socket is non-blocking: a full buffer answers EAGAIN; the broker drains it quickly.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 1_000_000) return;
      }
    }
  }

  private dispatch(m: unknown): void {
    if (!isDownMessage(m)) {
      this.fail('broker sent a malformed message');
      return;
    }
    if (m.k === 'recall') {
      recalls.queue?.(this, m.q);
      return;
    }
    if (m.k === 'ctl') {
      this.onControl(m);
      return;
    }
    if (m.k === 'lrecall') {
      recalls.lock?.(this, m.l);
      return;
    }
    if (m.k === 'stk') {
      // The session does not ask TypeScript processes (Node cannot read its main thread's stack
      // while it waits); answering anyway keeps a stray `stk` from being taken for a reply.
      this.send({ k: 'stkres', rid: m.rid, threads: [] });
      return;
    }
    const resolve = this.waiting.get(m.rid);
    if (!resolve) return;
    this.waiting.delete(m.rid);
    if (this.waiting.size === 0) this.socket.unref();
    resolve(m);
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const resolve of this.waiting.values()) resolve({ k: 'fail', rid: 0, why: 'Error', message: why });
    this.waiting.clear();
    this.onLost(why);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

let client: BrokerClient | null = null;

export function setClient(c: BrokerClient): void {
  client = c;
}

/** The process's broker connection; every scenario process has one before user code runs. */
export function broker(): BrokerClient {
  if (!client) {
    throw new BrokerGoneError(
      'procscope runtime used outside a procscope run: start the scenario with `procscope run <file>`',
    );
  }
  return client;
}
