// The wire between a scenario process (runtime, or the Python shim) and the monitor's broker.
// Shared by src-main/runtime and src-main/core; imports nothing but node:v8 so both may use it.
//
// Framing: [u32 LE length of what follows][u8 codec][body]. Codec V8 carries structured-clone
// bodies (the TypeScript runtime: queue items keep Maps, Dates, typed arrays); codec JSON lets a
// runtime without V8 (the Python shim) speak the same protocol.

import { deserialize, serialize } from 'node:v8';
import { isOneOf, LOCK_KINDS, SHARED_KINDS, SYNC_KINDS, type LockKind, type SharedKind, type SyncKind } from './common/object-kinds.ts';

export const ENV_SOCKET = 'PROCSCOPE_SOCKET';
export const ENV_SCENARIO = 'PROCSCOPE_SCENARIO';
export const ENV_ROLE = 'PROCSCOPE_ROLE';
/** The scenario compiled ahead by the monitor (core/scenario-compiler.ts): load it, without hooks. */
export const ENV_COMPILED = 'PROCSCOPE_COMPILED';
/** Set by the window's shells: a person may call members of Process objects while it runs. */
export const ENV_INTERACTIVE = 'PROCSCOPE_INTERACTIVE';
/**
 * Wall-clock time (ms since the epoch, fractional) of the run's t = 0: a runtime stamps what it
 * reports in batches (the operations on a lent lock) with its own clock, in run time.
 */
export const ENV_T0 = 'PROCSCOPE_T0';
/**
 * The monitor, as `<pid>:<start time>` (clock ticks after boot, /proc/<pid>/stat field 22; 0 where
 * there is no /proc): a process of the run that sees its connection close ends the run only if
 * this process is gone (runtime/run-end.ts, the shim's _run_end.py).
 */
export const ENV_MONITOR = 'PROCSCOPE_MONITOR';
/** The run's process group, as its main process found it: every process after it inherits it. */
export const ENV_RUN_GROUP = 'PROCSCOPE_RUN_GROUP';
/**
 * Where a process of the run connects its own standard output and error (core/output-server.ts):
 * each process, as it starts, replaces its descriptors 1 and 2 with a connection there whose
 * first byte is OUTPUT_STDOUT or OUTPUT_STDERR, once the monitor answered OUTPUT_TAKEN, so that
 * what it and the programs it runs write below the runtime is its own.
 */
export const ENV_OUTPUT = 'PROCSCOPE_OUTPUT';
/**
 * `<inode of 1>,<inode of 2>`: the run's own descriptors, as the process that set it left them. A
 * process replaces a descriptor only if it is still that one: a program that gave its child a
 * pipe of its own (to read what the child prints) keeps it.
 */
export const ENV_OUTPUT_INODES = 'PROCSCOPE_OUTPUT_INODES';
export const OUTPUT_STDOUT = 0x31; // '1'
export const OUTPUT_STDERR = 0x32; // '2'
/** The monitor's one byte back on an output connection it took; a refused one is closed. */
export const OUTPUT_TAKEN = 0x2b; // '+'
/** Set when the run is profiled: the sampling rate in Hz (1..1000); absent when it is not. */
export const ENV_PROFILE = 'PROCSCOPE_PROFILE';

