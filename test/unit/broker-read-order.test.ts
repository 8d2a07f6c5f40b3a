import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, UnstampedEvent } from '../../src-main/api.ts';
import { Broker, type BrokerHost } from '../../src-main/core/broker/server.ts';

// A Python child is listed once the monitor has read what its parent sent before starting it
// (the exit of the sibling it just joined travels on the parent's connection, the child's hello
// on its own). The child's hello says how many messages that was (`after`); the broker tells the
// session when that many are read from the parent, or the parent is gone. Real sockets, a real
// broker.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-read-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

type Hello = { pid: number; after: number | undefined };

async function broker() {
  const events: (RunEvent | UnstampedEvent)[] = [];
  const hellos: Hello[] = [];
  const listeners: (() => void)[] = [];
  const changed = () => listeners.splice(0).forEach((l) => l());
  const gone = new Set<number>();
  const exits: number[] = [];
  const host: BrokerHost = {
    emit: (e) => {
      events.push(e);
      changed();
    },
    emitAt: (e) => events.push(e),
    hello: (pid, _ppid, _name, _daemon, _handle, after) => {
      hellos.push({ pid, after });
      changed();
      return true;
    },
    created: () => {},
    spawned: () => {},
    closed: () => {},
    exited: (pid) => {
      exits.push(pid);
      changed();
    },
    fatal: () => {},
    task: () => {},
    disconnected: (pid) => {
      gone.add(pid);
      changed();
    },
    now: () => 0,
  };
  const b = new Broker(path.join(dir, `b${++n}.sock`), host);
  await b.listen();
  /** Resolves once `ok()` holds, looked at after each thing the broker reports. */
  const until = (ok: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const look = () => (ok() ? resolve() : listeners.push(look));
      look();
    });
  return { b, events, hellos, gone, exits, until };
}

function frame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt32LE(json.length + 1, 0);
  head[4] = 1;
  return Buffer.concat([head, json]);
}

async function connect(b: Broker): Promise<net.Socket> {
  const sock = net.createConnection(b.socketPath);
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  return sock;
}

const line = (text: string) => frame({ k: 'out', s: 0, text: `${text}\n` });
const outputs = (events: (RunEvent | UnstampedEvent)[]) => events.filter((e) => e.type === 'output').length;

describe('broker: reading a connection up to a count', () => {
  it('calls back once that many messages of the parent are handled, the hello included', async () => {
    const { b, events, hellos, until } = await broker();
    const parent = await connect(b);
    parent.write(frame({ k: 'hello', pid: 500, ppid: 1, name: 'MainProcess', daemon: false }));
    await until(() => hellos.length === 1);
    expect(hellos[0]).toEqual({ pid: 500, after: undefined });

    const calls: string[] = [];
    b.whenRead(500, 3, () => calls.push('3'));
    b.whenRead(500, 1, () => calls.push('1: already read'));
    expect(calls).toEqual(['1: already read']);

    parent.write(line('a'));
    await until(() => outputs(events) === 1);
    expect(calls, 'two of three read').toEqual(['1: already read']);
    parent.write(line('b'));
    await until(() => outputs(events) === 2);
    expect(calls).toEqual(['1: already read', '3']);

    // A child's hello carries the count; the host gets it.
    const child = await connect(b);
    child.end(frame({ k: 'hello', pid: 501, ppid: 500, name: 'Process-1', daemon: false, after: 3 }));
    await until(() => hellos.length === 2);
    expect(hellos[1]).toEqual({ pid: 501, after: 3 });
    parent.destroy();
    await b.close();
  });

  it('calls back when the parent is gone before sending that many, and at once for a pid not connected', async () => {
    const { b, hellos, gone, until } = await broker();
    const parent = await connect(b);
    parent.write(frame({ k: 'hello', pid: 600, ppid: 1, name: 'MainProcess', daemon: false }));
    await until(() => hellos.length === 1);
    const calls: string[] = [];
    b.whenRead(600, 50, () => calls.push('parent gone'));
    b.whenRead(999, 5, () => calls.push('not connected'));
    expect(calls).toEqual(['not connected']);
    parent.end();
    await until(() => gone.has(600));
    expect(calls).toEqual(['not connected', 'parent gone']);
    await b.close();
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['text', '3'],
  ])('refuses a hello whose count is %s', async (_what, after) => {
    const { b, events, hellos, until } = await broker();
    const child = await connect(b);
    child.write(frame({ k: 'hello', pid: 700, ppid: 1, name: 'x', daemon: false, after }));
    await until(() => events.some((e) => e.type === 'warning'));
    expect(hellos).toEqual([]);
    expect(events.find((e) => e.type === 'warning')).toMatchObject({ message: expect.stringMatching(/malformed message/) });
    child.destroy();
    await b.close();
  });
});

describe("broker: a parent's messages after it saw a child exit", () => {
  const texts = (events: (RunEvent | UnstampedEvent)[]) => events.flatMap((e) => (e.type === 'output' ? [`${e.pid}: ${e.text}`] : []));

  it("wait until the child's connection is read to the end (the lock it released, the item it put)", async () => {
    const { b, events, hellos, exits, until } = await broker();
    const parent = await connect(b);
    parent.write(frame({ k: 'hello', pid: 800, ppid: 1, name: 'MainProcess', daemon: false }));
    const child = await connect(b);
    child.write(frame({ k: 'hello', pid: 801, ppid: 800, name: 'Process-1', daemon: false }));
    await until(() => hellos.length === 2);

    // One chunk: the exit report and what the parent did next.
    parent.write(Buffer.concat([frame({ k: 'exited', pid: 801, exitcode: 0 }), line('after join')]));
    await until(() => exits.includes(801));
    expect(texts(events), 'held back while the child is still being read').toEqual([]);

    child.end(line('last words'));
    await until(() => texts(events).length === 2);
    expect(texts(events)).toEqual(['801: last words', '800: after join']);
    parent.destroy();
    await b.close();
  });

  it('wait a bounded time for a child whose connection stays open, and are all handled if the parent goes first', async () => {
    const { b, events, hellos, exits, until } = await broker();
    const parent = await connect(b);
    parent.write(frame({ k: 'hello', pid: 900, ppid: 1, name: 'MainProcess', daemon: false }));
    const child = await connect(b);
    child.write(frame({ k: 'hello', pid: 901, ppid: 900, name: 'Process-1', daemon: false }));
    await until(() => hellos.length === 2);

    parent.write(Buffer.concat([frame({ k: 'exited', pid: 901, exitcode: 0 }), line('one')]));
    await until(() => exits.includes(901));
    expect(texts(events)).toEqual([]);
    // The child never hangs up: the parent goes on after a while.
    await until(() => texts(events).length === 1);
    expect(texts(events)).toEqual(['900: one']);

    // Waiting again, and the parent closes meanwhile: what it sent is still handled, in order.
    const other = await connect(b);
    other.write(frame({ k: 'hello', pid: 902, ppid: 900, name: 'Process-2', daemon: false }));
    await until(() => hellos.length === 3);
    parent.end(Buffer.concat([frame({ k: 'exited', pid: 902, exitcode: 0 }), line('two'), line('three')]));
    await until(() => texts(events).length === 3);
    expect(texts(events)).toEqual(['900: one', '900: two', '900: three']);
    child.destroy();
    other.destroy();
    await b.close();
  });
});
