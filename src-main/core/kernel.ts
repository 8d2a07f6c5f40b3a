// The few kernel calls Node has no API for, made through koffi (an FFI whose npm packages carry
// prebuilt binaries: nothing is compiled on the user's machine): who is at the other end of a
// Unix socket (SO_PEERCRED), and a signal that reaches exactly one process even if its pid is
// reused meanwhile (pidfd_open, pidfd_send_signal). Linux only; elsewhere, or where koffi cannot
// load, each call says it cannot tell (null) and its caller falls back on /proc or on less.

import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { constants } from 'node:os';

/** The parts of koffi this module uses. */
interface Koffi {
  load(name: string): { func(name: string, result: string, args: unknown[]): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
  out(type: unknown): unknown;
  inout(type: unknown): unknown;
  pointer(type: unknown): unknown;
  errno(): number;
}

interface Calls {
  getsockopt(fd: number, level: number, name: number, out: { pid?: number }, len: number[]): number;
  /** syscall(2), variadic: each argument after the number is given as its C type, then its value. */
  syscall(nr: number, ...typed: unknown[]): number | bigint;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** Syscall numbers of pidfd_send_signal and pidfd_open: the same on every Linux architecture. */
const SYS_PIDFD_SEND_SIGNAL = 424;
const SYS_PIDFD_OPEN = 434;
const ESRCH = 3;

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
    };
    errno = () => koffi.errno();
  } catch (err) {
    whyNot = `koffi could not be loaded (${(err as Error).message.split('\n')[0]})`;
    calls = null;
  }
  return calls;
}

let errno = (): number => 0;

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
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (!c || typeof fd !== 'number' || fd < 0) return null;
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
  try {
    closeSync(handle);
  } catch {
    // closed already
  }
}