export const Codec = { V8: 0, JSON: 1 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export type Rid = number;

/** Where one thread is, outermost frame first (api.ts's ThreadStack, as it travels). */
export interface WireThreadStack {
  name: string;
  frames: { file: string; line: number; func: string; code: string; lib: boolean }[];
}

/** Most threads, and frames per thread, a stack answer may hold. */
export const STACK_MAX_THREADS = 64;
export const STACK_MAX_FRAMES = 64;

/** Why a queue or lock request failed; mapped to Python's exceptions by the runtime. */
export type WaitFailure = 'Empty' | 'Full' | 'Timeout';

// ---- runtime -> broker ------------------------------------------------------------------------

export type UpMessage =
  /**
   * First message on every connection: binds the connection to a process, which the run lists
   * at this hello (both runtimes). `handle`: the Process object in the parent that this process
   * is. `after`: how many messages the parent had sent when it started this process; the hello
   * is handled once the monitor has read that many from the parent (core/broker/sequencer.ts),
   * so that what the parent saw first (a sibling's exit) is logged first.
   */
  | { k: 'hello'; pid: number; ppid: number; name: string; daemon: boolean; handle?: string; after?: number }
  /** A Process object was constructed here (not started): the run lists it as "created". */
  | { k: 'created'; handle: string; name: string; daemon: boolean }
  /**
   * A parent reports a child it just started (pid known synchronously from spawn). The child is
   * listed at its own hello; this names it should it die before it says one.
   */
  | { k: 'spawned'; pid: number; name: string; daemon: boolean; handle?: string }
  /** A Process object was closed (its members now raise). */
  | { k: 'closed'; handle: string }
  /** Answer to `stk`: where each thread of this process is now (the Python shim). */
  | { k: 'stkres'; rid: Rid; threads: WireThreadStack[] }
  /** Answer to a control: Python's result (`None`) or its error, as text. */
  | { k: 'ctlres'; rid: Rid; ok: boolean; text: string; exitcode: number | null; alive: boolean }
  /**
   * A parent reports how its child ended: Python's exitcode (negative signal number). Handled
   * once the child's own connection is read to its end: what the parent does next comes after
   * everything the child did.
   */
  | { k: 'exited'; pid: number; exitcode: number }
  /**
   * A process reports its own exit code from its exit handler (signals cannot be self-reported);
   * optionally the CPU time it used (s, user + system) and its peak resident size (bytes), which
   * nobody can read once its parent has reaped it.
   */
  | { k: 'bye'; exitcode: number; cpu?: number; maxrss?: number }
  /** The scenario could not be loaded, or its main raised: one line for the run's end reason. */
  | { k: 'fatal'; message: string }
  | { k: 'warn'; message: string }
  /** A Pool worker finished a task: its running totals (finished, and of those, raised). */
  | { k: 'task'; done: number; failed: number }
  /** A chunk of stdout (s = 0) or stderr (s = 1); the broker splits lines per process. */
  | { k: 'out'; s: 0 | 1; text: string }
  | { k: 'qnew'; q: string; maxsize: number }
  /** Without rid: an unbounded put, which never blocks and needs no answer. */
  | { k: 'put'; q: string; v: Uint8Array; rid?: Rid; block?: boolean; timeout?: number | null }
  /**
   * Consecutive unbounded puts to one queue, in order: one message, each item still one put.
   * On the wire the items travel packed into one buffer (see packItems).
   */
  | { k: 'puts'; q: string; vs?: Uint8Array[]; pack?: Uint8Array }
  /**
   * `max` > 1 asks for a lease: extra items kept by the consumer and acknowledged as it gets them.
   * `prefetch`: the consumer still holds leased items and asks for the next batch early; every
   * item is leased (none is a get yet), and an empty queue answers at once with none.
   */
  | { k: 'get'; rid: Rid; q: string; block: boolean; timeout: number | null; max: number; prefetch?: boolean }
  /** The consumer got n more items from its lease. */
  | { k: 'ack'; q: string; n: number }
  /** Answer to a recall: the consumer gives back its n unconsumed leased items. */
  | { k: 'ret'; q: string; n: number }
  | { k: 'qsize'; rid: Rid; q: string }
  /** A Lock, or a semaphore of `kind` starting at `value`. */
  | { k: 'lnew'; l: string; kind?: LockKind; value?: number }
  | { k: 'acq'; rid: Rid; l: string; block: boolean; timeout: number | null }
  /** With `rid` (a semaphore's release): answered, refused past a bounded semaphore's value. */
  | { k: 'rel'; l: string; rid?: Rid }
  /** Every task of this process waits for the lent Lock `l`, which it holds itself: they never go on. */
  | { k: 'stuck'; l: string }
  /** A Condition (with its Lock's id), an Event, or a Barrier of `parties`. */
  | { k: 'snew'; s: string; kind: SyncKind; lock?: string; parties?: number }
  /**
   * Waits on a Condition, Event or Barrier; answered when it lets go (a Barrier's `n`: the index),
   * Timeout, or Error. `at`: run time by the process's clock, as its lent locks' operations are
   * stamped (a Condition's wait and its lock's release keep their order in the log).
   */
  | { k: 'swait'; rid: Rid; s: string; timeout: number | null; at?: number }
  /** notify(n) (n < 0: notify_all), set, clear, abort, reset; `at` as for swait. */
  | { k: 'sop'; s: string; op: SyncWireOp; n?: number; at?: number }
  /** An Event's is_set(), a Barrier's n_waiting or broken, a semaphore's get_value(): answered with `n`. */
  | { k: 'sget'; rid: Rid; s: string; what: 'set' | 'waiting' | 'broken' | 'value' }
  /** A Manager's shared object; `v`: its first contents (a dict's as key, value, key, value…). */
  | { k: 'shnew'; o: string; kind: SharedKind; v?: Uint8Array[] }
  /** A call on a Manager's shared object, by its Python method name (`__getitem__`, `append`…). */
  | { k: 'sh'; rid: Rid; o: string; m: string; key?: Uint8Array; i?: number; name?: string; v?: Uint8Array[] }
  /**
   * Operations on a lock lent to this process, done without asking: `ops` has one letter per
   * operation (q request, a acquire, r release, t timeout), `at` its run time (ms).
   */
  | { k: 'lops'; l: string; ops: string; at: number[] }
  /** Gives a lent lock back, released (its last release was in `lops`). */
  | { k: 'lret'; l: string }
  /** Answer to a recall while the lock is held: it comes back at the release. */
  | { k: 'lheld'; l: string }
  /**
   * A queue operation already done by a reporting runtime (the Python shim), which keeps its
   * queues itself: the broker counts depth from puts and gets. `at`: run time (ms) by the
   * process's clock (ENV_T0). `maxsize` with `create` (0: unbounded).
   */
  | { k: 'qrep'; q: string; op: QueueReportOp; maxsize?: number; at: number; side?: 'get' | 'put' }
  /**
   * A lock operation already done by a reporting runtime: `request` before a blocking wait
   * (`timed`: with a timeout), `create` of a semaphore with its `kind` and `value`, `error` of a
   * refused release with Python's words.
   */
  | { k: 'lrep'; l: string; op: LockReportOp; at: number; timed?: boolean; kind?: LockKind; value?: number; error?: string }
  /** A Condition, Event or Barrier operation already done by a reporting runtime (see SyncReportOp). */
  | { k: 'srep'; s: string; kind: SyncKind; op: SyncReportOp; at: number; n?: number; lock?: string; parties?: number }
  /** A Manager's shared object made (`op` create, with its `kind`), or a call on it (`m`), by a reporting runtime. */
  | { k: 'shrep'; o: string; kind?: SharedKind; op?: 'create'; m?: string; at: number }
  | OpsMessage
  | ProfMessage
  | WaitMessage;

/**
 * A batch of profile samples (a profiled run, ENV_PROFILE). Frames and stacks are interned by the
 * process: `f` adds frames [function, file, line, library 0|1] to its table from index `fb` on,
 * `s` adds stacks [parent stack or -1, frame] from `sb` on (a stack is its parent plus one frame,
 * outermost first), `th` names threads [index, name]. Sample i was taken in thread `ti[i]` with
 * stack `st[i]`; `c[i]` is the share of the time since that thread's previous sample that it was
 * on a CPU, in ninths ('0' none, '9' all); its time is the sum of `d[0..i]` microseconds of run
 * time (d[0]: since t = 0, ENV_T0; the rest since the sample before).
 */
export interface ProfMessage {
  k: 'prof';
  fb: number;
  f: WireFrame[];
  sb: number;
  s: [number, number][];
  th: [number, string][];
  d: number[];
  ti: number[];
  st: number[];
  c: string;
}

/** A frame of a profile sample: function, file, line, 1 when it is library code (Python's own, node:, packages). */
export type WireFrame = [string, string, number, number];

/** What a wait waits in: a lock's acquire, a queue's get or put, a process's join. */
export type WireWaitKind = 'acquire' | 'get' | 'put' | 'join';

/**
 * A wait that blocks, with the program's line that waits (`site`: file, line, function). `w`
 * numbers the process's waits; `obj` is the lock or queue, `target` the pid joined; `at` is run
 * time (ms) by the process's clock. `end` with `timeout`: it gave up.
 */
export type WaitMessage =
  | { k: 'wait'; op: 'begin'; w: number; kind: WireWaitKind; obj?: string; target?: number; at: number; site: [string, number, string] }
  | { k: 'wait'; op: 'end'; w: number; at: number; timeout?: boolean };

/** Most samples, frames or stacks one `prof` message may carry. */
export const PROF_MAX_ITEMS = 1 << 16;

/**
 * Lock and queue operations already done by a reporting runtime, packed (the Python shim's hot
 * path): `b` is base64 of little-endian int64 records, each `(code << 47) + stamp`, where
 * code = index << 4 | op (op: OpCode) and stamp = ns since ENV_T0. The shim makes a record with
 * ONE subtraction, so a stamp outside [0, 2^47) (39 h) carries into the code: `t`, a stamp (ns)
 * taken when the batch was sent, later than every record's and close to it, resolves that (see
 * decodeOps). `index` names an object in the connection's id table, which grows by `ids` at
 * `base` (its length so far) with the first records that use them.
 */
export interface OpsMessage {
  k: 'ops';
  t: number;
  b: string;
  ids: string[];
  base: number;
}

/** What the low three bits of a record say happened. */
export const OpCode = {
  LockRequest: 0,
  LockAcquire: 1,
  /** Taken at once: a request and its acquire with one stamp. */
  LockRequestAcquire: 2,
  LockRelease: 3,
  LockTimeout: 4,
  /** A non-blocking attempt that failed: a request and its timeout with one stamp. */
  LockRequestTimeout: 5,
  QueuePut: 6,
  QueueGet: 7,
  /** A blocking request with a timeout (never part of a deadlock). */
  LockRequestTimed: 8,
  /** A Condition, Event or Barrier wait begins (a Barrier: an arrival). */
  SyncWait: 9,
  /** It ended: notified, the event set, the barrier released. */
  SyncWoken: 10,
  /** It ended: the timeout passed (a Barrier's: it breaks). */
  SyncTimeout: 11,
  EventSet: 12,
  EventClear: 13,
  /** A Barrier's wait raised BrokenBarrierError. */
  SyncBroken: 14,
  /** A call on a Manager's shared object: the object's id in the table is `<object id>#<method>`. */
  SharedCall: 15,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Bits of a record's code that hold the op. */
export const OP_BITS = 4;
const OP_MASK = (1 << OP_BITS) - 1;
/** The object index of a record's code. */
export const opIndex = (code: number): number => code >>> OP_BITS;
/** The op of a record's code. */
export const opOf = (code: number): number => code & OP_MASK;

/** Objects one connection's id table may hold: codes stay below 2^15 (a record fits an int64). */
export const MAX_OP_OBJECTS = 1 << (15 - OP_BITS);

export type QueueReportOp = 'create' | 'put' | 'get' | 'wait' | 'woken' | 'timeout';
export type LockReportOp = 'create' | 'request' | 'acquire' | 'release' | 'timeout' | 'error';
export type SyncReportOp = 'create' | 'wait' | 'woken' | 'timeout' | 'notify' | 'set' | 'clear' | 'abort' | 'reset' | 'broken';
export type SyncWireOp = 'notify' | 'set' | 'clear' | 'abort' | 'reset';

/** The records of an `ops` message: stamps (run time, ms) and codes (index << OP_BITS | op). */
export interface OpRecords {
  readonly count: number;
  readonly at: Float64Array;
  readonly code: Int32Array;
}

const RECORD_BYTES = 8;
const STAMP_SPAN = 2 ** 47;
const HALF_SPAN = 2 ** 46;
const U32 = 2 ** 32;

/**
 * Decodes the records of a valid `ops` message, without BigInt: from the two halves of an int64
 * (high half signed), the low 47 bits are the stamp modulo 2^47 and the rest, arithmetically
 * shifted, the code plus its carry. The stamp is the one within 2^46 ns (19 h) of `t`. Every
 * step is exact in doubles (integers below 2^53). Python's split_record (_client.py) is the same.
 */
export function decodeOps(m: OpsMessage): OpRecords {
  const buf = Buffer.from(m.b, 'base64');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = buf.byteLength / RECORD_BYTES;
  const at = new Float64Array(count);
  const code = new Int32Array(count);
  const ref = m.t + HALF_SPAN;
  for (let i = 0, off = 0; i < count; i++, off += RECORD_BYTES) {
    const lo = view.getUint32(off, true);
    const hi = view.getInt32(off + 4, true);
    const stamp = (hi & 0x7fff) * U32 + lo;
    const wraps = Math.floor((ref - stamp) / STAMP_SPAN);
    code[i] = (hi >> 15) - wraps;
    at[i] = (stamp + wraps * STAMP_SPAN) / 1e6;
  }
  return { count, at, code };
}

/** Why records cannot be applied with an id table of `known` entries, or null when they can. */
export function checkOpRecords(records: OpRecords, known: number): string | null {
  const { code, count } = records;
  for (let i = 0; i < count; i++) {
    if (code[i] < 0 || opIndex(code[i]) >= known) return `record ${i} names object ${code[i] >> OP_BITS} of ${known}`;
  }
  return null;
}

/**
 * The records that name an object of `ids` (an empty id: one the sender's table skipped), and
 * why the others cannot be applied; null when all can.
 */
export function namedRecords(records: OpRecords, ids: readonly string[]): { why: string; kept: OpRecords } | null {
  const { at, code, count } = records;
  const named = (i: number) => code[i] >= 0 && opIndex(code[i]) < ids.length && ids[opIndex(code[i])] !== '';
  let first = -1;
  for (let i = 0; i < count && first === -1; i++) if (!named(i)) first = i;
  if (first === -1) return null;
  const keptAt: number[] = [];
  const keptCode: number[] = [];
  for (let i = 0; i < count; i++) {
    if (!named(i)) continue;
    keptAt.push(at[i]);
    keptCode.push(code[i]);
  }
  const why = `${count - keptAt.length} of ${count} records name no object (record ${first} names object ${code[first] >> OP_BITS} of ${ids.length})`;
  return { why, kept: { count: keptAt.length, at: Float64Array.from(keptAt), code: Int32Array.from(keptCode) } };
}

// ---- broker -> runtime ------------------------------------------------------------------------

export type DownMessage =
  /**
   * `lend`: the lock is lent: acquire and release it locally, report in `lops`, until recalled.
   * `waited`: the request blocked (it waited in the monitor's list before this answer).
   */
  | { k: 'ok'; rid: Rid; v?: Uint8Array[]; pack?: Uint8Array; n?: number; lend?: boolean; waited?: boolean }
  | { k: 'fail'; rid: Rid; why: WaitFailure | 'Error'; message?: string; waited?: boolean }
  /** Give back unconsumed leased items of this queue: another consumer needs them. */
  | { k: 'recall'; q: string }
  /** Give the lent lock back: another process asks for it. */
  | { k: 'lrecall'; l: string }
  /** Call a member of one of this process's Process objects, for the person at the window. */
  | { k: 'ctl'; rid: Rid; op: ControlOp; handle: string; timeout: number | null }
  /** Say where each of your threads is now (answered with `stkres`). */
  | { k: 'stk'; rid: Rid };

export type ControlOp = 'start' | 'join' | 'terminate' | 'kill' | 'close';

// ---- framing ----------------------------------------------------------------------------------

/**
 * Many queue items as one buffer: [u32 length][bytes]… Structured clone calls back into
 * JavaScript once per nested buffer; a stream of small items packed in one costs one call.
 */
export function packItems(items: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const it of items) size += 4 + it.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const it of items) {
    out.writeUInt32LE(it.length, off);
    out.set(it, off + 4);
    off += 4 + it.length;
  }
  return out;
}

