// The broker's gate, from outside: a real run, and a raw client on its socket that speaks the
// wire protocol as any process of the user could. Whatever it sends, it is turned away with a
// warning in the log, and the run goes on untouched.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, WarningEvent } from '../../src-main/api.ts';
import { isAlive } from '../../src-main/core/process-group.ts';
import type { Session } from '../../src-main/core/session.ts';
import { Codec, encodeFrame, MAX_FRAME } from '../../src-main/protocol.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { run as runScenario, scenarioFile, tmpRoot, waitFor } from '../helpers/run.ts';

const run = leavingNoSurvivors(runScenario);
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Says where the broker listens (a process of the run knows it), then waits to be stopped. */
const WAITER = scenarioFile(`
export default async function main(): Promise<void> {
  console.log('socket ' + process.env.PROCSCOPE_SOCKET);
  await new Promise(() => setInterval(() => undefined, 1 << 30));
}
`);

/** Connects, writes `bytes`, and resolves once the broker has closed the connection. */
function sendAndBeDropped(socketPath: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socketPath, () => c.write(bytes));
    c.on('error', () => undefined); // a reset is one way to be dropped
    c.on('close', () => resolve());
    c.setTimeout(20_000, () => reject(new Error('the broker kept a connection it should have dropped')));
  });
}

const json = (msg: object) => encodeFrame(msg as never, Codec.JSON);

function rawFrame(length: number, codec: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(length, 0);
  head[4] = codec;
  return Buffer.concat([head, body]);
}

describe("the broker's gate", () => {
  it('only its owner may connect: the socket is 0600 in a 0700 folder', async () => {
    await run(WAITER, {
      during: async (session, events) => {
        const socketPath = await socketOf(session, events);
        expect((fs.statSync(socketPath).mode & 0o777).toString(8)).toBe('600');
        expect((fs.statSync(path.dirname(socketPath)).mode & 0o777).toString(8)).toBe('700');
        await session.stop();
      },
    });
  });

  it('turns away a first message that is not hello, a hello for a pid outside the run, and unreadable frames; the run goes on', async () => {
    const cases: [string, Buffer, string][] = [
      ['a first message that is not hello', json({ k: 'out', s: 0, text: 'forged\n' }), 'first message must be hello'],
      ['a hello for a pid outside the run', json({ k: 'hello', pid: process.pid, ppid: 1, name: 'intruder', daemon: false }), `pid ${process.pid} does not descend from this run`],
      ['a message the protocol does not have', json({ k: 'nonsense' }), 'malformed message'],
      ['a frame of length 0', rawFrame(0, Codec.JSON, Buffer.alloc(0)), 'unreadable message: bad frame length 0'],
      ['a frame longer than any allowed', rawFrame(MAX_FRAME + 1, Codec.JSON, Buffer.from('{}')), `unreadable message: bad frame length ${MAX_FRAME + 1}`],
      ['a codec nobody speaks', rawFrame(3, 7, Buffer.from('{}')), 'unreadable message: unknown codec 7'],
      ['a JSON frame that is not JSON', rawFrame(6, Codec.JSON, Buffer.from('{oops')), 'unreadable message: '],
    ];
    const r = await run(WAITER, {
      refusals: 'expected',
      during: async (session, events) => {
        const socketPath = await socketOf(session, events);
        for (const [what, bytes, why] of cases) {
          const seen = events.length;
          await sendAndBeDropped(socketPath, bytes);
          const warning = await waitFor(session, events, (e): e is WarningEvent => e.type === 'warning' && events.indexOf(e) >= seen);
          expect(warning.message, what).toContain(`broker dropped a connection: ${why}`);
        }
        // Nothing of it reached the run: no process was added, no output forged, main still runs.
        expect(session.processes().map((p) => p.name)).toEqual(['MainProcess']);
        expect(isAlive(session.rootProcessPid)).toBe(true);
        expect(session.info.runId).toBeTruthy();
        await session.stop();
      },
    });
    expect(r.stdout().filter((l) => l.includes('forged'))).toEqual([]);
    expect(r.processes().map((p) => p.name)).toEqual(['MainProcess']);
    expect(r.logged.filter((e) => e.type === 'warning')).toHaveLength(cases.length);
  });
});

async function socketOf(session: Session, events: RunEvent[]): Promise<string> {
  const said = await waitFor(session, events, (e) => e.type === 'output' && e.text.startsWith('socket '));
  return said.type === 'output' ? said.text.slice('socket '.length) : '';
}
