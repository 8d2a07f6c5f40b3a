// A write to a peer that has gone fails (EPIPE) and Node destroys the socket at once: what the
// peer wrote before it went, still unread (the broker pauses a connection while its reports wait
// their turn), must be read first. Real sockets, no mocks.

import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readBeforeDestroy } from '../../src-main/core/broker/server.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The bytes the server side read from a peer that wrote `last` and closed while paused. */
async function lastWords(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-rbd-'));
  dirs.push(dir);
  const where = path.join(dir, 's.sock');
  const got: Buffer[] = [];
  let server: net.Server | null = null;
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer((socket) => {
      server?.close();
      const read = (chunk: Buffer) => got.push(chunk);
      socket.on('data', read);
      socket.on('error', () => {});
      readBeforeDestroy(socket, read);
      socket.pause(); // as the broker's sequencer does while a connection's reports wait
      resolve(socket);
    });
  });
  await new Promise<void>((resolve) => server?.listen(where, resolve));
  const peer = net.connect(where);
  const socket = await accepted;
  // The peer's last words, then it goes with the server's message unread.
  await new Promise<void>((resolve) => peer.write('release; bye', () => resolve()));
  await new Promise<void>((resolve) => socket.write('recall', () => resolve()));
  peer.destroy();
  await new Promise<void>((resolve) => peer.on('close', () => resolve()));
  // The server writes again (a reply): the peer is gone.
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    const again = () => socket.write('more', (err) => (err ? undefined : setImmediate(again)));
    again();
  });
  return Buffer.concat(got).toString();
}

describe('a broker connection whose peer has gone', () => {
  it('reads what the peer wrote before its socket goes for a failed write', async () => {
    // Without readBeforeDestroy this reads '' (Node destroys the paused socket unread).
    expect(await lastWords()).toBe('release; bye');
  });
});