/** The items of a pack, as views into it; throws on a malformed pack. */
export function unpackItems(pack: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength);
  const items: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new Error('truncated item pack');
    const len = buf.readUInt32LE(off);
    if (off + 4 + len > buf.length) throw new Error('truncated item pack');
    items.push(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return items;
}

/** The wire form of a message: many items travel packed. */
function wireForm(msg: UpMessage | DownMessage): UpMessage | DownMessage {
  if (msg.k === 'puts' && msg.vs && msg.vs.length > 1) return { k: 'puts', q: msg.q, pack: packItems(msg.vs) };
  if (msg.k === 'ok' && msg.v && msg.v.length > 1) {
    const { v, ...rest } = msg;
    return { ...rest, pack: packItems(v) };
  }
  return msg;
}

const HEADER = 5;

export function encodeFrame(msg: UpMessage | DownMessage, codec: Codec = Codec.V8): Buffer {
  const body = codec === Codec.V8 ? serialize(wireForm(msg)) : Buffer.from(JSON.stringify(msg), 'utf8');
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt32LE(body.length + 1, 0);
  frame[4] = codec;
  body.copy(frame, HEADER);
  return frame;
}

/** Largest frame accepted: a bigger length means a corrupt or hostile stream. */
export const MAX_FRAME = 256 * 1024 * 1024;

