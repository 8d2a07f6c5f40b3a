import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, UnstampedEvent } from '../../src-main/api.ts';
import { Broker, type BrokerHost } from '../../src-main/core/broker/server.ts';
import { Sequencer } from '../../src-main/core/broker/sequencer.ts';
import { StampOrder } from '../../src-main/core/broker/stamp-order.ts';

// The broker's sequencer (core/broker/sequencer.ts) on real sockets: each process's messages are
// handled in the order it sent them, and two facts that travel on another connection wait for
// what they follow. A child's hello (`after`: how many messages its parent had sent when it
// started it) is handled after that many of the parent's, and after the siblings started before
// it; a parent's report of a child's exit is handled after everything the child sent.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-read-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** Pids a test has declared dead (the kernel's word, for made-up pids). */
const dead = new Set<number>();

async function broker() {
  const events: (RunEvent | UnstampedEvent)[] = [];
  /** What the broker handed over, in order: `hello <pid>`, `<pid>: <line>`, `exit <pid>`, `gone <pid>`. */
  const seen: string[] = [];
  const listeners: (() => void)[] = [];
  const note = (s: string) => {
    seen.push(s);
    listeners.splice(0).forEach((l) => l());
  };
  const host: BrokerHost = {
    emit: (e) => {
      events.push(e);
      if (e.type === 'output') note(`${e.pid}: ${e.text}`);
      else if (e.type === 'warning') note(`warning: ${e.message}`);
    },
    emitStamped: (e) => events.push(e),
    hello: (pid) => {
      note(`hello ${pid}`);
      return true;
    },
    created: () => {},
    spawned: () => {},
    closed: () => {},
    exited: (pid, _code, reporter) => note(`${reporter === 'self' ? 'bye' : 'exit'} ${pid}`),
    fatal: () => {},
    task: () => {},
    drained: (pid) => note(`gone ${pid}`),
    // Made-up pids: alive unless a test says one died.
    alive: (pid) => !dead.has(pid),
    vanished: (pid) => note(`vanished ${pid}`),
    now: () => 0,
  };
  const b = new Broker(path.join(dir, `b${++n}.sock`), host);
  await b.listen();
  /** Resolves once `ok()` holds, looked at after each thing the broker hands over. */
  const until = (ok: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const look = () => (ok() ? resolve() : listeners.push(look));
      look();
    });
  return { b, events, seen, until };
}

function frame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt32LE(json.length + 1, 0);
  head[4] = 1;
  return Buffer.concat([head, json]);
}

/** Hangs up every socket, then closes the broker. */
async function closeAll(b: Broker, ...socks: net.Socket[]): Promise<void> {
  for (const s of socks) s.destroy();
  await b.close();
}

async function connect(b: Broker): Promise<net.Socket> {
  const sock = net.createConnection(b.socketPath);
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  return sock;
}

const hello = (pid: number, ppid: number, after?: number) => frame({ k: 'hello', pid, ppid, name: `p${pid}`, daemon: false, ...(after === undefined ? {} : { after }) });
const line = (text: string) => frame({ k: 'out', s: 0, text: `${text}\n` });
const spawned = (pid: number) => frame({ k: 'spawned', pid, name: `p${pid}`, daemon: false });

