// The broker: a Unix-socket server every scenario process connects to. It reads frames, checks
// each message, and hands it to the sequencer (sequencer.ts), which delivers it back here in
// causal order; queues and locks live here, process lifecycle reports go on to the session.
//
// One bad message costs nothing but itself: it is logged as a warning naming its process, and the
// connection is read on. A connection is dropped only when its frame stream cannot be read any
// more, or when it fails the gate (its first message must be the hello of a process of the run).

import net from 'node:net';
import fs from 'node:fs';
import {
  decodeOps,
  isUpMessage,
  namedRecords,
  unpackItems,
  type ControlOp,
  type DownMessage,
  type OpsMessage,
  type ProfMessage,
  type WaitMessage,
  type UpMessage,
  type WireThreadStack,
} from '../../protocol.ts';
import type { RunClaims } from '../run-claims.ts';
import { Connection, type Answer } from './connection.ts';
import type { RunEvent } from '../../api.ts';
import type { LockStates } from './lock-state.ts';
import { BrokerObjects, isObjectMessage, type ObjectOptions } from './objects.ts';
import type { Emit } from './peer.ts';
import type { QueueCounts } from './queue-count.ts';
import { Sequencer, type Barrier } from './sequencer.ts';
import { ObjectEvents, Stamps } from './stamps.ts';
import { listenPrivately } from '../private-socket.ts';
import { descriptorOf, readWaiting } from '../kernel.ts';

/** What the broker tells its owner (the session) about processes, in causal order. */
export interface BrokerHost {
  emit: Emit;
  /** An event that happened earlier in a scenario process: `t` is already set (run time). */
  emitStamped(event: RunEvent): void;
  /** The run's current time, ms: what reporting runtimes stamp their reports against. */
  now(): number;
  /**
   * A process that never connects, between a process of the run and a child that said hello (a
   * shell): listed before that child, which is listed under it.
   */
  between?(pid: number, ppid: number, name: string): void;
  /** A process introduces itself. False refuses it: it must be known to the run, or a child of one. */
  hello(pid: number, ppid: number, name: string, daemon: boolean, handle: string | undefined): boolean;
  created(ownerPid: number, handle: string, name: string, daemon: boolean): void;
  /** A parent started a child (it is listed at its own hello; this names it should it never say one). */
  spawned(parentPid: number, pid: number, name: string, daemon: boolean, handle: string | undefined): void;
  closed(ownerPid: number, handle: string): void;
  /** How a process ended, as its parent saw it (`parent`) or as it said itself just before (`self`). */
  exited(pid: number, exitcode: number, reporter: 'parent' | 'self', usage?: { cpu?: number; maxrss?: number }): void;
  fatal(pid: number, message: string): void;
  /** A Pool worker's task totals so far. */
  task(pid: number, done: number, failed: number): void;
  /** Everything the process sent has been handled, and its connection is closed. */
  drained(pid: number): void;
  /**
   * A process's hello or bye arrived (before it is handled in order): it is alive, and may not
   * be for long, so this is the moment to take a reading of it.
   */
  heard?(pid: number, last: boolean): void;
  /** Whether `pid` can still run (the kernel's word). */
  alive(pid: number): boolean;
  /** A child its parent announced died before it said hello (see sequencer.ts). */
  vanished(pid: number): void;
  /** Profile samples and waits of a process (core/profile/collector.ts). */
  profile?(pid: number, m: ProfMessage | WaitMessage): void;
  /**
   * What processes claim, checked against the kernel (run-claims.ts). Without it every claim is
   * believed (tests of the broker alone, with made-up pids).
   */
  claims?: RunClaims;
}

export interface ControlReply {
  ok: boolean;
  text: string;
  exitcode: number | null;
  alive: boolean;
}

/** Bad messages reported per connection; past this, one line says the rest are not. */
const MAX_WARNINGS = 20;

export class Broker {
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly dirty = new Set<Connection>();
  private flushScheduled = false;
  readonly sequencer: Sequencer<Connection, UpMessage>;
  /** Every shared object (queues, locks, semaphores, Conditions…), whichever runtime keeps it. */
  readonly objects: BrokerObjects;
  private closed = false;
  private nextControl = 1;
  /** Called when the last connection closes. */
  private readonly lastClosed = new Set<() => void>();

  constructor(
    readonly socketPath: string,
    private readonly host: BrokerHost,
    objectOptions: ObjectOptions = { sharedIntervalMs: 100, sharedCalls: false },
  ) {
    const events = new ObjectEvents(host.emit, (e) => host.emitStamped(e), new Stamps(() => host.now()));
    this.objects = new BrokerObjects(events, () => host.now(), objectOptions, (conn, why) => this.warn(conn, why));
    this.sequencer = new Sequencer<Connection, UpMessage>(
      {
        deliver: (inbox, m) => this.deliver(inbox.conn, m),
        barrierOf: (inbox, m) => barrierOf(inbox.pid, m),
        drained: (inbox) => this.drained(inbox.conn),
        waiting: (inbox, waits) => (waits ? inbox.conn.socket.pause() : inbox.conn.socket.resume()),
        alive: (pid) => host.alive(pid),
        vanished: (pid) => host.vanished(pid),
      },
      this.objects.stampOrder,
    );
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return listenPrivately(this.server, this.socketPath);
  }