/**
 * Incremental frame decoder: feed it socket chunks, get whole messages in order. A frame split
 * across chunks is kept as the list of its pieces and joined ONCE, when the last piece is in:
 * joining the pending bytes on every 64 KiB chunk made one 32 MiB item cost 512 copies of up to
 * 32 MiB (seconds, with the broker's event loop blocked). Chunks that hold whole frames are never
 * copied.
 */
export class FrameDecoder {
  /** Pieces of the frame at the head, in order (views into the chunks they came in). */
  private pieces: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame at the head needs in all (its 4-byte length included); 0 until its length is in. */
  private need = 0;
  /** Codec of the last frame decoded: the broker answers a peer in the codec it speaks. */
  lastCodec: Codec = Codec.V8;

  /**
   * Frames whose length or codec make no sense throw: the stream cannot be read on. A frame whose
   * body does not decode goes to `onBadBody` when given (the frames after it are still whole);
   * without it, it throws too.
   */
  push(chunk: Buffer, onMessage: (msg: unknown) => void, onBadBody?: (err: Error) => void): void {
    let buf = chunk;
    if (this.buffered > 0) {
      this.pieces.push(chunk);
      this.buffered += chunk.length;
      if (this.need === 0 && this.buffered >= 4) this.need = frameSize(Buffer.concat(this.pieces, 4));
      if (this.need === 0 || this.buffered < this.need) return;
      buf = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.buffered);
      this.pieces = [];
      this.buffered = 0;
      this.need = 0;
    }
    let off = 0;
    while (buf.length - off >= HEADER) {
      const size = frameSize(buf, off);
      if (buf.length - off < size) break;
      const codec = buf[off + 4] as Codec;
      if (codec !== Codec.V8 && codec !== Codec.JSON) throw new Error(`unknown codec ${codec}`);
      const body = buf.subarray(off + HEADER, off + size);
      off += size;
      this.lastCodec = codec;
      let msg: unknown;
      try {
        msg = codec === Codec.V8 ? deserialize(body) : JSON.parse(body.toString('utf8'));
      } catch (err) {
        if (!onBadBody) throw err;
        onBadBody(err as Error);
        continue;
      }
      onMessage(msg);
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.pieces = [rest];
      this.buffered = rest.length;
      this.need = rest.length >= 4 ? frameSize(rest) : 0;
    }
  }
}

