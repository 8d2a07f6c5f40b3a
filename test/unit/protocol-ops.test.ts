import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockEvent, RunEvent, UnstampedEvent } from '../../src-main/api.ts';
import { Broker, type BrokerHost } from '../../src-main/core/broker/server.ts';
import { MAX_OP_OBJECTS, OP_BITS, OpCode, checkOpRecords, decodeOps, isUpMessage, type OpsMessage } from '../../src-main/protocol.ts';

// `ops` messages: the Python shim's compact lock and queue records (see resources/python/
// procscope_shim/_client.py). Everything that crosses the socket is checked; a message that is
// malformed is skipped with a warning naming its process, and the connection is read on.

const SPAN = 2n ** 47n;

/** A record as the shim makes it: time_ns() - (T0 - (code << 47)), i.e. (code << 47) + stamp. */
const record = (code: number, stampNs: bigint): bigint => (BigInt(code) << 47n) + stampNs;

function pack(records: readonly bigint[]): string {
  const buf = Buffer.alloc(records.length * 8);
  records.forEach((r, i) => buf.writeBigInt64LE(r, i * 8));
  return buf.toString('base64');
}

const ops = (records: readonly bigint[], t: number, ids: string[] = ['lock-1'], base = 0): OpsMessage => ({ k: 'ops', t, b: pack(records), ids, base });

describe('ops messages', () => {
  it('decode to codes and stamps (ms), across the 2^47 ns wrap and before t = 0', () => {
    const cases: { code: number; stamp: bigint; t: number }[] = [
      { code: (0 << OP_BITS) | OpCode.LockRequestAcquire, stamp: 1_234_567n, t: 2_000_000 },
      { code: (5 << OP_BITS) | OpCode.QueueGet, stamp: SPAN - 1n, t: 2 ** 47 + 1000 },
      // Past 39 hours the stamp carries into the code; `t` tells how many times.
      { code: (7 << OP_BITS) | OpCode.LockRelease, stamp: SPAN + 5n, t: 2 ** 47 + 1000 },
      { code: ((MAX_OP_OBJECTS - 1) << OP_BITS) | OpCode.QueueGet, stamp: 3n * SPAN + 42n, t: 3 * 2 ** 47 + 1e9 },
      // A clock stepped back before the run's start borrows from the code.
      { code: (2 << OP_BITS) | OpCode.LockTimeout, stamp: -1_000_000n, t: 0 },
      { code: OpCode.LockRequest, stamp: -5n, t: 0 },
    ];
    for (const c of cases) {
      const r = decodeOps(ops([record(c.code, c.stamp)], c.t));
      expect(r.count).toBe(1);
      expect([r.code[0], r.at[0]], `code ${c.code} stamp ${c.stamp}`).toEqual([c.code, Number(c.stamp) / 1e6]);
    }
    const many = decodeOps(ops([record(2, 10n), record(3, 20n), record(14, 30n)], 100));
    expect([...many.code]).toEqual([2, 3, 14]);
    expect([...many.at]).toEqual([10e-6, 20e-6, 30e-6]);
  });

  it('are checked whole before anything is applied', () => {
    const good = ops([record(2, 10n)], 100);
    expect(isUpMessage(good)).toBe(true);
    expect(isUpMessage({ ...good, b: '' })).toBe(true);
    const malformed: unknown[] = [
      { ...good, b: good.b.slice(0, -1) }, // not base64 (length)
      { ...good, b: Buffer.alloc(12).toString('base64') }, // 12 bytes: not whole records
      { ...good, b: `${good.b.slice(0, 4)} ${good.b.slice(5)}` }, // not base64 (a space)
      { ...good, b: 42 },
      { ...good, t: 1.5 },
      { ...good, t: undefined },
      { ...good, t: 2 ** 60 },
      { ...good, ids: 'lock-1' },
      { ...good, ids: [1] },
      { ...good, ids: ['x'.repeat(300)] },
      { ...good, base: -1 },
      { ...good, base: 0.5 },
      { ...good, base: MAX_OP_OBJECTS },
      { k: 'ops' },
    ];
    for (const m of malformed) expect(isUpMessage(m), JSON.stringify(m).slice(0, 120)).toBe(false);
  });

  it('name only objects their connection has named', () => {
    const r = decodeOps(ops([record(2, 10n), record((1 << OP_BITS) | 2, 20n)], 100));
    expect(checkOpRecords(r, 2)).toBeNull();
    expect(checkOpRecords(r, 1)).toBe('record 1 names object 1 of 1');
    // A stamp far from `t` resolves to a negative code: never an object.
    expect(checkOpRecords(decodeOps(ops([record(0, 10n)], 2 ** 47 + 1000)), 1)).toMatch(/^record 0 names object -1/);
  });
});

