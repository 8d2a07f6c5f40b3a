// The few kernel calls Node has no API for, made through koffi (an FFI whose npm packages carry
// prebuilt binaries: nothing is compiled on the user's machine): who is at the other end of a
// Unix socket (SO_PEERCRED), a signal that reaches exactly one process even if its pid is
// reused meanwhile (pidfd_open, pidfd_send_signal), and a stream whose every read says which
// process wrote it (SO_PASSCRED). Linux only; elsewhere, or where koffi cannot load, each call
// says it cannot tell (null) and its caller falls back on /proc, on pipes, or on less.

import { closeSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { constants } from 'node:os';

/** The parts of koffi this module uses. */
interface Koffi {
  load(name: string): { func(name: string, result: string, args: unknown[]): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
  out(type: unknown): unknown;
  inout(type: unknown): unknown;
  pointer(type: unknown): unknown;
  errno(): number;
  alloc(type: string, length: number): unknown;
  view(pointer: unknown, length: number): ArrayBuffer;
  address(pointer: unknown): bigint;
  free(pointer: unknown): void;
  node?: { poll?(fd: number, opts: { readable: boolean }, callback: () => void): { close(): void } };
}

interface Calls {
  getsockopt(fd: number, level: number, name: number, out: { pid?: number }, len: number[]): number;
  /** syscall(2), variadic: each argument after the number is given as its C type, then its value. */
  syscall(nr: number, ...typed: unknown[]): number | bigint;
  socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number;
  setsockopt(fd: number, level: number, name: number, value: Int32Array, len: number): number;
  recvmsg(fd: number, msghdr: unknown, flags: number): number | bigint;
  /** fcntl(2), variadic as syscall is. */
  fcntl(fd: number, cmd: number, ...typed: unknown[]): number;
  send(fd: number, bytes: Buffer, len: number, flags: number): number | bigint;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** Syscall numbers of pidfd_send_signal and pidfd_open: the same on every Linux architecture. */
const SYS_PIDFD_SEND_SIGNAL = 424;
const SYS_PIDFD_OPEN = 434;
const ESRCH = 3;
const EAGAIN = 11;
const EINTR = 4;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SO_PASSCRED = 16;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const MSG_NOSIGNAL = 0x4000;
const F_DUPFD_CLOEXEC = 1030;

let calls: Calls | null | undefined;
let whyNot = '';

function load(): Calls | null {
  if (calls !== undefined) return calls;
  calls = null;
  if (process.platform !== 'linux') {
    whyNot = `${process.platform} has no SO_PEERCRED`;
    return null;
  }
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const libc = koffi.load('libc.so.6');
    const ucred = koffi.struct('procscope_ucred', { pid: 'int32', uid: 'uint32', gid: 'uint32' });
    calls = {
      getsockopt: libc.func('getsockopt', 'int', ['int', 'int', 'int', koffi.out(koffi.pointer(ucred)), koffi.inout(koffi.pointer('uint32'))]) as Calls['getsockopt'],
      syscall: libc.func('syscall', 'long', ['long', '...']) as Calls['syscall'],
      socketpair: libc.func('socketpair', 'int', ['int', 'int', 'int', 'int *']) as Calls['socketpair'],
      setsockopt: libc.func('setsockopt', 'int', ['int', 'int', 'int', 'void *', 'uint32']) as Calls['setsockopt'],
      recvmsg: libc.func('recvmsg', 'long', ['int', 'void *', 'int']) as Calls['recvmsg'],
      fcntl: libc.func('fcntl', 'int', ['int', 'int', '...']) as Calls['fcntl'],
      send: libc.func('send', 'long', ['int', 'void *', 'size_t', 'int']) as Calls['send'],
    };
    errno = () => koffi.errno();
    ffi = koffi;
  } catch (err) {
    whyNot = `koffi could not be loaded (${(err as Error).message.split('\n')[0]})`;
    calls = null;
  }
  return calls;
}

let errno = (): number => 0;
let ffi: Koffi | null = null;

/** Why peer credentials are not to be had here ('' when they are). */
export function peerCredentialsMissing(): string {
  load();
  return whyNot;
}

/**
 * The pid of the process that connected this Unix socket, as the kernel recorded it at
 * connect(); null where that cannot be read.
 */
export function peerPid(socket: net.Socket): number | null {
  const c = load();
  const fd = descriptorOf(socket);
  if (!c || fd === null) return null;
  const cred: { pid?: number } = {};
  if (c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, [12]) !== 0) return null;
  return typeof cred.pid === 'number' && cred.pid > 0 ? cred.pid : null;
}

/**
 * A handle on exactly the process `pid` is now (a pidfd): a signal sent through it can never
 * reach another process that is given the pid later. 'gone' when no process has the pid; null
 * where pidfds are not to be had (an older kernel, no koffi).
 */
export function openProcess(pid: number): number | 'gone' | null {
  const c = load();
  if (!c) return null;
  const fd = Number(c.syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', 0));
  if (fd >= 0) return fd;
  return errno() === ESRCH ? 'gone' : null;
}

/** Sends `signal` through a handle from openProcess; false if that process has ended. */
export function signalProcess(handle: number, signal: NodeJS.Signals): boolean {
  const c = load() as Calls;
  return Number(c.syscall(SYS_PIDFD_SEND_SIGNAL, 'int', handle, 'int', constants.signals[signal], 'void *', null, 'uint', 0)) === 0;
}

export function closeProcess(handle: number): void {
  closeDescriptor(handle);
}

// ---- streams that name their writer ---------------------------------------------------------

/** One read of a tagged stream: the bytes, and the pid of the process that wrote them. */
export interface TaggedRead {
  pid: number | null;
  data: Buffer;
}

/** A Unix stream socket the monitor reads, whose every read names its writer (SO_PASSCRED). */
export interface TaggedReader {
  /** The next write waiting, 'empty' if none waits now, 'end' once every writer closed it. */
  read(): TaggedRead | 'empty' | 'end';
  /** Calls `ready` whenever there is something to read (on the event loop). */
  watch(ready: () => void): void;
  /** Stops watching and frees the read buffer (the descriptor is closed by its owner). */
  close(): void;
}

/**
 * The monitor's end of a stream that many processes write (a run's standard output, say, which
 * every process inherits): a Unix stream socket with SO_PASSCRED, so the kernel stamps each
 * write with its writer's pid and never hands out the writes of two processes in one read.
 */
export interface TaggedStream extends TaggedReader {
  /** Give this to the first writer (its stdout, say); the monitor's copy is closed with `handedOver`. */
  readonly writer: number;
  /** The monitor no longer holds the writers' end (the child was started with it). */
  handedOver(): void;
}

/** Bytes one read takes at most. */
const TAKE_BYTES = 64 * 1024;
/** msghdr, iovec and the control buffer, laid out as LP64 Linux has them (x64 and arm64). */
const MSGHDR = 0;
const IOVEC = 56;
const CONTROL = 72;
const CONTROL_BYTES = 256;
const DATA = CONTROL + CONTROL_BYTES;

/** A tagged stream, or null where there are none (not Linux on x64/arm64, no koffi, no poll). */
export function taggedStream(): TaggedStream | null {
  const c = load();
  if (!c || !canTag()) return null;
  const sv = new Int32Array(2);
  if (c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) !== 0) return null;
  const [reader, writer] = [sv[0] as number, sv[1] as number];
  const r = taggedReader(reader);
  if (!r) {
    closeDescriptor(reader);
    closeDescriptor(writer);
    return null;
  }
  let writerOpen = true;
  const handedOver = () => {
    if (writerOpen) closeDescriptor(writer);
    writerOpen = false;
  };
  return {
    writer,
    handedOver,
    read: () => r.read(),
    watch: (ready) => r.watch(ready),
    close() {
      r.close();
      handedOver();
      closeDescriptor(reader);
    },
  };
}

function canTag(): boolean {
  return !!ffi?.node?.poll && (process.arch === 'x64' || process.arch === 'arm64');
}

/**
 * Reads `fd`, a connected Unix stream socket, naming the writer of each read: its writers set
 * SO_PASSCRED on their end (or this end has it), so the kernel stamps each write. Null where
 * that cannot be read here. The descriptor stays its owner's to close (after close()).
 */
export function taggedReader(fd: number): TaggedReader | null {
  const c = load();
  const k = ffi;
  if (!c || !k || !canTag()) return null;
  const poll = k.node?.poll as NonNullable<NonNullable<Koffi['node']>['poll']>;
  if (c.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, new Int32Array([1]), 4) !== 0) return null;
  const size = DATA + TAKE_BYTES;
  const mem = k.alloc('uint8_t', size);
  const bytes = k.view(mem, size);
  const base = k.address(mem);
  const view = new DataView(bytes);
  let closed = false;
  let watcher: { close(): void } | null = null;
  // Every writer is gone: a socket at its end reads as ready for ever, so it is watched no more.
  const end = (): 'end' => {
    watcher?.close();
    watcher = null;
    return 'end';
  };
  return {
    read() {
      if (closed) return 'end';
      for (;;) {
        // The kernel rewrites the lengths: every read starts from a fresh header.
        view.setBigUint64(MSGHDR, 0n, true); // no address
        view.setUint32(MSGHDR + 8, 0, true);
        view.setBigUint64(MSGHDR + 16, base + BigInt(IOVEC), true);
        view.setBigUint64(MSGHDR + 24, 1n, true);
        view.setBigUint64(MSGHDR + 32, base + BigInt(CONTROL), true);
        view.setBigUint64(MSGHDR + 40, BigInt(CONTROL_BYTES), true);
        view.setInt32(MSGHDR + 48, 0, true);
        view.setBigUint64(IOVEC, base + BigInt(DATA), true);
        view.setBigUint64(IOVEC + 8, BigInt(TAKE_BYTES), true);
        const n = Number(c.recvmsg(fd, mem, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
        if (n < 0) {
          const e = errno();
          if (e === EINTR) continue;
          return e === EAGAIN ? 'empty' : end();
        }
        if (n === 0) return end();
        return { pid: writerOf(view, Number(view.getBigUint64(MSGHDR + 40, true))), data: Buffer.from(bytes.slice(DATA, DATA + n)) };
      }
    },
    watch(ready) {
      if (closed || watcher) return;
      watcher = poll(fd, { readable: true }, ready);
    },
    close() {
      if (closed) return;
      closed = true;
      watcher?.close();
      k.free(mem);
    },
  };
}

/**
 * A descriptor of the monitor's own for the socket under `socket` (a net.Socket just accepted,
 * paused): read through taggedReader, which one libuv handle must never share with another.
 * The caller destroys `socket` then, and closes the descriptor when done. Null where there is none.
 */
export function adoptSocket(socket: net.Socket): number | null {
  const c = load();
  const fd = descriptorOf(socket);
  if (!c || fd === null) return null;
  const copy = c.fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
  return copy >= 0 ? copy : null;
}

/** Writes `bytes` to a socket without waiting (a byte or two into an empty buffer); false if it could not. */
export function sendNow(fd: number, bytes: Buffer): boolean {
  const c = load();
  return !!c && Number(c.send(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL)) === bytes.length;
}

/**
 * The writer's pid from a read's control messages. A writer could also pass descriptors
 * (SCM_RIGHTS): those would land in the monitor, so they are closed at once.
 */
function writerOf(view: DataView, controlLength: number): number | null {
  let pid: number | null = null;
  let at = CONTROL;
  const end = CONTROL + Math.min(controlLength, CONTROL_BYTES);
  while (at + 16 <= end) {
    const len = Number(view.getBigUint64(at, true));
    if (len < 16 || at + len > end) break;
    const level = view.getInt32(at + 8, true);
    const type = view.getInt32(at + 12, true);
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && len >= 28) pid = view.getInt32(at + 16, true);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = at + 16; p + 4 <= at + len; p += 4) closeDescriptor(view.getInt32(p, true));
    }
    at += (len + 7) & ~7;
  }
  return pid !== null && pid > 0 ? pid : null;
}

/** The descriptor under a Node stream (a net.Socket, a child's pipe), if it still has one. */
export function descriptorOf(stream: Readable): number | null {
  const fd = (stream as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** Bytes one readWaiting read takes at most. */
const WAITING_BYTES = 64 * 1024;

/**
 * Hands `take` what the kernel holds for `fd` now, without waiting (the descriptor does not
 * block): until nothing more is there (EAGAIN), its end, or an error.
 */
export function readWaiting(fd: number, take: (chunk: Buffer) => void): void {
  const buf = Buffer.allocUnsafe(WAITING_BYTES);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, WAITING_BYTES, null);
    } catch {
      return; // EAGAIN: nothing more now; ECONNRESET: all of it was read; or gone
    }
    if (n <= 0) return;
    take(Buffer.from(buf.subarray(0, n)));
  }
}

/** Closes a descriptor of the monitor's, if it is still open. */
export function closeDescriptor(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}
