// What a process of the run says about itself and its children is a claim: it counts only once
// the kernel bears it out. Any process of the user's can connect to the broker's socket, and a
// process of the run can send anything, so:
// - a connection is the process the kernel says connected it (SO_PEERCRED, read once at accept);
//   its hello must name that pid, once: a second connection for a pid is refused;
// - a process is the run's only if it descends from the run: its ancestors (read from /proc
//   while it is alive, at accept) reach the main process or another listed process that is still
//   the same process (pid and start time); the ancestors it has in between (a shell) are listed
//   with it. A child whose parent died before it said hello is the
//   run's if that parent announced it while it was its child;
// - `spawned` is taken only from the named process's real parent (or from the process that
//   started it through a helper of the run, such as Python's forkserver); a child already gone
//   is noted, never listed as running from that alone;
// - `exited` only from the parent it was listed with, and never for a process still running when
//   the report arrives (a parent reports only a child it reaped); one the program's own
//   os.wait*() reaped may be of a child that never was the run's (a `sleep`): about a process
//   neither listed running nor announced, it is skipped without a word;
// - a signal from the window goes to a listed process only if it is still that same process and
//   still the run's, through a pidfd where the kernel has them (kernel.ts): a pid reused after
//   the check is never reached.
// Where peer credentials cannot be read (no koffi, not Linux), a hello's pid is believed, and
// the rest is checked as above. Without /proc (macOS, Windows) nothing of a process's ancestry or
// start time can be read: only who the listed parent is counts, and a control checks that the
// pid is alive, as before these checks. What is refused is said (a warning in the log) and skipped; a
// refused hello drops its connection.

import type net from 'node:net';
import { closeProcess, openProcess, peerPid, signalProcess } from './kernel.ts';
import { isAlive, isDeadState, readCommandLine, readProcStat } from './process-group.ts';

/** Ancestors deeper than this are not followed (a run is never that deep; a loop never ends). */
const MAX_DEPTH = 128;

/** Who is at the other end of a connection, as the kernel said when it was accepted. */
export interface Peer {
  /** Its pid; null when the kernel cannot say here. */
  pid: number | null;
  /** Its start time (kernel ticks), null when it was gone already. */
  start: number | null;
  /** Its parent, grandparent… up to init, as they were then. */
  ancestors: number[];
  /** Its session (null when it was gone already). */
  session: number | null;
}

export interface ClaimsHost {
  /** The main process (the monitor started it itself). */
  root(): number;
  /** Whether `pid` is a listed process still running, the same process as when it was listed. */
  isSame(pid: number): boolean;
  /** The parent a listed process was listed with. */
  parentOf(pid: number): number | undefined;
  /** Whether `pid` is listed and not known to have ended (the kernel is not asked). */
  listedRunning(pid: number): boolean;
}

/** A connection whose peer is not known (no credentials to read). */
export const UNKNOWN_PEER: Peer = { pid: null, start: null, ancestors: [], session: null };

export class RunClaims {
  /** Children announced by `spawned`: who announced them, and their start time if they were alive. */
  private readonly announced = new Map<number, { parent: number; start: number | null }>();

  constructor(
    private readonly host: ClaimsHost,
    /** /proc can be read here (see the top). */
    private readonly procfs = process.platform === 'linux',
  ) {}

  /** Reads who connected `socket`: called as it is accepted, while that process surely lives. */
  peerOf(socket: net.Socket): Peer {
    const pid = peerPid(socket);
    if (pid === null) return UNKNOWN_PEER;
    const stat = readProcStat(pid);
    return { pid, start: stat?.starttime ?? null, ancestors: stat ? ancestorsOf(stat.ppid) : [], session: stat?.session ?? null };
  }

  /** A connection's first message, a hello naming `pid`: null if the kernel agrees, else why not. */
  gate(peer: Peer, pid: number): string | null {
    if (peer.pid !== null && peer.pid !== pid) return `its hello names pid ${pid}, but pid ${peer.pid} connected`;
    return null;
  }

  /**
   * A hello for `pid`, which an earlier connection (`earlier`, read to its end or not) named
   * already: null if `pid` is another process now (the pid was reused), else why not.
   */
  again(earlier: Peer, earlierDrained: boolean, peer: Peer, pid: number): string | null {
    const refused = `pid ${pid} is connected already`;
    if (!earlierDrained) return refused;
    if (earlier.start !== null && peer.start !== null) return earlier.start === peer.start ? refused : null;
    // A start time is missing (no credentials here, or one of them was gone at accept): the
    // process listed under `pid` still running means it is the same one.
    return this.host.isSame(pid) ? refused : null;
  }

  /** A hello, in order (its parent's earlier reports handled): null if `pid` is the run's, else why not. */
  hello(peer: Peer, pid: number, ppid: number): string | null {
    const root = this.host.root();
    if (pid === root || !this.procfs) return null;
    const ancestors = peer.pid === pid ? peer.ancestors : alive(pid) ? ancestorsOf(readProcStat(pid)?.ppid ?? 0) : [];
    if (ancestors.length > 0 && ancestors[0] !== ppid && this.host.isSame(ancestors[0])) {
      return `pid ${pid} says its parent is pid ${ppid}, but its parent is pid ${ancestors[0]}`;
    }
    if (ancestors.some((a) => a === root || this.host.isSame(a))) return null;
    // The main process leads the run's session (it was started detached), and no process can join
    // a session: one in it descends from main, even when the parent that started it died before
    // it said hello, and before that parent's report of it was read.
    if (peer.pid === pid && peer.session === root) return null;
    // Its parent died before it said hello: the run's if that parent announced it as its child.
    const a = this.announced.get(pid);
    const start = peer.pid === pid ? peer.start : null;
    if (a && a.parent === ppid && (a.start === null || start === null || a.start === start)) return null;
    // It was gone (reaped) before its connection could be looked at, so its ancestors are not to
    // be read: its parent's word is taken, the one the hello names, if that is a running process
    // of the run. Gone, it can never be sampled or signalled.
    if (peer.pid === pid && peer.start === null && this.host.isSame(ppid)) return null;
    return `pid ${pid} does not descend from this run`;
  }

