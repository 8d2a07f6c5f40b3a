// Supervising a POSIX process group: who is still in it, and ending all of it.
//
// A program we run is one process group (its leader is spawned with `detached: true`, so
// pgid = leader pid). Killing the group rather than pid by pid is what guarantees no orphan:
// a grandchild we never heard of is still a member. Linux reads /proc; other platforms ask `ps`.

import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

const IS_LINUX = process.platform === 'linux';

/** The fields of `/proc/<pid>/stat` we use. Times are in clock ticks, rss in pages. */
export interface ProcStat {
  pid: number;
  /** The executable name, at most 15 bytes; may itself contain spaces and parentheses. */
  comm: string;
  /** R, S, D, Z (zombie), T, t, X, I… */
  state: string;
  ppid: number;
  pgrp: number;
  /** The session: a process cannot join one, so a process in the run's descends from the run's main. */
  session: number;
  utime: number;
  stime: number;
  /** Ticks after boot at which the process started: with the pid, identifies one process across pid reuse. */
  starttime: number;
  rssPages: number;
  /** The kernel's PF_* flags (proc(5) field 9): PF_EXITING says the process is ending. */
  flags: number;
}

/**
 * Parses one `/proc/<pid>/stat` line, or returns null when it is not one.
 * The comm field is written raw between parentheses, so `a) S 1 (b` is a legal name: the fields
 * start after the LAST `)` of the line (the kernel writes none after it).
 */
export function parseProcStat(line: string): ProcStat | null {
  const bytes = Buffer.from(line, 'utf8');
  return parseProcStatBytes(bytes, bytes.length);
}

const SPACE = 0x20;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** rss, the last field we use (fields are numbered from 1 as in proc(5)). */
const LAST_FIELD = 24;

/**
 * `parseProcStat` on the raw bytes of a read, without building the line as a string and
 * splitting it: the sampler parses one line per process per tick, and the split of 52 fields
 * was most of its CPU cost.
 */
export function parseProcStatBytes(buf: Uint8Array, length: number): ProcStat | null {
  let i = 0;
  let pid = 0;
  while (i < length && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_9) pid = pid * 10 + buf[i++] - DIGIT_0;
  if (i === 0 || buf[i] !== SPACE || buf[i + 1] !== OPEN_PAREN) return null;
  const commStart = i + 2;
  let close = length - 1;
  while (close >= commStart && buf[close] !== CLOSE_PAREN) close--;
  if (close < commStart || buf[close + 1] !== SPACE || close + 2 >= length) return null;
  const state = String.fromCharCode(buf[close + 2]);
  i = close + 3;
  let ppid = 0, pgrp = 0, session = 0, flags = 0, utime = 0, stime = 0, starttime = 0, rssPages = 0;
  for (let field = 4; field <= LAST_FIELD; field++) {
    if (buf[i] !== SPACE) return null;
    i++;
    const negative = buf[i] === MINUS; // tpgid is -1 without a terminal; priority and nice can be < 0
    if (negative) i++;
    const digitsStart = i;
    let v = 0;
    while (i < length && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_9) v = v * 10 + buf[i++] - DIGIT_0;
    if (i === digitsStart) return null;
    if (negative) v = -v;
    if (field === 4) ppid = v;
    else if (field === 5) pgrp = v;
    else if (field === 6) session = v;
    else if (field === 9) flags = v;
    else if (field === 14) utime = v;
    else if (field === 15) stime = v;
    else if (field === 22) starttime = v;
    else if (field === 24) rssPages = v;
  }
  const comm = Buffer.from(buf.buffer, buf.byteOffset + commStart, close - commStart).toString('utf8');
  return { pid, comm, state, ppid, pgrp, session, utime, stime, starttime, rssPages, flags };
}

// 52 fields of at most 20 digits plus a 15-byte comm stay under 1.2 KB; the kernel renders the
// whole line on the first read, so one read into this buffer gets all of it.
const statBuf = Buffer.allocUnsafe(4096);

/**
 * Reads and parses `/proc/<pid>/stat`; null when the process is gone (or was never there).
 * open + one read + close, synchronously: readFileSync would add an fstat and a second read, and
 * pidsInGroup calls this for every process on the machine.
 */
export function readProcStat(pid: number): ProcStat | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return null; // ENOENT: already reaped
  }
  try {
    return parseProcStatBytes(statBuf, readSync(fd, statBuf, 0, statBuf.length, 0));
  } catch {
    return null; // ESRCH: it died between open and read
  } finally {
    closeSync(fd);
  }
}

/**
 * A process's command line, as a row names it: its arguments joined by spaces, the program by its
 * base name, at most `max` characters; its short name (comm) when the line is empty (a kernel
 * thread, a zombie); null once it is gone, or without /proc.
 */
export function readCommandLine(pid: number, max = 256): string | null {
  if (!IS_LINUX) return null;
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
  if (args.at(-1) === '') args.pop();
  if (args.length === 0) return readProcStat(pid)?.comm ?? null;
  args[0] = args[0].slice(args[0].lastIndexOf('/') + 1);
  return args.join(' ').replace(/\s+/g, ' ').slice(0, max);
}