describe('the broker and ops messages', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-ops-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  async function broker(): Promise<{ broker: Broker; events: (RunEvent | UnstampedEvent)[]; gone: Promise<number> }> {
    const events: (RunEvent | UnstampedEvent)[] = [];
    let disconnected: (pid: number) => void = () => {};
    const gone = new Promise<number>((resolve) => (disconnected = resolve));
    const start = performance.now();
    const host: BrokerHost = {
      emit: (e) => events.push(e),
      emitStamped: (e) => events.push(e),
      hello: () => true,
      created: () => {},
      spawned: () => {},
      closed: () => {},
      exited: () => {},
      fatal: () => {},
      task: () => {},
      drained: (pid) => disconnected(pid),
      alive: () => true,
      vanished: () => {},
      now: () => performance.now() - start,
    };
    const b = new Broker(path.join(dir, `b${++n}.sock`), host);
    await b.listen();
    return { broker: b, events, gone };
  }

  /** A JSON frame, whatever its body: malformed messages included. */
  function frame(body: unknown): Buffer {
    const json = Buffer.from(JSON.stringify(body), 'utf8');
    const head = Buffer.alloc(5);
    head.writeUInt32LE(json.length + 1, 0);
    head[4] = 1;
    return Buffer.concat([head, json]);
  }

  async function send(b: Broker, messages: unknown[]): Promise<void> {
    const sock = net.createConnection(b.socketPath);
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.end(Buffer.concat(messages.map(frame)));
    await new Promise<void>((resolve) => sock.once('close', () => resolve()));
  }

  const hello = { k: 'hello', pid: 4242, ppid: 1, name: 'MainProcess', daemon: false };
  const warnings = (events: (RunEvent | UnstampedEvent)[]) => events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);

  it('applies records in stamp order, one table of ids per connection', async () => {
    const { broker: b, events, gone } = await broker();
    // Two batches, the second stamped earlier: the window puts them in order.
    await send(b, [hello, ops([record(OpCode.LockRelease, 3_000_000n)], 4e6, ['lock-7'], 0), ops([record(OpCode.LockRequestAcquire, 1_000_000n)], 4e6, [], 1)]);
    await gone;
    const locks = events.filter((e): e is LockEvent => e.type === 'lock');
    expect(locks.map((e) => [e.op, e.lock, e.pid, e.holder, e.t])).toEqual([
      ['create', 'lock-7', 4242, null, 1],
      ['request', 'lock-7', 4242, null, 1],
      ['acquire', 'lock-7', 4242, 4242, 1],
      ['release', 'lock-7', 4242, null, 3],
    ]);
    // Taken at once: the request never waited, so it does not list its process as a waiter.
    expect(locks[1].waiters).toEqual([]);
    expect(locks[2].waiters).toEqual([]);
    expect(warnings(events)).toEqual([]);
    await b.close();
  });

  it.each([
    ['an index it never named', [ops([record((1 << OP_BITS) | OpCode.LockRelease, 5n)], 100)], 'malformed ops: 1 of 1 records name no object (record 0 names object 1 of 1)'],
    ['ids out of step', [ops([record(OpCode.LockRelease, 5n)], 100, ['lock-1'], 3)], 'ops ids start at 3, expected 0'],
    ['records that are not whole', [{ ...ops([], 100), b: Buffer.alloc(12).toString('base64') }], 'malformed message ("ops")'],
  ])('skips %s with a warning naming the process, and reads on', async (_what, messages, why) => {
    const { broker: b, events, gone } = await broker();
    await send(b, [hello, ...messages, { k: 'warn', message: 'read on' }]);
    await gone;
    expect(warnings(events)).toEqual([`skipped a bad message from pid 4242: ${why}`, 'read on']);
    // Nothing of the bad message was applied: its records named no object the process had named.
    expect(events.filter((e) => e.type === 'lock' && e.op !== 'create')).toEqual([]);
    await b.close();
  });
});