  /**
   * The processes between a hello's `pid` and the run, when its parent `ppid` is not listed: a
   * shell that a program's `shell=True` or os.system() put between itself and a Python. They
   * never connect, yet are processes of the run: its ancestors up to the nearest listed one,
   * farthest first, each with its parent and command line. Empty when `ppid` is listed, or when
   * no ancestor is (or none can be read).
   */
  between(peer: Peer, pid: number, ppid: number): { pid: number; ppid: number; name: string }[] {
    if (!this.procfs || this.host.listedRunning(ppid)) return [];
    const ancestors = peer.pid === pid ? peer.ancestors : ancestorsOf(readProcStat(pid)?.ppid ?? 0);
    const root = this.host.root();
    const reached = ancestors.findIndex((a) => a === root || this.host.isSame(a));
    if (reached <= 0 || ancestors[0] !== ppid) return [];
    return ancestors
      .slice(0, reached)
      .map((a, i) => ({ pid: a, ppid: ancestors[i + 1], name: readCommandLine(a) ?? `pid ${a}` }))
      .reverse();
  }

  /** A parent's report that it started `pid`: null if `pid` is its child, else why not. */
  spawned(sender: number, pid: number): string | null {
    if (!this.procfs) return null;
    const stat = readProcStat(pid);
    if (stat === null) {
      // Gone (and reaped) already: nothing of it can be read, sampled or signalled any more.
      this.announced.set(pid, { parent: sender, start: null });
      return null;
    }
    // Its real parent, or a helper of the run that started it for the sender (the forkserver).
    const through = stat.ppid !== sender && !this.host.isSame(stat.ppid) && this.descends(stat.ppid);
    // The sender died since, and the child went to init: in the run's session, it is the run's.
    const orphan = stat.session === this.host.root();
    if (stat.ppid !== sender && !through && !orphan) return `pid ${pid} is not a child of pid ${sender}`;
    this.announced.set(pid, { parent: sender, start: stat.starttime });
    return null;
  }

  /**
   * An `exited` as it arrives, before it waits its turn: a parent reports only a child it has
   * reaped, so a child still running when the report is read was not (and it is not let wait
   * for that child to end, to be believed then).
   */
  exitedEarly(pid: number): string | null {
    return this.procfs && this.host.isSame(pid) ? `pid ${pid} is still running` : null;
  }

  /** Whether the run has never heard of `pid` as a process still running: neither listed running nor announced. */
  unheardOf(pid: number): boolean {
    return !this.host.listedRunning(pid) && !this.announced.has(pid);
  }

  /** A parent's report of how its child `pid` ended: null if it can be so, else why not. */
  exited(sender: number, pid: number): string | null {
    const parent = this.host.parentOf(pid) ?? this.announced.get(pid)?.parent;
    if (parent !== sender) return `pid ${pid} is not a child of pid ${sender}`;
    if (this.procfs && this.host.isSame(pid)) return `pid ${pid} is still running`;
    return null;
  }

  /** Whether `pid`, or a process it descends from, is a listed process of the run (see top). */
  descends(pid: number): boolean {
    if (this.host.isSame(pid)) return true;
    return ancestorsOf(readProcStat(pid)?.ppid ?? 0).some((a) => this.host.isSame(a));
  }

  /**
   * Signals the listed process `pid` if it is still that process and still the run's; false,
   * and nothing sent, otherwise.
   */
  signal(pid: number, signal: NodeJS.Signals): boolean {
    if (!this.procfs) {
      if (!isAlive(pid)) return false;
      process.kill(pid, signal);
      return true;
    }
    // Held first, checked after: what the handle reaches is what was checked.
    const handle = openProcess(pid);
    if (handle === 'gone') return false;
    try {
      // The run's: its listed parent still runs and is its parent, or it has none left (the
      // main process, an orphan).
      const listedParent = this.host.parentOf(pid);
      const parentLeft = listedParent === undefined || !this.host.isSame(listedParent);
      if (!this.host.isSame(pid) || !(parentLeft || this.descends(readProcStat(pid)?.ppid ?? 0))) return false;
      if (handle === null) {
        process.kill(pid, signal);
        return true;
      }
      return signalProcess(handle, signal);
    } catch {
      return false;
    } finally {
      if (typeof handle === 'number') closeProcess(handle);
    }
  }
}

/** `pid` and its ancestors, nearest first, up to (not including) init. */
function ancestorsOf(pid: number): number[] {
  const out: number[] = [];
  for (let p = pid; p > 1 && out.length < MAX_DEPTH; p = readProcStat(p)?.ppid ?? 0) out.push(p);
  return out;
}

function alive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && !isDeadState(stat.state);
}