/** The whole size of the frame starting at `off` (4 + its length field); throws on a bad length. */
function frameSize(buf: Buffer, off = 0): number {
  const len = buf.readUInt32LE(off);
  if (len < 1 || len > MAX_FRAME) throw new Error(`bad frame length ${len}`);
  return 4 + len;
}

// ---- validation (the broker trusts nothing that crosses the socket) ---------------------------

const int = (v: unknown): v is number => Number.isInteger(v);
const str = (v: unknown): v is string => typeof v === 'string' && v.length <= 256;
const bool = (v: unknown): v is boolean => typeof v === 'boolean';
const timeout = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && v >= 0);
const bytes = (v: unknown): boolean => v instanceof Uint8Array;
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 of whole 8-byte records (padding included, no line breaks). */
function recordsBase64(v: unknown): boolean {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) return false;
  const pad = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  return ((v.length / 4) * 3 - pad) % RECORD_BYTES === 0;
}

function isOpsMessage(o: Record<string, unknown>): boolean {
  return (
    Number.isSafeInteger(o.t) &&
    recordsBase64(o.b) &&
    Array.isArray(o.ids) &&
    o.ids.every(str) &&
    int(o.base) &&
    (o.base as number) >= 0 &&
    (o.base as number) + o.ids.length <= MAX_OP_OBJECTS
  );
}