/**
 * How a process that has exited but is not reaped yet ended, as Python's exitcode (-N for a
 * signal): `exit_code`, field 52 of its stat line (Linux 3.5+), holds the waitpid status. Null
 * while it runs, once it is reaped, or where /proc has no such field.
 */
export function zombieExitcode(pid: number): number | null {
  if (!IS_LINUX) return null;
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = line.slice(line.lastIndexOf(')') + 2).trim().split(' ');
  // fields[0] is field 3 (state), so field 52 is fields[49].
  if (fields[0] !== 'Z' || fields.length < 50) return null;
  const status = Number(fields[49]);
  if (!Number.isInteger(status)) return null;
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : -signal;
}

/** Zombies (exited, not yet reaped) and `X` (being torn down) have no code left to run. */
export const isDeadState = (state: string): boolean => state === 'Z' || state === 'X' || state === 'x';

/** PF_EXITING (include/linux/sched.h): set as a process starts to exit, before its memory goes. */
const PF_EXITING = 0x4;

/**
 * Whether the process has exited or is exiting (its memory being torn down). Not "its resident
 * size reads 0": a process that has just exec'd reads 0 about one time in ten here (the kernel's
 * per-CPU counts are not summed up yet), and it is very much alive.
 */
export const isEnding = (stat: ProcStat): boolean => isDeadState(stat.state) || (stat.flags & PF_EXITING) !== 0;

/**
 * Whether `pid` is a process that can still run. Signal 0 checks existence (EPERM: it exists but
 * belongs to someone else, so it is alive); on Linux a zombie also counts as dead, because an
 * orphaned zombie is only reaped by pid 1, and in a container pid 1 often never reaps it.
 */
export function isAlive(pid: number): boolean {
  checkPid(pid);
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errnoOf(e) === 'ESRCH') return false;
    if (errnoOf(e) !== 'EPERM') throw e;
  }
  if (!IS_LINUX) return true;
  const stat = readProcStat(pid);
  return stat !== null && !isDeadState(stat.state);
}

export interface GroupMembers {
  /** Members that can still run, in ascending pid order. */
  alive: number[];
  /** Members that exited but were not reaped yet: they hold the pgid but cannot be killed further. */
  zombies: number[];
}

/** Every process whose process group is `pgid`, split into live ones and zombies. */
export function groupMembers(pgid: number): GroupMembers {
  return split((IS_LINUX ? scanProc() : scanPs()).filter((e) => e.pgrp === pgid));
}

/**
 * Every process of a run: the members of its group `pgid`, and every descendant of theirs or of
 * `roots` (processes known to be the run's), whatever their group: a child that called setsid()
 * or was spawned `detached` has left the group, not the run. Found by parent pid in one pass
 * over the process table; never the monitor itself, nor init.
 */
export function runMembers(pgid: number, roots: readonly number[] = []): GroupMembers {
  const entries = IS_LINUX ? scanProc() : scanPs();
  const children = new Map<number, GroupEntry[]>();
  for (const e of entries) {
    const siblings = children.get(e.ppid);
    if (siblings) siblings.push(e);
    else children.set(e.ppid, [e]);
  }
  const found = new Map<number, GroupEntry>();
  // pgid 0: the run's group is no more (see Session.runGroup); kernel threads have pgrp 0.
  const stack = entries.filter((e) => (pgid > 1 && e.pgrp === pgid) || roots.includes(e.pid));
  for (let e = stack.pop(); e; e = stack.pop()) {
    if (found.has(e.pid) || e.pid === process.pid || e.pid <= 1) continue;
    found.set(e.pid, e);
    // A zombie's children were handed to another parent already: none to follow.
    if (!isDeadState(e.state)) stack.push(...(children.get(e.pid) ?? []));
  }
  return split([...found.values()]);
}

function split(entries: readonly GroupEntry[]): GroupMembers {
  const members: GroupMembers = { alive: [], zombies: [] };
  for (const { pid, state } of entries) (isDeadState(state) ? members.zombies : members.alive).push(pid);
  members.alive.sort((a, b) => a - b);
  members.zombies.sort((a, b) => a - b);
  return members;
}

/** The live (non-zombie) members of process group `pgid`. */
export function pidsInGroup(pgid: number): number[] {
  return groupMembers(pgid).alive;
}

/** Sends `signal` to `pid`. Returns false when the process was already gone (ESRCH); rethrows anything else. */
export function signalPid(pid: number, signal: NodeJS.Signals | number): boolean {
  checkPid(pid);
  return sendSignal(pid, signal);
}

/** kill(2) itself: a negative target is a whole process group. */
function sendSignal(target: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ESRCH') return false;
    throw e;
  }
}

/** kill(0) and kill(-n) reach whole groups: a "pid" that is not > 0 is a bug, not a process. */
function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`pid must be an integer > 0, got ${pid}`);
}

/**
 * SIGKILLs the whole group synchronously, for `process.on('exit')` handlers where no async work
 * can run. Returns false when the group was already empty.
 */