describe("the sequencer: a child's hello", () => {
  it("is handled once its parent's first `after` messages are, the hello included", async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    parent.write(hello(500, 1));
    await until(() => seen.includes('hello 500'));
    // The child speaks first: its parent had sent three messages when it started it.
    const child = await connect(b);
    child.write(Buffer.concat([hello(501, 500, 3), line('child speaks')]));
    parent.write(line('a'));
    await until(() => seen.includes('500: a'));
    expect(seen, 'two of three read: the child waits').toEqual(['hello 500', '500: a']);
    parent.write(line('b'));
    await until(() => seen.includes('501: child speaks'));
    expect(seen).toEqual(['hello 500', '500: a', '500: b', 'hello 501', '501: child speaks']);
    await closeAll(b, parent, child);
  });

  it('waits no longer once the parent is gone, and not at all when the parent is not connected', async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    parent.write(hello(600, 1));
    await until(() => seen.includes('hello 600'));
    const child = await connect(b);
    child.write(hello(601, 600, 50));
    const orphan = await connect(b);
    orphan.write(hello(602, 999, 5));
    await until(() => seen.includes('hello 602'));
    expect(seen, 'a parent that is not connected holds nothing back').not.toContain('hello 601');
    parent.end();
    await until(() => seen.includes('hello 601'));
    expect(seen.indexOf('gone 600')).toBeLessThan(seen.indexOf('hello 601'));
    await closeAll(b, child, orphan);
  });

  it('is handled after the siblings its parent started before it, whichever connects first', async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    // hello, then two children started one after the other (each `spawned` right after its start).
    parent.write(Buffer.concat([hello(700, 1), spawned(701), spawned(702)]));
    await until(() => seen.includes('hello 700'));
    const second = await connect(b);
    second.write(Buffer.concat([hello(702, 700, 2), line('second')]));
    const first = await connect(b);
    first.write(Buffer.concat([hello(701, 700, 1), line('first')]));
    await until(() => seen.includes('702: second'));
    expect(seen.filter((s) => s.startsWith('hello'))).toEqual(['hello 700', 'hello 701', 'hello 702']);
    await closeAll(b, parent, first, second);
  });

  it('does not wait for an older sibling whose hello was handled before its parent announced it', () => {
    // The Sequencer alone, with waits that never run out: what it holds stays held.
    type Msg = { k: 'hello'; pid: number; ppid: number; after: number } | { k: 'spawned'; pid: number } | { k: 'out'; text: string };
    const delivered: string[] = [];
    const seq: Sequencer<number, Msg> = new Sequencer<number, Msg>(
      {
        deliver: (inbox, m) => {
          delivered.push(m.k === 'out' ? `${inbox.pid}: ${m.text}` : `${m.k} ${m.pid}`);
          if (m.k === 'spawned') seq.announce(inbox, m.pid);
        },
        barrierOf: (_inbox, m) => (m.k === 'hello' ? { until: 'hello', pid: m.ppid, count: m.after, child: m.pid } : null),
        drained: () => {},
        waiting: () => {},
        alive: () => true,
        vanished: () => {},
      },
      new StampOrder(
        () => {},
        () => {},
        () => 0,
      ),
      1e9,
    );
    const inboxes = new Map<number, ReturnType<typeof seq.open>>();
    const say = (pid: number, m: Msg) => {
      const inbox = inboxes.get(pid) ?? seq.open(pid);
      inboxes.set(pid, inbox);
      if (m.k === 'hello') seq.claim(inbox, pid);
      seq.push(inbox, m);
    };
    say(720, { k: 'hello', pid: 720, ppid: 1, after: 1 });
    // A fast child (a forked manager server) says hello before its parent's `spawned` is read.
    say(721, { k: 'hello', pid: 721, ppid: 720, after: 1 });
    say(720, { k: 'spawned', pid: 721 });
    say(720, { k: 'spawned', pid: 722 });
    say(722, { k: 'hello', pid: 722, ppid: 720, after: 3 });
    say(722, { k: 'out', text: 'next' });
    expect(delivered).toEqual(['hello 720', 'hello 721', 'spawned 721', 'spawned 722', 'hello 722', '722: next']);
    seq.dispose();
  });

  it('does not wait for an older sibling that died before it connected: that one is listed in its place', async () => {
    const { b, seen, until } = await broker();
    dead.add(711);
    const parent = await connect(b);
    parent.write(Buffer.concat([hello(710, 1), spawned(711), spawned(712)]));
    await until(() => seen.includes('hello 710'));
    const second = await connect(b);
    second.write(Buffer.concat([hello(712, 710, 2), line('second')]));
    await until(() => seen.includes('712: second'));
    expect(seen).toEqual(['hello 710', 'vanished 711', 'hello 712', '712: second']);
    await closeAll(b, parent, second);
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['text', '3'],
  ])('is refused when its count is %s', async (_what, after) => {
    const { b, events, seen, until } = await broker();
    const child = await connect(b);
    child.write(frame({ k: 'hello', pid: 700, ppid: 1, name: 'x', daemon: false, after }));
    await until(() => events.some((e) => e.type === 'warning'));
    expect(seen.filter((s) => s.startsWith('hello'))).toEqual([]);
    expect(events.find((e) => e.type === 'warning')).toMatchObject({ message: expect.stringMatching(/malformed message/) });
    await closeAll(b, child);
  });
});

