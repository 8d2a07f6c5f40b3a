// One connected page of the browser shell: its commands go to the Backend, its pushes come back
// in one ordered stream, with backpressure (see server.ts): while the socket is congested,
// outgoing messages queue in order and consecutive `events` pushes of one run merge.

import type { WebSocket, RawData } from 'ws';
import { parseCommand, type PushMessage, type RunEvent } from '../api.ts';
import { toApiError, type Backend, type PushListener } from '../core/backend.ts';

/** A merged `events` push never carries more than this many events. */
const MERGE_MAX = 50_000;

/** One connection's outgoing state, for diagnostics and tests. */
export interface ConnectionStats {
  congested: boolean;
  bufferedAmount: number;
  queuedMessages: number;
  queuedEvents: number;
  /** Times this connection went from flowing to congested. */
  congestions: number;
}


type Outgoing = { kind: 'text'; text: string } | { kind: 'events'; runId: string; replay: boolean; chunks: RunEvent[][]; count: number };

export class Client {
  private readonly queue: Outgoing[] = [];
  private queuedEvents = 0;
  private congested = false;
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  private congestions = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ws: WebSocket,
    private readonly backend: Backend,
    private readonly limits: { highWater: number; queueLimit: number },
    private readonly onGone: (c: Client) => void,
  ) {
    this.unsubscribe = backend.subscribe(this.push);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.gone());
    ws.on('error', () => this.gone());
  }

  /** The Backend's push listener: a promise while congested, so replays wait for the drain. */
  readonly push: PushListener = (message: PushMessage) => {
    if (this.closed) return;
    if (message.type === 'events') this.enqueueEvents(message.runId, message.replay === true, message.events);
    else this.send({ kind: 'text', text: JSON.stringify({ push: message }) });
    if (this.congested || this.queue.length > 0) return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    return undefined;
  };

  terminate(): void {
    this.ws.terminate();
    this.gone();
  }

  stats(): ConnectionStats {
    return {
      congested: this.congested,
      bufferedAmount: this.ws.bufferedAmount,
      queuedMessages: this.queue.length,
      queuedEvents: this.queuedEvents,
      congestions: this.congestions,
    };
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.reply(null, { name: 'ProtocolError', message: 'messages are JSON text' });
    let msg: unknown;
    try {
      msg = JSON.parse(rawText(data));
    } catch {
      return this.reply(null, { name: 'ProtocolError', message: 'not valid JSON' });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.reply(null, { name: 'ProtocolError', message: 'a request is an object { id, command, args }' });
    }
    const { id, command, args } = msg as { id?: unknown; command?: unknown; args?: unknown };
    const validId = (typeof id === 'string' && id.length <= 64) || (Number.isSafeInteger(id) && (id as number) >= 0);
    if (!validId) return this.reply(null, { name: 'ProtocolError', message: 'a request needs an id: a string (<= 64) or a whole number' });
    const parsed = parseCommand(command, args);
    if (!parsed.ok) return this.reply(id as string | number, { name: 'CommandError', message: parsed.reason });
    this.backend.handle(parsed.command, parsed.args, this.push).then(
      (result) => this.send({ kind: 'text', text: JSON.stringify({ id, ok: true, result: result ?? null }) }),
      (err: unknown) => this.reply(id as string | number, toApiError(err)),
    );
  }

  private reply(id: string | number | null, error: { name: string; message: string }): void {
    this.send({ kind: 'text', text: JSON.stringify({ id, ok: false, error }) });
  }

  private enqueueEvents(runId: string, replay: boolean, events: RunEvent[]): void {
    if (!this.congested && this.queue.length === 0) {
      this.write(JSON.stringify({ push: { type: 'events', runId, events, ...(replay ? { replay: true } : {}) } }));
      return;
    }
    const last = this.queue[this.queue.length - 1];
    if (last && last.kind === 'events' && last.runId === runId && last.replay === replay && last.count + events.length <= MERGE_MAX) {
      last.chunks.push(events);
      last.count += events.length;
    } else {
      this.queue.push({ kind: 'events', runId, replay, chunks: [events], count: events.length });
    }
    this.queuedEvents += events.length;
    if (this.queuedEvents > this.limits.queueLimit) {
      // Never a silent loss: the page learns it was cut off, reconnects and replays from the log.
      this.ws.close(4008, 'too slow: events queued beyond the limit; reconnect to replay');
      this.gone();
    }
  }

  /** Replies and non-event pushes keep their place in the one ordered stream. */
  private send(out: Outgoing): void {
    if (this.closed) return;
    if (!this.congested && this.queue.length === 0 && out.kind === 'text') this.write(out.text);
    else this.queue.push(out);
  }

  private write(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    // The callback runs when this message has been handed to the kernel: the drain signal.
    this.ws.send(text, () => this.afterWrite());
    if (!this.congested && this.ws.bufferedAmount > this.limits.highWater) {
      this.congested = true;
      this.congestions++;
    }
  }

  private afterWrite(): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.limits.highWater / 4) return;
    this.congested = false;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.congested && !this.closed) {
      const out = this.queue.shift() as Outgoing;
      if (out.kind === 'text') {
        this.write(out.text);
      } else {
        this.queuedEvents -= out.count;
        const events = out.chunks.length === 1 ? out.chunks[0] : out.chunks.flat();
        this.write(JSON.stringify({ push: { type: 'events', runId: out.runId, events, ...(out.replay ? { replay: true } : {}) } }));
      }
    }
    if (this.queue.length === 0 && !this.congested) this.wakeDrainWaiters();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.queue.length = 0;
    this.queuedEvents = 0;
    // A replay waiting for this page must not wait forever.
    this.wakeDrainWaiters();
    this.onGone(this);
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