export function killGroupSync(pgid: number): boolean {
  return signalGroup(pgid, 'SIGKILL');
}

/**
 * SIGKILLs every process of a run synchronously (its group, and every descendant of its members
 * or of `roots` wherever they went: see runMembers), deepest found first by the one scan.
 */
export function killRunSync(pgid: number, roots: readonly number[] = []): void {
  for (const pid of runMembers(pgid, roots).alive) sendSignal(pid, 'SIGKILL');
  if (pgid <= 1) return;
  try {
    signalGroup(pgid, 'SIGKILL');
  } catch {
    // empty already
  }
}

/** Sends `signal` to every member of group `pgid`; false when the group is empty. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  checkPgid(pgid);
  return sendSignal(-pgid, signal);
}

export interface KillGroupOptions {
  /** How long members may take to exit after SIGTERM before they get SIGKILL (default 2000 ms). */
  graceMs?: number;
}

/** After SIGKILL only a process stuck in the kernel (state D) can survive this long. */
const KILL_WAIT_MS = 5000;
/** Polling kernel state, not a test sleep: exit has no event for processes we did not spawn. */
const POLL_MS = 10;

/**
 * Ends process group `pgid` the way PM2 stops a process: SIGTERM, wait up to `graceMs` for every
 * member to exit, then SIGKILL and wait again. Resolves once no live member remains (zombies
 * do not count: they are already dead); throws, naming the survivors, if any outlive SIGKILL.
 */
export async function killGroup(pgid: number, opts: KillGroupOptions = {}): Promise<void> {
  checkPgid(pgid);
  const graceMs = opts.graceMs ?? 2000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new Error(`graceMs must be a number >= 0, got ${graceMs}`);

  // ESRCH on the group: not even a zombie holds the pgid any more.
  if (!sendSignal(-pgid, 'SIGTERM')) return;
  // A stopped member (SIGSTOP, Ctrl-Z) keeps SIGTERM pending until it runs again: wake it so it
  // can exit cleanly instead of waiting out the grace period for SIGKILL (systemd does the same).
  sendSignal(-pgid, 'SIGCONT');
  if ((await waitUntilEmpty(pgid, graceMs)).length === 0) return;

  if (!sendSignal(-pgid, 'SIGKILL')) return;
  const survivors = await waitUntilEmpty(pgid, KILL_WAIT_MS);
  if (survivors.length > 0) {
    throw new Error(`process group ${pgid} still has live members ${KILL_WAIT_MS} ms after SIGKILL: ${survivors.join(', ')}`);
  }
}

/**
 * Waits until group `pgid` has no live member or `ms` have passed; returns the members still alive.
 * Polls only the members it knows (one small read each) and rescans every process only when those
 * are gone, because a member may have forked a new one meanwhile. A full scan of /proc every 10 ms
 * would cost the monitor several ms of CPU per poll on a busy machine.
 */
async function waitUntilEmpty(pgid: number, ms: number): Promise<number[]> {
  const deadline = performance.now() + ms;
  let known = pidsInGroup(pgid);
  for (;;) {
    if (known.length === 0) {
      known = pidsInGroup(pgid);
      if (known.length === 0) return [];
    }
    if (performance.now() >= deadline) return pidsInGroup(pgid);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    known = known.filter((pid) => isLiveMember(pid, pgid));
  }
}

function isLiveMember(pid: number, pgid: number): boolean {
  if (!IS_LINUX) return isAlive(pid);
  const stat = readProcStat(pid);
  // A different pgrp: the process left the group, or the pid was reused by an outsider.
  return stat !== null && stat.pgrp === pgid && !isDeadState(stat.state);
}

/**
 * kill(-0) signals our own group and kill(-1) every process we may signal: a pgid of 0 or 1, or
 * our own group, would turn "stop the program" into "kill the monitor" (or the whole session).
 */
function checkPgid(pgid: number): void {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`pgid must be an integer > 1, got ${pgid}`);
  if (pgid === ownPgid()) {
    throw new Error(`refusing to signal process group ${pgid}: it is the monitor's own group`);
  }
}

function ownPgid(): number | undefined {
  if (IS_LINUX) return readProcStat(process.pid)?.pgrp;
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim());
}

interface GroupEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
}

function scanProc(): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue; // only the numeric entries are processes
    const stat = readProcStat(Number(name));
    if (stat !== null) entries.push(stat);
  }
  return entries;
}

/** Fallback without /proc (macOS, BSD): `ps` prints pid, ppid, pgid and state for every process. */
function scanPs(): GroupEntry[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8' });
  const entries: GroupEntry[] = [];
  for (const line of out.split('\n')) {
    const [pid, ppid, pgrp, stat] = line.trim().split(/\s+/);
    if (pid && ppid && pgrp && stat) entries.push({ pid: Number(pid), ppid: Number(ppid), pgrp: Number(pgrp), state: stat.charAt(0) });
  }
  return entries;
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as NodeJS.ErrnoException).code : undefined;
}
