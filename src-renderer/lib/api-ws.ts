// The browser's ProcscopeApi: the web shell's WebSocket, carrying `{ id, command, args }` out and
// `{ id, ok, result | error }` and `{ push }` back (src-main/web/server.ts). The renderer cannot
// tell it from Electron's preload object.
//
// The token. The printed URL carries it once (`/?token=…`). It is read here once, kept for this
// tab (sessionStorage: a reload still has it) and removed from the address bar, so it is not left
// in the history, a bookmark or a screenshot. The server also set it as an HttpOnly cookie, which
// is enough on its own; offering it as a `token.<token>` subprotocol makes the page work where
// cookies are blocked.
//
// Reconnects. A dropped connection is retried with exponential backoff (jittered, capped). After a
// reconnect the client calls `run.current`, whose replay restarts the run from its first event.
// Events this page already delivered are not delivered twice: the client counts, per run, the
// events it delivered since that run's first (`run`) event, and drops that many from the start of
// the reconnect replay, so listeners see one continuous stream (and a `run` push with the status).

import type { ApiError, CommandName, Commands, ProcscopeApi, PushMessage, RunEvent, RunStatus } from '../../src-main/api.ts';

const TOKEN_KEY = 'procscope.token';
const DEFAULT_TIMEOUT_MS = 30_000;
/** Commands that legitimately take long (a dialog, a big log, a join with a long timeout): no timeout. */
const UNTIMED: ReadonlySet<CommandName> = new Set<CommandName>(['run.export', 'runs.open', 'scenario.pick', 'process.join', 'run.stop']);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

type Listener = (msg: PushMessage) => void;

interface Pending {
  command: CommandName;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
  /** Runs synchronously when the reply arrives, before any later message is handled. */
  onReply?: (result: unknown) => void;
}

type ServerMessage = { id: string | number | null; ok: true; result: unknown } | { id: string | number | null; ok: false; error: ApiError } | { push: PushMessage };

let tokenTaken = false;
let tokenValue: string | null = null;

/** The token from the page's URL (once; then removed from the address bar), or this tab's saved one. */
export function pageToken(): string | null {
  if (tokenTaken) return tokenValue;
  tokenTaken = true;
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    params.delete('token');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // storage disabled: the cookie still works
    }
    tokenValue = fromUrl;
  } else {
    try {
      tokenValue = sessionStorage.getItem(TOKEN_KEY);
    } catch {
      tokenValue = null;
    }
  }
  return tokenValue;
}

