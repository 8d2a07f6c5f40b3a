// The broker: a Unix-socket server every scenario process connects to. Queues and locks live
// here; process lifecycle reports and output lines pass through to the session.

import net from 'node:net';
import fs from 'node:fs';
import {
  Codec,
  FrameDecoder,
  checkOpRecords,
  decodeOps,
  encodeFrame,
  isUpMessage,
  unpackItems,
  type ControlOp,
  type DownMessage,
  type OpsMessage,
  type ProfMessage,
  type WaitMessage,
  type UpMessage,
  type WireThreadStack,
} from '../../protocol.ts';
import type { RunEvent } from '../../api.ts';
import type { Emit, Peer } from './peer.ts';
import { LockTable } from './locks.ts';
import { ObservedTable } from './observed.ts';
import { QueueTable } from './queues.ts';

/** What the broker tells its owner (the session) about processes. */
export interface BrokerHost {
  emit: Emit;
  /** An event that happened earlier in a scenario process: `t` is already set (run time). */
  emitAt(event: RunEvent): void;
  /** A process introduces itself. False refuses it: it must be known to the run, or a child of one. */
  hello(pid: number, ppid: number, name: string, daemon: boolean, handle: string | undefined, after: number | undefined): boolean;
  created(ownerPid: number, handle: string, name: string, daemon: boolean): void;
  spawned(parentPid: number, pid: number, name: string, daemon: boolean, handle: string | undefined): void;
  closed(ownerPid: number, handle: string): void;
  exited(pid: number, exitcode: number, reporter: 'parent' | 'self'): void;
  fatal(pid: number, message: string): void;
  /** A Pool worker's task totals so far. */
  task(pid: number, done: number, failed: number): void;
  disconnected(pid: number): void;
  /** Profile samples and waits of a process (core/profile/collector.ts). */
  profile?(pid: number, m: ProfMessage | WaitMessage): void;
  /** The run's current time, ms: what reporting runtimes stamp their reports against. */
  now?(): number;
}

/** Longest partial line kept per stream before it is emitted anyway. */
const MAX_LINE = 64 * 1024;

export interface ControlReply {
  ok: boolean;
  text: string;
  exitcode: number | null;
  alive: boolean;
}

/**
 * Longest a parent's messages wait, after it reported a child's exit, for that child's
 * connection to be read to the end (see Broker.afterChild).
 */
const EXIT_BARRIER_MS = 500;

/** What a scenario process answers to a question from the broker. */
type Answer = Extract<UpMessage, { k: 'ctlres' | 'stkres' }>;

class Connection implements Peer {
  pid = 0;
  get borrows(): boolean {
    return this.codec === Codec.V8;
  }
  /** Controls sent to this process and not answered yet. */
  /** Questions sent to this process (controls, stacks) and not answered yet; null: it is gone. */
  readonly asks = new Map<number, (answer: Answer | null) => void>();
  codec: Codec = Codec.V8;
  readonly decoder = new FrameDecoder();
  private outbox: Buffer[] = [];
  readonly partial: [string, string] = ['', ''];
  /** Object ids the process's `ops` records name, by index (they arrive with their first use). */
  readonly opIds: string[] = [];
  /** Messages handled so far, the hello included (see `whenRead`). */
  read = 0;
  /** Set once the broker dropped this connection for a bad message: nothing more is handled. */
  rejected = false;
  /**
   * Messages held back while this process waits for a child it saw exit to be read to the end
   * (see `afterChild`); null when not waiting.
   */
  backlog: UpMessage[] | null = null;
  /** Which wait the backlog belongs to: a late call from an earlier one must not end a newer. */
  waitToken = 0;
  /** Called when this connection is gone and everything it sent has been handled. */
  readonly dropWaiters: (() => void)[] = [];
  /** Callbacks waiting for `read` to reach `n`, in arrival order. */
  readonly readWaiters: { n: number; then: () => void }[] = [];

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
}