const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;

function isThreadStacks(v: unknown): v is WireThreadStack[] {
  if (!Array.isArray(v) || v.length > STACK_MAX_THREADS) return false;
  return v.every((t: unknown) => {
    if (typeof t !== 'object' || t === null) return false;
    const th = t as Record<string, unknown>;
    if (!text(th.name, 256) || !Array.isArray(th.frames) || th.frames.length > STACK_MAX_FRAMES) return false;
    return th.frames.every((f: unknown) => {
      if (typeof f !== 'object' || f === null) return false;
      const fr = f as Record<string, unknown>;
      return text(fr.file, 1024) && int(fr.line) && (fr.line as number) >= 0 && text(fr.func, 256) && text(fr.code, 1024) && typeof fr.lib === 'boolean';
    });
  });
}

export function isUpMessage(m: unknown): m is UpMessage {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.k) {
    case 'hello':
      return (
        int(o.pid) &&
        int(o.ppid) &&
        str(o.name) &&
        bool(o.daemon) &&
        (o.handle === undefined || str(o.handle)) &&
        (o.after === undefined || (int(o.after) && (o.after as number) >= 0))
      );
    case 'created':
      return str(o.handle) && str(o.name) && bool(o.daemon);
    case 'spawned':
      return int(o.pid) && str(o.name) && bool(o.daemon) && (o.handle === undefined || str(o.handle));
    case 'closed':
      return str(o.handle);
    case 'stkres':
      return int(o.rid) && isThreadStacks(o.threads);
    case 'ctlres':
      return int(o.rid) && bool(o.ok) && typeof o.text === 'string' && (o.exitcode === null || int(o.exitcode)) && bool(o.alive);
    case 'exited':
      return int(o.pid) && int(o.exitcode);
    case 'bye':
      return int(o.exitcode) && (o.cpu === undefined || (finite(o.cpu) && o.cpu >= 0)) && (o.maxrss === undefined || (finite(o.maxrss) && o.maxrss >= 0));
    case 'task':
      return int(o.done) && int(o.failed) && o.failed >= 0 && o.done >= o.failed;
    case 'fatal':
    case 'warn':
      return typeof o.message === 'string';
    case 'out':
      return (o.s === 0 || o.s === 1) && typeof o.text === 'string';
    case 'qnew':
      return str(o.q) && int(o.maxsize);
    case 'put':
      return str(o.q) && bytes(o.v) && (o.rid === undefined || int(o.rid)) && timeout(o.timeout);
    case 'puts':
      return str(o.q) && ((Array.isArray(o.vs) && o.vs.every(bytes)) || (o.vs === undefined && bytes(o.pack)));
    case 'get':
      return (
        int(o.rid) && str(o.q) && bool(o.block) && timeout(o.timeout) && int(o.max) && (o.max as number) >= 1 && (o.prefetch === undefined || bool(o.prefetch))
      );
    case 'ack':
    case 'ret':
      return str(o.q) && int(o.n) && (o.n as number) >= 0;
    case 'qsize':
      return int(o.rid) && str(o.q);
    case 'lnew':
      return str(o.l) && (o.kind === undefined || isOneOf(LOCK_KINDS, o.kind)) && (o.value === undefined || (int(o.value) && o.value >= 0));
    case 'rel':
      return str(o.l) && (o.rid === undefined || int(o.rid));
    case 'lret':
    case 'lheld':
      return str(o.l);
    case 'lops':
      return (
        str(o.l) &&
        typeof o.ops === 'string' &&
        /^[qart]*$/.test(o.ops) &&
        Array.isArray(o.at) &&
        o.at.length === o.ops.length &&
        o.at.every((t) => typeof t === 'number' && Number.isFinite(t))
      );
    case 'acq':
      return int(o.rid) && str(o.l) && bool(o.block) && timeout(o.timeout);
    case 'qrep':
      return (
        str(o.q) &&
        ['create', 'put', 'get', 'wait', 'woken', 'timeout'].includes(o.op as string) &&
        (o.maxsize === undefined || int(o.maxsize)) &&
        finite(o.at) &&
        (['wait', 'woken', 'timeout'].includes(o.op as string) ? o.side === 'get' || o.side === 'put' : o.side === undefined)
      );
    case 'lrep':
      return (
        str(o.l) &&
        ['create', 'request', 'acquire', 'release', 'timeout', 'error'].includes(o.op as string) &&
        finite(o.at) &&
        (o.timed === undefined || bool(o.timed)) &&
        (o.kind === undefined || isOneOf(LOCK_KINDS, o.kind)) &&
        (o.value === undefined || (int(o.value) && o.value >= 0)) &&
        (o.error === undefined || str(o.error))
      );
    case 'srep':
      return (
        str(o.s) &&
        isOneOf(SYNC_KINDS, o.kind) &&
        ['create', 'wait', 'woken', 'timeout', 'notify', 'set', 'clear', 'abort', 'reset', 'broken'].includes(o.op as string) &&
        finite(o.at) &&
        (o.n === undefined || int(o.n)) &&
        (o.lock === undefined || str(o.lock)) &&
        (o.parties === undefined || (int(o.parties) && o.parties >= 1))
      );
    case 'shrep':
      return (
        str(o.o) &&
        finite(o.at) &&
        (o.op === 'create' ? isOneOf(SHARED_KINDS, o.kind) && o.m === undefined : o.op === undefined && str(o.m) && o.kind === undefined)
      );
    case 'stuck':
      return str(o.l);
    case 'snew':
      return str(o.s) && isOneOf(SYNC_KINDS, o.kind) && (o.lock === undefined || str(o.lock)) && (o.parties === undefined || (int(o.parties) && o.parties >= 1));
    case 'swait':
      return int(o.rid) && str(o.s) && timeout(o.timeout) && o.timeout !== undefined && (o.at === undefined || finite(o.at));
    case 'sop':
      return str(o.s) && ['notify', 'set', 'clear', 'abort', 'reset'].includes(o.op as string) && (o.n === undefined || int(o.n)) && (o.at === undefined || finite(o.at));
    case 'sget':
      return int(o.rid) && str(o.s) && ['set', 'waiting', 'broken', 'value'].includes(o.what as string);
    case 'shnew':
      return str(o.o) && isOneOf(SHARED_KINDS, o.kind) && (o.v === undefined || (Array.isArray(o.v) && o.v.every(bytes)));
    case 'sh':
      return (
        int(o.rid) &&
        str(o.o) &&
        str(o.m) &&
        (o.key === undefined || bytes(o.key)) &&
        (o.i === undefined || int(o.i)) &&
        (o.name === undefined || str(o.name)) &&
        (o.v === undefined || (Array.isArray(o.v) && o.v.every(bytes)))
      );
    case 'ops':
      return isOpsMessage(o);
    case 'prof':
      return isProfMessage(o);
    case 'wait':
      return isWaitMessage(o);
    default:
      return false;
  }
}

