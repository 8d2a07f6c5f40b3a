// This process's own standard output and error (core/output-server.ts; the shim's _output.py
// does the same in Python). Every process of the run inherits its parent's descriptors 1 and 2;
// as it starts, a process puts two connections of its own to the monitor in their place, so what
// it writes below the runtime (`fs.writeSync(1, ...)`) and what the programs it runs write is
// logged as its own however briefly those programs live. Node has no dup2: it is made through
// koffi where koffi loads; where it does not, the inherited descriptors stay, and the monitor
// still names each writer, only less surely for a program that came and went.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { ENV_OUTPUT, ENV_OUTPUT_INODES, OUTPUT_STDERR, OUTPUT_STDOUT, OUTPUT_TAKEN } from '../protocol.ts';

interface Calls {
  dup2(from: number, to: number): number;
  /** fcntl(2), variadic. */
  fcntl(fd: number, cmd: number, ...typed: unknown[]): number;
  setsockopt(fd: number, level: number, name: number, value: Int32Array, len: number): number;
}

const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
/** How long the monitor may take to answer (it answers as it accepts; a busy one is slow). */
const ANSWER_MS = 10_000;

function load(): Calls | null {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(name: string): { func(name: string, result: string, args: string[]): unknown };
    };
    const libc = koffi.load('libc.so.6');
    return {
      dup2: libc.func('dup2', 'int', ['int', 'int']) as Calls['dup2'],
      fcntl: libc.func('fcntl', 'int', ['int', 'int', '...']) as Calls['fcntl'],
      setsockopt: libc.func('setsockopt', 'int', ['int', 'int', 'int', 'void *', 'uint32']) as Calls['setsockopt'],
    };
  } catch {
    return null;
  }
}

/** Connects `stream`'s connection; the socket once the monitor took it, else null. */
function connect(path: string, tag: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    const timer = setTimeout(() => done(false), ANSWER_MS);
    const done = (taken: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (taken) return resolve(socket);
      socket.destroy();
      resolve(null);
    };
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.once('connect', () => socket.write(Buffer.from([tag])));
    socket.once('data', (b: Buffer) => done(b[0] === OUTPUT_TAKEN));
  });
}

export async function ownOutput(): Promise<void> {
  const path = process.env[ENV_OUTPUT];
  const inodes = (process.env[ENV_OUTPUT_INODES] ?? '').split(',');
  if (!path || inodes.length !== 2) return;
  const calls = load();
  if (!calls) return;
  const now = [...inodes];
  const ours = (fd: number, i: number): boolean => {
    try {
      // A descriptor the program's parent gave it itself (a pipe to read it) stays its own.
      return String(fs.fstatSync(fd).ino) === inodes[i];
    } catch {
      return false; // closed
    }
  };
  // Both at once: one round trip to the monitor, not two.
  const asked = await Promise.all([
    ours(1, 0) ? connect(path, OUTPUT_STDOUT) : null,
    ours(2, 1) ? connect(path, OUTPUT_STDERR) : null,
  ]);
  for (const [i, fd] of [
    [0, 1],
    [1, 2],
  ] as const) {
    const socket = asked[i];
    if (!socket) continue;
    const own = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    // Each write is stamped with its writer (this process, or a program it runs).
    if (typeof own === 'number' && calls.setsockopt(own, SOL_SOCKET, SO_PASSCRED, new Int32Array([1]), 4) === 0 && calls.dup2(own, fd) === fd) {
      // Node made the socket non-blocking, and the copy shares that: a descriptor 1 blocks (a
      // program it runs would get EAGAIN from a full buffer, and lose what it wrote).
      const flags = calls.fcntl(fd, F_GETFL);
      if (flags >= 0) calls.fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK);
      now[i] = String(fs.fstatSync(fd).ino);
    }
    // Only Node's descriptor of it closes: the copy at `fd` stays.
    socket.destroy();
  }
  process.env[ENV_OUTPUT_INODES] = now.join(',');
}