describe("the sequencer: a parent's messages after it saw a child exit", () => {
  const texts = (seen: string[]) => seen.filter((s) => /^\d+: /.test(s));

  it("wait until the child's connection is read to the end (the lock it released, the item it put)", async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    parent.write(hello(800, 1));
    const child = await connect(b);
    child.write(hello(801, 800));
    await until(() => seen.includes('hello 801'));

    // One chunk: the exit report and what the parent did next.
    parent.write(Buffer.concat([frame({ k: 'exited', pid: 801, exitcode: 0 }), line('after join')]));
    child.write(line('still talking'));
    await until(() => seen.includes('801: still talking'));
    expect(seen, 'the exit is held back while the child is still being read').not.toContain('exit 801');

    child.end(line('last words'));
    await until(() => seen.includes('800: after join'));
    expect(seen.slice(seen.indexOf('801: last words'))).toEqual(['801: last words', 'gone 801', 'exit 801', '800: after join']);
    await closeAll(b, parent);
  });

  it('wait a bounded time for a child whose connection stays open, and are all handled if the parent goes first', async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    parent.write(hello(900, 1));
    const child = await connect(b);
    child.write(hello(901, 900));
    await until(() => seen.includes('hello 901'));

    parent.write(Buffer.concat([frame({ k: 'exited', pid: 901, exitcode: 0 }), line('one')]));
    // The child never hangs up: the parent goes on after a while.
    await until(() => texts(seen).length === 1);
    expect(texts(seen)).toEqual(['900: one']);

    // Waiting again, and the parent closes meanwhile: what it sent is still handled, in order.
    const other = await connect(b);
    other.write(hello(902, 900));
    await until(() => seen.includes('hello 902'));
    parent.end(Buffer.concat([frame({ k: 'exited', pid: 902, exitcode: 0 }), line('two'), line('three')]));
    await until(() => texts(seen).length === 3);
    expect(texts(seen)).toEqual(['900: one', '900: two', '900: three']);
    await closeAll(b, child, other);
  });

  it('go on after one turn when the child never connected', async () => {
    const { b, seen, until } = await broker();
    const parent = await connect(b);
    parent.write(Buffer.concat([hello(950, 1), frame({ k: 'exited', pid: 951, exitcode: -9 }), line('next')]));
    await until(() => seen.includes('950: next'));
    expect(seen).toEqual(['hello 950', 'exit 951', '950: next']);
    await closeAll(b, parent);
  });
});

describe('the broker: one bad message costs nothing but itself', () => {
  it('skips a message it cannot take, says so naming the process, and reads the connection on', async () => {
    const { b, seen, until } = await broker();
    const p = await connect(b);
    p.write(
      Buffer.concat([
        hello(1000, 1),
        line('before'),
        frame({ k: 'exited', pid: 1001, exitcode: 'some text' }),
        Buffer.concat([Buffer.from([6, 0, 0, 0, 1]), Buffer.from('{nope')]),
        line('after'),
      ]),
    );
    await until(() => seen.includes('1000: after'));
    expect(seen).toEqual([
      'hello 1000',
      '1000: before',
      'warning: skipped a bad message from pid 1000: malformed message ("exited")',
      expect.stringMatching(/^warning: skipped a bad message from pid 1000: unreadable message: /),
      '1000: after',
    ]);
    await closeAll(b, p);
  });

  it('drops a connection whose frames cannot be read any more, after what it sent before', async () => {
    const { b, seen, until } = await broker();
    const p = await connect(b);
    p.write(Buffer.concat([hello(1100, 1), line('before'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), line('never')]));
    await until(() => seen.includes('gone 1100'));
    expect(seen).toEqual(['hello 1100', '1100: before', expect.stringMatching(/^warning: broker dropped a connection from pid 1100: unreadable message: bad frame length/), 'gone 1100']);
    await b.close();
  });
});