const nat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const list = (v: unknown): v is unknown[] => Array.isArray(v) && v.length <= PROF_MAX_ITEMS;

function isWireFrame(v: unknown): boolean {
  return Array.isArray(v) && v.length === 4 && text(v[0], 256) && text(v[1], 1024) && nat(v[2]) && (v[3] === 0 || v[3] === 1);
}

function isProfMessage(o: Record<string, unknown>): boolean {
  if (!nat(o.fb) || !nat(o.sb) || !list(o.f) || !list(o.s) || !list(o.th) || !list(o.d) || !list(o.ti) || !list(o.st)) return false;
  const n = o.d.length;
  return (
    o.ti.length === n &&
    o.st.length === n &&
    typeof o.c === 'string' &&
    o.c.length === n &&
    /^[0-9]*$/.test(o.c) &&
    o.d.every(nat) &&
    o.ti.every(nat) &&
    o.st.every(nat) &&
    o.f.every(isWireFrame) &&
    o.s.every((x) => Array.isArray(x) && x.length === 2 && Number.isSafeInteger(x[0]) && x[0] >= -1 && nat(x[1])) &&
    o.th.every((x) => Array.isArray(x) && x.length === 2 && nat(x[0]) && text(x[1], 256))
  );
}

const WAIT_KINDS: readonly string[] = ['acquire', 'get', 'put', 'join'];

function isWaitMessage(o: Record<string, unknown>): boolean {
  if (!nat(o.w) || !finite(o.at)) return false;
  if (o.op === 'end') return o.timeout === undefined || bool(o.timeout);
  if (o.op !== 'begin' || !WAIT_KINDS.includes(o.kind as string)) return false;
  const site = o.site;
  return (
    (o.obj === undefined || str(o.obj)) &&
    (o.target === undefined || int(o.target)) &&
    Array.isArray(site) &&
    site.length === 3 &&
    text(site[0], 1024) &&
    nat(site[1]) &&
    text(site[2], 256)
  );
}

export function isDownMessage(m: unknown): m is DownMessage {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.k) {
    case 'ok':
      return int(o.rid);
    case 'fail':
      return int(o.rid) && typeof o.why === 'string';
    case 'recall':
      return str(o.q);
    case 'lrecall':
      return str(o.l);
    case 'ctl':
      return int(o.rid) && str(o.handle) && ['start', 'join', 'terminate', 'kill', 'close'].includes(o.op as string) && timeout(o.timeout);
    case 'stk':
      return int(o.rid);
    default:
      return false;
  }
}