function apiError(e: ApiError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export interface WsApiOptions {
  /** Default: `ws://${location.host}/ws`. */
  url?: string;
  /** Default: pageToken(). */
  token?: string | null;
  timeoutMs?: number;
}

export class WsApi implements ProcscopeApi {
  private readonly url: string;
  private readonly token: string | null;
  private readonly timeoutMs: number;
  private ws: WebSocket | null = null;
  private open = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests made while disconnected, sent on (re)connect. */
  private outbox: { id: number; text: string }[] = [];
  private readonly listeners = new Set<Listener>();
  private attempts = 0;
  private everOpened = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Per run: events delivered in order since its `run` event (null: joined midway, unknown). */
  private readonly delivered = new Map<string, number | null>();
  /** After a reconnect: how many of this run's replayed events the listeners already have. */
  private resume: { runId: string; skip: number; seen: number } | null = null;
  /** Reconnected, run.current asked and not answered yet. */
  private awaitingReplay = false;

  constructor(opts: WsApiOptions = {}) {
    this.url = opts.url ?? `ws://${location.host}/ws`;
    this.token = opts.token === undefined ? pageToken() : opts.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connect();
  }

  call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    return this.request(command, args) as Promise<Commands[C]['result']>;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Closes the connection for good; pending calls fail. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.close(1000);
    this.failPending('the connection to procscope was closed');
  }

  // ---- requests ---------------------------------------------------------------------------

  private request(command: CommandName, args: unknown, onReply?: (result: unknown) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the connection to procscope was closed'));
    const id = this.nextId++;
    const text = JSON.stringify({ id, command, args: args ?? {} });
    return new Promise((resolve, reject) => {
      const timer = UNTIMED.has(command)
        ? null
        : setTimeout(() => {
            this.pending.delete(id);
            this.outbox = this.outbox.filter((m) => m.id !== id);
            const e = new Error(`${command}: no answer from procscope within ${Math.round(this.timeoutMs / 1000)} s`);
            e.name = 'TimeoutError';
            reject(e);
          }, this.timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer, onReply });
      // OPEN is 1 on every WebSocket; a closing socket would lose the request.
      if (this.open && this.ws && this.ws.readyState === 1) this.ws.send(text);
      else this.outbox.push({ id, text });
    });
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      // Requests not sent yet can wait for the next connection; sent ones may or may not have run.
      if (!this.closed && this.outbox.some((m) => m.id === id)) continue;
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      const e = new Error(`${p.command}: ${message}`);
      e.name = 'ConnectionError';
      p.reject(e);
    }
    if (this.closed) this.outbox = [];
  }

  // ---- connection -------------------------------------------------------------------------

  private connect(): void {
    if (this.closed) return;
    const protocols = this.token ? ['procscope', `token.${this.token}`] : ['procscope'];
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, protocols);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === 'string') this.onMessage(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => this.onClose(ws, ev.code);
    // An error is always followed by close; the retry happens there.
    ws.onerror = () => undefined;
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.open = true;
    this.attempts = 0;
    const reconnect = this.everOpened;
    this.everOpened = true;
    const outbox = this.outbox;
    this.outbox = [];
    for (const m of outbox) ws.send(m.text);
    if (reconnect && this.listeners.size > 0) this.resubscribe();
  }

  /** After a reconnect: the current run from its start, minus what the listeners already have. */
  private resubscribe(): void {
    // Live pushes can reach the new connection before the server handles run.current: they are
    // from the middle of the run (what came during the drop is missing). The replay that follows
    // the reply covers them in order, so until the reply they are dropped.
    this.awaitingReplay = true;
    this.request('run.current', {}, (result) => {
      this.awaitingReplay = false;
      const status = result as RunStatus | null;
      if (!status) return;
      const had = this.delivered.get(status.runId);
      this.resume = had ? { runId: status.runId, skip: had, seen: 0 } : null;
      this.delivered.set(status.runId, 0);
      this.dispatch({ type: 'run', status });
    }).catch(() => {
      this.awaitingReplay = false;
    });
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.open = false;
    this.failPending('the connection to procscope was lost');
    if (this.closed) return;
    // 4008: the server cut us off for being slow; come back at once and replay.
    if (code === 4008) this.attempts = 0;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
    this.attempts++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  // ---- incoming ---------------------------------------------------------------------------

  private onMessage(text: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    if ('push' in msg) {
      this.onPush(msg.push);
      return;
    }
    if (typeof msg.id !== 'number') {
      // An error about a message the server could not read: nothing to match it with.
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (p.timer) clearTimeout(p.timer);
    if (msg.ok) {
      p.onReply?.(msg.result);
      p.resolve(msg.result);
    } else {
      p.reject(apiError(msg.error ?? { name: 'Error', message: 'unknown error' }));
    }
  }

  private onPush(push: PushMessage): void {
    if (push.type !== 'events') return this.dispatch(push);
    if (this.awaitingReplay && !push.replay) return;
    let events: RunEvent[] = push.events;
    if (events.length === 0) return;
    // A run's sequence (live from its start, or any replay) begins with its `run` event.
    if (events[0].type === 'run') this.delivered.set(push.runId, 0);
    const r = this.resume;
    if (r && r.runId === push.runId) {
      const drop = Math.max(0, Math.min(events.length, r.skip - r.seen));
      r.seen += events.length;
      if (r.seen >= r.skip) this.resume = null;
      if (drop > 0) events = events.slice(drop);
      const had = this.delivered.get(push.runId);
      if (had !== null && had !== undefined) this.delivered.set(push.runId, had + drop);
      if (events.length === 0) return;
    }
    const had = this.delivered.get(push.runId);
    this.delivered.set(push.runId, had === undefined || had === null ? null : had + events.length);
    this.dispatch(events === push.events ? push : { ...push, events });
  }

  private dispatch(msg: PushMessage): void {
    for (const l of [...this.listeners]) {
      try {
        l(msg);
      } catch (err) {
        // One failing listener must not starve the others, nor break the connection.
        console.error('procscope: a push listener failed', err);
      }
    }
  }
}

export function createWsApi(opts?: WsApiOptions): ProcscopeApi {
  return new WsApi(opts);
}