export class Broker {
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly dirty = new Set<Connection>();
  private flushScheduled = false;
  readonly queues: QueueTable;
  readonly locks: LockTable;
  /** Queues and locks of a reporting runtime (the Python shim), rebuilt from its reports. */
  readonly observed: ObservedTable;
  private closed = false;
  private nextControl = 1;

  constructor(
    readonly socketPath: string,
    private readonly host: BrokerHost,
  ) {
    this.queues = new QueueTable(host.emit);
    this.locks = new LockTable(host.emit, host.emitAt);
    const start = performance.now();
    this.observed = new ObservedTable(host.emit, host.emitAt, host.now ? () => (host.now as () => number)() : () => performance.now() - start);
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.removeListener('error', reject);
        fs.chmodSync(this.socketPath, 0o600);
        resolve();
      });
    });
  }

  /** Number of scenario processes still connected. */
  get connected(): number {
    return this.conns.size;
  }

  private accept(socket: net.Socket): void {
    const conn = new Connection(socket, (c) => this.scheduleFlush(c));
    this.conns.add(conn);
    socket.on('data', (chunk: Buffer) => {
      try {
        conn.decoder.push(chunk, (m) => this.handle(conn, m));
      } catch (err) {
        this.reject(conn, `unreadable message: ${(err as Error).message}`);
      }
      this.flushAll();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.drop(conn));
  }

  private reject(conn: Connection, why: string): void {
    conn.rejected = true;
    this.host.emit({ type: 'warning', message: `broker dropped a connection${conn.pid ? ` from pid ${conn.pid}` : ''}: ${why}`, ...(conn.pid ? { pid: conn.pid } : {}) });
    conn.socket.destroy();
  }

  private handle(conn: Connection, m: unknown): void {
    if (conn.socket.destroyed) return;
    if (!isUpMessage(m)) {
      this.reject(conn, 'malformed message');
      return;
    }
    if (conn.pid === 0) {
      if (m.k !== 'hello') return this.reject(conn, 'first message must be hello');
      if (!this.host.hello(m.pid, m.ppid, m.name, m.daemon, m.handle, m.after)) return this.reject(conn, `pid ${m.pid} is not a process of this run`);
      conn.pid = m.pid;
      conn.codec = conn.decoder.lastCodec;
      this.counted(conn);
    } else if (conn.backlog) {
      conn.backlog.push(m);
    } else {
      this.dispatch(conn, m);
      this.counted(conn);
    }
  }

  private counted(conn: Connection): void {
    conn.read += 1;
    if (conn.readWaiters.length > 0) this.runReadWaiters(conn, false);
  }

  /**
   * A parent reported that `pid` exited: what the parent does next (acquire the lock the child
   * released, get the item it put) must be handled after everything the child sent, though it
   * travels on another connection. The parent's messages wait until the child's connection is
   * gone and read to the end, or EXIT_BARRIER_MS at most.
   */
  private afterChild(conn: Connection, pid: number): void {
    if (conn.backlog || conn.socket.destroyed) return;
    const child = this.connOf(pid);
    if (!child || child === conn) return;
    conn.backlog = [];
    conn.socket.pause();
    const token = ++conn.waitToken;
    const end = () => {
      clearTimeout(timer);
      if (conn.waitToken === token) this.unblock(conn);
    };
    const timer = setTimeout(end, EXIT_BARRIER_MS);
    timer.unref();
    child.dropWaiters.push(end);
  }

  /** Handles what `conn` held back, in order, until it has to wait again. */
  private unblock(conn: Connection): void {
    const held = conn.backlog;
    if (!held) return;
    conn.backlog = null;
    conn.waitToken += 1;
    for (let i = 0; i < held.length; i++) {
      if (conn.rejected) return;
      if (conn.backlog) {
        (conn.backlog as UpMessage[]).push(...held.slice(i));
        return;
      }
      this.dispatch(conn, held[i]);
      this.counted(conn);
    }
    if (!conn.backlog && !conn.socket.destroyed) conn.socket.resume();
    this.flushAll();
  }

  private runReadWaiters(conn: Connection, all: boolean): void {
    const due = all ? conn.readWaiters.splice(0) : [];
    if (!all) {
      for (let i = 0; i < conn.readWaiters.length; ) {
        if (conn.readWaiters[i].n <= conn.read) due.push(...conn.readWaiters.splice(i, 1));
        else i++;
      }
    }
    for (const w of due) w.then();
  }

  /**
   * Calls `then` once the connection of `pid` has had `n` messages handled, or has closed, or
   * at once if `pid` is not connected: what a process sent before it started a child is then
   * known before the child is.
   */
  whenRead(pid: number, n: number, then: () => void): void {
    const conn = this.connOf(pid);
    if (!conn || conn.read >= n) return then();
    conn.readWaiters.push({ n, then });
  }

  private dispatch(conn: Connection, m: UpMessage): void {
    switch (m.k) {
      case 'hello':
        return this.reject(conn, 'hello sent twice');
      case 'out':
        return this.output(conn, m.s, m.text);
      case 'put':
        return this.queues.put(conn, m.q, m.v, m.rid, m.block ?? true, m.timeout ?? null);
      case 'puts':
        return this.queues.putMany(conn, m.q, m.pack ? unpackItems(m.pack) : (m.vs ?? []));
      case 'get':
        if (m.prefetch) return this.queues.prefetch(conn, m.q, m.rid, m.max);
        return this.queues.get(conn, m.q, m.rid, m.block, m.timeout, m.max);
      case 'ack':
        return this.queues.ack(conn, m.q, m.n);
      case 'ret':
        return this.queues.returned(conn, m.q);
      case 'qsize':
        return this.queues.size(conn, m.q, m.rid);
      case 'qnew':
        return this.queues.create(conn, m.q, m.maxsize);
      case 'lnew':
        return this.locks.create(conn, m.l);
      case 'acq':
        return this.locks.acquire(conn, m.l, m.rid, m.block, m.timeout);
      case 'rel':
        return this.locks.release(conn, m.l);
      case 'lops':
        return this.locks.lentOps(conn, m.l, m.ops, m.at);
      case 'lret':
        return this.locks.returned(conn, m.l);
      case 'lheld':
        return this.locks.heldOnRecall(conn, m.l);
      case 'qrep':
        return this.observed.queue(conn, m.q, m.op, m.maxsize ?? 0, m.at);
      case 'lrep':
        return this.observed.lock(conn, m.l, m.op, m.at);
      case 'ops':
        return this.ops(conn, m);
      case 'created':
        return this.host.created(conn.pid, m.handle, m.name, m.daemon);
      case 'spawned':
        return this.host.spawned(conn.pid, m.pid, m.name, m.daemon, m.handle);
      case 'closed':
        return this.host.closed(conn.pid, m.handle);
      case 'stkres':
      case 'ctlres': {
        const resolve = conn.asks.get(m.rid);
        conn.asks.delete(m.rid);
        return resolve?.(m);
      }
      case 'exited':
        this.host.exited(m.pid, m.exitcode, 'parent');
        return this.afterChild(conn, m.pid);
      case 'bye':
        return this.host.exited(conn.pid, m.exitcode, 'self');
      case 'fatal':
        return this.host.fatal(conn.pid, m.message);
      case 'warn':
        return this.host.emit({ type: 'warning', message: m.message, pid: conn.pid });
      case 'task':
        return this.host.task(conn.pid, m.done, m.failed);
      case 'prof':
      case 'wait':
        return this.host.profile?.(conn.pid, m);
    }
  }

  private ops(conn: Connection, m: OpsMessage): void {
    if (m.base !== conn.opIds.length) return this.reject(conn, `ops ids start at ${m.base}, expected ${conn.opIds.length}`);
    for (const id of m.ids) conn.opIds.push(id);
    const records = decodeOps(m);
    const bad = checkOpRecords(records, conn.opIds.length);
    if (bad) return this.reject(conn, `malformed ops: ${bad}`);
    this.observed.records(conn, conn.opIds, records);
  }

  private output(conn: Connection, s: 0 | 1, text: string): void {
    const stream = s === 0 ? 'stdout' : 'stderr';
    let buf = conn.partial[s] + text;
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.charCodeAt(nl - 1) === 13 ? buf.slice(0, nl - 1) : buf.slice(0, nl);
      this.host.emit({ type: 'output', pid: conn.pid, stream, text: line });
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
    if (buf.length > MAX_LINE) {
      this.host.emit({ type: 'output', pid: conn.pid, stream, text: buf });
      buf = '';
    }
    conn.partial[s] = buf;
  }

  private drop(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    if (conn.pid === 0) return;
    // What it sent while it waited for a child is still its own to handle (it waits no more:
    // afterChild does not wait for a connection that is closed).
    this.unblock(conn);
    for (const s of [0, 1] as const) {
      if (conn.partial[s]) this.host.emit({ type: 'output', pid: conn.pid, stream: s === 0 ? 'stdout' : 'stderr', text: conn.partial[s] });
      conn.partial[s] = '';
    }
    for (const resolve of conn.asks.values()) resolve(null);
    conn.asks.clear();
    this.runReadWaiters(conn, true);
    this.queues.disconnect(conn);
    this.locks.disconnect(conn);
    this.observed.disconnect(conn);
    // Nobody left to report: what the window still holds is final.
    if (this.conns.size === 0) this.observed.drain(true);
    this.flushAll();
    this.host.disconnected(conn.pid);
    // Parents that saw this process exit go on, after all it did.
    for (const w of conn.dropWaiters.splice(0)) w();
  }

  private scheduleFlush(c: Connection): void {
    this.dirty.add(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Answers produced while handling one chunk go out together; timers' answers go next turn.
      setImmediate(() => this.flushAll());
    }
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const c of this.dirty) c.flush();
    this.dirty.clear();
  }

  /** Whether this pid is connected (alive and able to answer controls). */
  isConnected(pid: number): boolean {
    return this.connOf(pid) !== undefined;
  }

  /**
   * Asks `pid` where each of its threads is now; null if it is not connected, goes away, or
   * does not answer within `timeoutMs` (a thread holding the GIL in native code, say).
   */
  async stacks(pid: number, timeoutMs: number): Promise<WireThreadStack[] | null> {
    const answer = await this.ask(pid, (rid) => ({ k: 'stk', rid }), timeoutMs);
    return answer?.k === 'stkres' ? answer.threads : null;
  }

  /** Asks `ownerPid`'s runtime to call a member of its Process object `handle`. */
  async control(ownerPid: number, op: ControlOp, handle: string, timeout: number | null): Promise<ControlReply> {
    const answer = await this.ask(ownerPid, (rid) => ({ k: 'ctl', rid, op, handle, timeout }), null);
    if (answer?.k !== 'ctlres') {
      return { ok: false, text: `the process that owns this Process object (pid ${ownerPid}) has exited`, exitcode: null, alive: false };
    }
    return { ok: answer.ok, text: answer.text, exitcode: answer.exitcode, alive: answer.alive };
  }

  /** Sends `pid` a question and resolves with its answer; null if it is not connected, goes away, or is past `timeoutMs`. */
  private ask(pid: number, question: (rid: number) => DownMessage, timeoutMs: number | null): Promise<Answer | null> {
    const conn = this.connOf(pid);
    if (!conn) return Promise.resolve(null);
    const rid = this.nextControl++;
    return new Promise((resolve) => {
      const timer = timeoutMs === null ? null : setTimeout(() => conn.asks.get(rid)?.(null), timeoutMs);
      timer?.unref();
      conn.asks.set(rid, (answer) => {
        if (timer) clearTimeout(timer);
        conn.asks.delete(rid);
        resolve(answer);
      });
      conn.send(question(rid));
      this.flushAll();
    });
  }

  /** The connection of `pid` (the newest, should the pid have come back). */
  private connOf(pid: number): Connection | undefined {
    let found: Connection | undefined;
    for (const c of this.conns) if (c.pid === pid) found = c;
    return found;
  }

  /** Disconnects everyone and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queues.dispose();
    this.locks.dispose();
    this.observed.dispose();
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