  /** Every lock's state, and every queue's count, whichever runtime keeps the object. */
  get lockStates(): LockStates {
    return this.objects.lockStates;
  }

  get queueCounts(): QueueCounts {
    return this.objects.queueCounts;
  }

  /** Number of scenario processes still connected. */
  get connected(): number {
    return this.conns.size;
  }

  /** Resolves once no scenario process is connected, or after `ms`. */
  allClosed(ms: number): Promise<void> {
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.lastClosed.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.lastClosed.add(done);
    });
  }

  /** Calls `then` once everything `pid` sent is handled and its connection closed, or it never connected (bounded). */
  whenDrained(pid: number, then: () => void): void {
    this.sequencer.whenDrained(pid, then);
  }

  private accept(socket: net.Socket): void {
    const conn = new Connection(socket, (c) => this.scheduleFlush(c));
    if (this.host.claims) conn.connector = this.host.claims.peerOf(socket);
    conn.inbox = this.sequencer.open(conn);
    this.conns.add(conn);
    const read = (chunk: Buffer) => {
      try {
        conn.decoder.push(chunk, (m) => this.arrive(conn, m), (err) => this.warn(conn, `unreadable message: ${err.message}`));
      } catch (err) {
        this.drop(conn, `unreadable message: ${(err as Error).message}`, false);
      }
      this.flushAll();
    };
    socket.on('data', read);
    socket.on('error', () => {});
    readBeforeDestroy(socket, read);
    socket.on('close', () => {
      this.conns.delete(conn);
      this.sequencer.close(conn.inbox);
      if (this.conns.size === 0) for (const f of [...this.lastClosed]) f();
    });
  }

  /**
   * Drops a connection: it failed the gate (`refused`: nothing of it counts), or its frames
   * cannot be read any more (what it sent before still does).
   */
  private drop(conn: Connection, why: string, refused: boolean): void {
    if (conn.refused || conn.broken) return;
    if (refused) conn.refused = true;
    else conn.broken = true;
    // A refused hello's pid is only a claim: the warning does not pin it on that process.
    const pid = refused ? 0 : conn.pid;
    this.host.emit({ type: 'warning', message: `broker dropped a connection${pid ? ` from pid ${pid}` : ''}: ${why}`, ...(pid ? { pid } : {}) });
    conn.socket.destroy();
  }

  /**
   * Why a connection's hello for `pid` is refused at once, if it is: another process connected
   * it (the kernel says who), or `pid` is connected already (a process connects once).
   */
  private refusal(conn: Connection, pid: number): string | null {
    const claims = this.host.claims;
    if (!claims) return null;
    const said = claims.gate(conn.connector, pid);
    if (said) return said;
    const earlier = this.sequencer.inboxOf(pid)?.conn;
    if (!earlier || earlier === conn) return null;
    return claims.again(earlier.connector, earlier.inbox.drained, conn.connector, pid);
  }

  /** One bad message: said, and skipped; the process's later messages are still read. */
  private warn(conn: Connection, why: string): void {
    if (!conn.pid) return this.drop(conn, why, true);
    conn.warnings += 1;
    if (conn.warnings > MAX_WARNINGS + 1) return;
    const message =
      conn.warnings > MAX_WARNINGS
        ? `pid ${conn.pid} sent more bad messages: they are skipped without a word`
        : `skipped a bad message from pid ${conn.pid}: ${why}`;
    this.host.emit({ type: 'warning', message, pid: conn.pid });
  }

  /** A message arrived: checked, then queued in its inbox for the sequencer. */
  private arrive(conn: Connection, m: unknown): void {
    if (conn.refused || conn.broken) return;
    if (!isUpMessage(m)) return this.warn(conn, `malformed message${kindOf(m)}`);
    if (conn.pid === 0) {
      if (m.k !== 'hello') return this.drop(conn, 'first message must be hello', true);
      const refusal = this.refusal(conn, m.pid);
      if (refusal) return this.drop(conn, refusal, true);
      conn.codec = conn.decoder.lastCodec;
      this.sequencer.claim(conn.inbox, m.pid);
      this.host.heard?.(m.pid, false);
    } else if (m.k === 'hello') {
      return this.warn(conn, 'hello sent twice');
    } else if (m.k === 'bye') {
      this.host.heard?.(conn.pid, true);
    } else if (m.k === 'exited') {
      const refusal = this.host.claims?.exitedEarly(m.pid) ?? null;
      if (refusal) return this.warn(conn, `exited: ${refusal}`);
    }
    this.sequencer.push(conn.inbox, m);
  }

  /** A message, in causal order (the sequencer's delivery). */
  private deliver(conn: Connection, m: UpMessage): void {
    // A closed connection's messages still count: it is what it said before it went.
    if (conn.refused) return;
    if (isObjectMessage(m)) return this.objects.deliver(conn, m);
    switch (m.k) {
      case 'hello': {
        const refusal = this.host.claims?.hello(conn.connector, m.pid, m.ppid) ?? null;
        if (refusal) return this.drop(conn, refusal, true);
        for (const b of this.host.claims?.between(conn.connector, m.pid, m.ppid) ?? []) this.host.between?.(b.pid, b.ppid, b.name);
        if (!this.host.hello(m.pid, m.ppid, m.name, m.daemon, m.handle)) this.drop(conn, `pid ${m.pid} is not a process of this run`, true);
        return;
      }
      case 'out':
        return conn.output(m.s, m.text, this.host.emit);
      case 'created':
        return this.host.created(conn.pid, m.handle, m.name, m.daemon);
      case 'spawned': {
        const refusal = this.host.claims?.spawned(conn.pid, m.pid) ?? null;
        if (refusal) return this.warn(conn, `spawned: ${refusal}`);
        this.sequencer.announce(conn.inbox, m.pid);
        return this.host.spawned(conn.pid, m.pid, m.name, m.daemon, m.handle);
      }
      case 'closed':
        return this.host.closed(conn.pid, m.handle);
      case 'stkres':
      case 'ctlres': {
        const resolve = conn.asks.get(m.rid);
        conn.asks.delete(m.rid);
        return resolve?.(m);
      }
      case 'exited': {
        // A reap by the program's own os.wait*() of a child the run never heard of (not Python).
        if (m.reaped && this.host.claims?.unheardOf(m.pid)) return;
        const refusal = this.host.claims?.exited(conn.pid, m.pid) ?? null;
        if (refusal) return this.warn(conn, `exited: ${refusal}`);
        // Waited at its barrier: everything the child sent is handled by now.
        this.sequencer.settled(m.pid);
        return this.host.exited(m.pid, m.exitcode, 'parent');
      }
      case 'bye':
        return this.host.exited(conn.pid, m.exitcode, 'self', { cpu: m.cpu, maxrss: m.maxrss });
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

  /** Everything `conn` sent is handled and it is closed: what it held or waited for is settled. */
  private drained(conn: Connection): void {
    if (conn.pid === 0 || conn.refused) return;
    conn.endOutput(this.host.emit);
    for (const resolve of conn.asks.values()) resolve(null);
    conn.asks.clear();
    this.objects.disconnect(conn, this.host.now());
    // Nobody left to report: what the window still holds is final.
    if (this.conns.size === 0) this.objects.drain();
    this.flushAll();
    this.host.drained(conn.pid);
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

  /** Whether the kernel says `pid` opened a connection that is still open (said hello or not yet). */
  hasConnectionFrom(pid: number): boolean {
    for (const c of this.conns) if (c.connector.pid === pid && !c.refused) return true;
    return false;
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

  /** The live connection of `pid` (the newest, should the pid have come back). */
  private connOf(pid: number): Connection | undefined {
    const conn = this.sequencer.inboxOf(pid)?.conn;
    return conn && this.conns.has(conn) && !conn.refused && !conn.broken ? conn : undefined;
  }

  /** The run is over: whatever still waits is handled now, in order. */
  flush(): void {
    this.sequencer.flush();
    this.objects.drain();
  }

  /** Disconnects everyone and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.objects.dispose();
    this.sequencer.dispose();
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}

/**
 * The barriers of the wire protocol (see sequencer.ts): a child's hello waits for what its
 * parent sent before starting it (the siblings it started first included); a parent's report of
 * a child's exit waits for the child's end.
 */
function barrierOf(self: number, m: UpMessage): Barrier | null {
  if (m.k === 'hello') return { until: 'hello', pid: m.ppid, count: Math.max(1, m.after ?? 1), child: m.pid };
  if (m.k === 'exited' && m.pid !== self) return { until: 'drained', pid: m.pid };
  return null;
}

function kindOf(m: unknown): string {
  const k = typeof m === 'object' && m !== null ? (m as { k?: unknown }).k : undefined;
  return typeof k === 'string' && k.length <= 16 ? ` (${JSON.stringify(k)})` : '';
}

/**
 * A write to a process that has just exited fails (EPIPE: a reply, or a recall of the lock lent
 * to it), and Node then destroys the socket at once, with what that process wrote last still
 * unread in the kernel: its release, its last lines, its bye. The lock it had released would
 * stay lent to it for good, and everyone waiting for it would wait for ever. So before a socket
 * goes for a failed write, what it still holds is read, in order: Node's buffer, then the kernel's.
 */
export function readBeforeDestroy(socket: net.Socket, read: (chunk: Buffer) => void): void {
  const destroy = socket.destroy.bind(socket);
  socket.destroy = ((err?: Error) => {
    const e = err as NodeJS.ErrnoException | undefined;
    if (e?.syscall === 'write' && (e.code === 'EPIPE' || e.code === 'ECONNRESET')) {
      socket.removeListener('data', read);
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) read(chunk);
      const fd = descriptorOf(socket);
      if (fd !== null) readWaiting(fd, read);
    }
    return destroy(err);
  }) as typeof socket.destroy;
}
