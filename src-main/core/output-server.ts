// Where each process of the run sends what it writes to its descriptors 1 and 2 itself: as it
// starts, it connects here twice and puts the connections in place of its own 1 and 2 (the shim's
// _output.py; Node cannot replace its own descriptors, so a TypeScript process keeps its
// parent's, see writer-output.ts). The kernel names who connected (SO_PEERCRED), so every line
// of a connection is that process's, and so is every line of the programs it runs, which inherit
// its descriptors, however quickly they came and went; each read also names its writer
// (SO_PASSCRED), so a program's half-line never mixes with its parent's. Bytes are in the
// kernel's buffers the moment they were written: nothing is lost when a writer is killed.

import net from 'node:net';
import { OUTPUT_TAKEN } from '../protocol.ts';
import { adoptSocket, closeDescriptor, sendNow, taggedReader } from './kernel.ts';
import { TaggedLines, type WriterLine } from './writer-output.ts';
import { listenPrivately } from './private-socket.ts';

/** One process's connection: its lines, each writer's apart (it, or a program it runs). */
interface Connection {
  fd: number;
  lines: TaggedLines;
}

export class OutputServer {
  private readonly server: net.Server;
  private readonly byPid = new Map<number, Connection[]>();
  private closed = false;

  constructor(
    readonly socketPath: string,
    /** Who connected, if it may write to the run's output (a process of the run, or one it started). */
    private readonly admit: (socket: net.Socket) => number | null,
    private readonly line: WriterLine,
  ) {
    // Paused: the socket is read through recvmsg (kernel.ts), never by Node itself.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return listenPrivately(this.server, this.socketPath);
  }

  /** `pid` has exited: what it wrote is read now, its last line even without a newline. */
  ended(pid: number): void {
    for (const c of this.byPid.get(pid) ?? []) {
      c.lines.take();
      c.lines.flush(pid);
    }
  }

  /** The run is over: what is left is read; what a survivor writes later belongs to no run. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const list of this.byPid.values()) {
      for (const c of list) {
        c.lines.take();
        c.lines.flushAll();
        c.lines.socket.close();
        closeDescriptor(c.fd);
      }
    }
    if (this.server.listening) this.server.close();
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    const pid = this.closed ? null : this.admit(socket);
    // Read through a descriptor of our own: Node's handle on the socket goes at once.
    const fd = pid !== null ? adoptSocket(socket) : null;
    socket.destroy();
    const reader = fd !== null ? taggedReader(fd) : null;
    if (pid === null || fd === null || !reader) {
      if (fd !== null) closeDescriptor(fd);
      return;
    }
    // Every line of the connection is its owner's; a program it ran wrote its own lines apart.
    const lines = new TaggedLines(reader, null, (stream, _writer, text) => this.line(stream, pid, text));
    let list = this.byPid.get(pid);
    if (!list) this.byPid.set(pid, (list = []));
    list.push({ fd, lines });
    reader.watch(() => lines.take());
    // The process waits for this before it writes anything there: its lines are then surely
    // read before its exit is logged (ended), which no accept after that exit could promise.
    sendNow(fd, Buffer.from([OUTPUT_TAKEN]));
  }
}
