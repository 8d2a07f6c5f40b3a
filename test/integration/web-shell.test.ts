// The web shell over real sockets: who may load the app and open the WebSocket, what the
// protocol answers, and that a run reaches the page as pushes. Node's fetch and the `ws` client
// stand in for a browser (they send whatever Origin and Host we tell them to, as an attacker would).

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage, RunEvent, RunStartedEvent } from '../../src-main/api.ts';
import { Backend, REPLAY_BATCH } from '../../src-main/core/backend.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { DownloadRegistry, startWebShell, type WebShell } from '../../src-main/web/server.ts';
import { scenarioFile, tmpRoot } from '../helpers/run.ts';
import { burstScenario } from '../helpers/scenarios.ts';

const home = path.join(tmpRoot, 'web-home');
const runsDir = path.join(home, 'runs');
const rendererDir = path.join(home, 'renderer');
const exportsDir = path.join(home, 'exports');
const SECRET = 'the secret outside the renderer folder';

let shell: WebShell;
let backend: Backend;
let base: string;
let port: number;
let origin: string;

beforeAll(async () => {
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.mkdirSync(runsDir, { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body{}');
  fs.writeFileSync(path.join(home, 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(home, 'secret.txt'), path.join(rendererDir, 'assets', 'link.txt'));
  const downloads = new DownloadRegistry();
  backend = new Backend({ shell: 'web', runsDir, exportsDir, settingsFile: path.join(home, 'settings.json'), saveExport: downloads.saveExport });
  shell = await startWebShell({ backend, rendererDir, downloads, highWaterBytes: 256 * 1024 });
  const url = new URL(shell.url);
  base = `${url.protocol}//${url.host}`;
  port = Number(url.port);
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await shell?.close();
  await backend?.dispose();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** A raw HTTP request: the path is sent exactly as given (fetch would normalise `..`). */
function raw(pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathAndQuery, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Reply {
  id: unknown;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

/** A page's connection: request/reply by id, and every push in order. */
class Page {
  readonly pushes: PushMessage[] = [];
  readonly replies: Reply[] = [];
  private nextId = 1;
  private readonly waiting = new Map<unknown, (r: Reply) => void>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { push?: PushMessage } & Reply;
      if (msg.push) {
        this.pushes.push(msg.push);
        return;
      }
      this.replies.push(msg);
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
  }

  call(command: string, args?: unknown): Promise<Reply> {
    const id = this.nextId++;
    return this.sendRaw(JSON.stringify({ id, command, args }), id);
  }

  sendRaw(text: string, id: unknown = null): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(text);
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface ConnectOptions {
  origin?: string | null;
  protocols?: string[];
  cookie?: string;
  host?: string;
  path?: string;
}

/** Opens the WebSocket; rejects with the HTTP status when the upgrade is refused. */
function connect(opts: ConnectOptions = {}): Promise<Page> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.Cookie = opts.cookie;
    if (opts.host) headers.Host = opts.host;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/ws'}`, opts.protocols ?? ['procscope', `token.${shell.token}`], {
      ...(opts.origin === null ? {} : { origin: opts.origin ?? origin }),
      headers,
    });
    ws.on('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      req.destroy();
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => resolve(new Page(ws)));
  });
}

async function refusedWith(p: Promise<Page>): Promise<number> {
  try {
    const page = await p;
    page.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('web shell: where it listens', () => {
  it('prints http://127.0.0.1:PORT/?token=… with a 32-byte base64url token', () => {
    expect(shell.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(shell.token, 'base64url').length).toBe(32);
  });

  it('refuses any host but 127.0.0.1', async () => {
    for (const host of ['0.0.0.0', 'localhost', '::', '192.168.1.2']) {
      await expect(startWebShell({ host: host as '127.0.0.1', backend, rendererDir }), host).rejects.toThrow('127.0.0.1 only');
    }
  });

  // Every address of this machine but loopback (IPv6 link-local ones with their interface).
  const others = Object.entries(os.networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => (a.family === 'IPv6' && a.scopeid ? `${a.address}%${name}` : a.address)),
  );
  it.skipIf(others.length === 0)(
    `is not reachable on the machine’s other addresses (${others.length > 0 ? others.join(', ') : 'skipped: this host has no address but loopback'})`,
    async () => {
      const attempt = (host: string, to: number) =>
        new Promise<string>((resolve) => {
          const s = net.connect({ host, port: to }, () => {
            s.destroy();
            resolve('connected');
          });
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
      for (const address of others) {
        // A server of our own on that address answers: a refusal below is the web shell's doing,
        // not an address this test cannot reach at all.
        const control = net.createServer((c) => c.destroy());
        await new Promise<void>((resolve, reject) => control.once('error', reject).listen(0, address, () => resolve()));
        const controlPort = (control.address() as net.AddressInfo).port;
        expect(await attempt(address, controlPort), `the control server on ${address}`).toBe('connected');
        control.close();
        expect(await attempt(address, port), `the web shell on ${address}:${port}`).toBe('ECONNREFUSED');
      }
    },
  );
});

describe('web shell: HTTP', () => {
  it('answers 403 without the token, or with a wrong one', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', `/?token=${shell.token.slice(0, -1)}x`, '/?token=']) {
      const r = await raw(p);
      expect(r.status, p).toBe(403);
      expect(r.body).not.toContain('<script');
    }
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await raw('/', { cookie: `procscope_${port}=wrong` })).status).toBe(403);
    // A cookie for another procscope on another port does not open this one.
    expect((await raw('/', { cookie: `procscope_${port + 1}=${shell.token}` })).status).toBe(403);
  });

  it('serves the page with the token, sets the HttpOnly SameSite=Strict cookie, and assets with the cookie', async () => {
    const page = await fetch(shell.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^procscope_${port}=${shell.token}; `));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0];

    const js = await fetch(`${base}/assets/app.js`, { headers: { cookie: pair } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log("app");');
    expect((await fetch(`${base}/assets/app.css`, { headers: { cookie: pair } })).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/assets/missing.js`, { headers: { cookie: pair } })).status).toBe(404);
  });

  it('sends the security headers on every kind of answer, and nothing that widens access', async () => {
    const cookie = { cookie: `procscope_${port}=${shell.token}` };
    const download = await connect().then(async (page) => {
      const reply = await page.call('run.export', { runId: (await finishedRun()).runId, format: 'jsonl' });
      page.close();
      return (reply.result as { url: string }).url;
    });
    const answers: [string, { status: number; headers: http.IncomingHttpHeaders }][] = [
      ['the page', await raw(`/?token=${shell.token}`)],
      ['an asset', await raw('/assets/app.js', cookie)],
      ['the icon it does not ship', await raw('/favicon.ico', cookie)],
      ['a missing file', await raw('/assets/missing.js', cookie)],
      ['a bad path', await raw('/%E0%A4%A', cookie)],
      ['no token', await raw('/')],
      ['another Host', await raw(`/?token=${shell.token}`, { host: `evil.example:${port}` })],
      ['the WebSocket path over plain HTTP', await raw('/ws', cookie)],
      ['a download', await raw(download, cookie)],
      ['a used download', await raw(download, cookie)],
    ];
    const post = await fetch(shell.url, { method: 'POST', body: 'x' });
    expect(answers.map(([what, r]) => `${what} ${r.status}`)).toEqual([
      'the page 200',
      'an asset 200',
      'the icon it does not ship 204',
      'a missing file 404',
      'a bad path 400',
      'no token 403',
      'another Host 403',
      'the WebSocket path over plain HTTP 426',
      'a download 200',
      'a used download 404',
    ]);
    const all = [...answers, ['a POST', { status: post.status, headers: Object.fromEntries(post.headers) }] as const];
    for (const [what, r] of all) {
      const h = r.headers;
      expect(h['x-content-type-options'], what).toBe('nosniff');
      expect(h['referrer-policy'], what).toBe('no-referrer');
      expect(h['x-frame-options'], what).toBe('DENY');
      expect(h['cross-origin-opener-policy'], what).toBe('same-origin');
      expect(h['cross-origin-resource-policy'], what).toBe('same-origin');
      expect(h['access-control-allow-origin'], `${what}: no CORS`).toBeUndefined();
      expect(h['x-powered-by'], what).toBeUndefined();
      const csp = new Map(
        String(h['content-security-policy'] ?? '')
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .filter((d) => d[0] !== '')
          .map((d): [string, string[]] => [d[0], d.slice(1)]),
      );
      expect(csp.get('default-src'), `${what}: CSP default-src`).toEqual(["'self'"]);
      expect(csp.get('script-src'), `${what}: scripts from the app only, no inline, no eval`).toEqual(["'self'"]);
      expect(csp.get('connect-src'), `${what}: connects to this server only`).toEqual(["'self'", `ws://127.0.0.1:${port}`]);
      expect(csp.get('frame-ancestors'), what).toEqual(["'none'"]);
      expect(csp.get('base-uri'), what).toEqual(["'none'"]);
      expect(csp.get('form-action'), what).toEqual(["'none'"]);
      expect(csp.get('style-src')?.[0], what).toBe("'self'");
      expect(csp.get('style-src'), `${what}: no eval in styles either`).not.toContain("'unsafe-eval'");
    }
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // Answers that carry the app or the run are never cached by the browser.
    for (const [what, r] of [answers[0], answers[1], answers[8]]) expect(r.headers['cache-control'], what).toBe('no-store');
  });

  it('sends a strict CSP and the other security headers on every answer', async () => {
    const csp =
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; ` +
      `connect-src 'self' ws://127.0.0.1:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
    for (const r of [await fetch(shell.url), await fetch(`${base}/`)]) {
      expect(r.headers.get('content-security-policy')).toBe(csp);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('never serves a file outside the renderer folder', async () => {
    const q = `?token=${shell.token}`;
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/link.txt',
      '/%00',
      '/%E0%A4%A',
    ]) {
      const r = await raw(p + q);
      expect([400, 403, 404], `${p} -> ${r.status}`).toContain(r.status);
      expect(r.body, p).not.toContain(SECRET);
    }
  });

  it('refuses another Host (a DNS-rebinding page) and methods other than GET/HEAD', async () => {
    expect((await raw(`/?token=${shell.token}`, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await raw(`/?token=${shell.token}`, { host: `localhost:${port}` })).status).toBe(403);
    const post = await fetch(shell.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
  });
});

describe('web shell: WebSocket', () => {
  it('refuses the upgrade without the token, with a wrong one, or with a foreign or missing Origin', async () => {
    expect(await refusedWith(connect({ protocols: ['procscope'] })), 'no token').toBe(403);
    expect(await refusedWith(connect({ protocols: ['procscope', 'token.nope'] })), 'wrong token').toBe(403);
    expect(await refusedWith(connect({ origin: 'http://evil.example' })), 'foreign origin').toBe(403);
    expect(await refusedWith(connect({ origin: `http://localhost:${port}` })), 'localhost origin').toBe(403);
    expect(await refusedWith(connect({ origin: `http://127.0.0.1:${port + 1}` })), 'other port').toBe(403);
    expect(await refusedWith(connect({ origin: null })), 'no origin').toBe(403);
    expect(await refusedWith(connect({ host: `evil.example:${port}` })), 'rebinding host').toBe(403);
    expect(await refusedWith(connect({ path: '/elsewhere' })), 'other path').toBe(404);
    expect(await refusedWith(connect({ protocols: ['procscope'], path: `/ws?token=${shell.token}` })), 'token in the query only').toBe(403);
  });

  it('accepts the token as subprotocol or cookie, with the right Origin; a command round trip works', async () => {
    const page = await connect();
    expect(page.ws.protocol, 'the server answers `procscope`, never echoes the token').toBe('procscope');
    const reply = await page.call('presets.list', {});
    expect(reply.ok).toBe(true);
    expect((reply.result as { id: string }[]).map((p) => p.id)).toContain('hello');
    page.close();

    const byCookie = await connect({ protocols: ['procscope'], cookie: `procscope_${port}=${shell.token}` });
    expect((await byCookie.call('app.info')).result).toMatchObject({ shell: 'web', runsDir });
    byCookie.close();
  });

  it('answers a bad message with an error and keeps the connection usable', async () => {
    const page = await connect();
    const unknown = await page.call('fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { name: 'CommandError', message: 'unknown command "fs.readFile"' } });
    const badArgs = await page.call('run.start', { scenario: 'hello', interval: 1 });
    expect(badArgs).toMatchObject({ ok: false, error: { message: 'run.start: invalid arguments' } });
    expect(await page.sendRaw('{not json')).toMatchObject({ id: null, ok: false, error: { name: 'ProtocolError' } });
    expect(await page.sendRaw('[1,2]')).toMatchObject({ id: null, ok: false });
    expect(await page.sendRaw(JSON.stringify({ command: 'app.info' }))).toMatchObject({ id: null, ok: false });
    const traversal = await page.call('runs.open', { runId: '../../etc/passwd' });
    expect(traversal.ok).toBe(false);
    const refused = await page.call('run.export', { runId: 'no-such-run', format: 'jsonl' });
    expect(refused).toMatchObject({ ok: false, error: { name: 'CommandError' } });
    expect(await page.call('app.info')).toMatchObject({ ok: true });
    expect(page.ws.readyState).toBe(WebSocket.OPEN);
    page.close();
  });

  it('closes a connection that sends more than 1 MiB in one message (others are unaffected)', async () => {
    const page = await connect();
    const other = await connect();
    const closed = new Promise<number>((resolve) => page.ws.on('close', (code) => resolve(code)));
    page.ws.send(JSON.stringify({ id: 1, command: 'app.info', args: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(await closed).toBe(1009);
    expect(await other.call('app.info')).toMatchObject({ ok: true });
    other.close();
  });
});

/**
 * A finished run of `hello` made through a page: the first test that needs one makes it, so that
 * each test also passes alone (vitest -t).
 */
let helloRun: Promise<{ runId: string; logPath: string; page: Page }> | null = null;
function finishedRun(): Promise<{ runId: string; logPath: string; page: Page }> {
  helloRun ??= (async () => {
    const page = await connect();
    const started = await page.call('run.start', { scenario: 'hello', interval: 100 });
    expect(started.ok, JSON.stringify(started.error)).toBe(true);
    const { runId, logPath } = started.result as { runId: string; logPath: string };
    await until('the ended status', () => page.pushes.some((m) => m.type === 'run' && m.status.runId === runId && m.status.state === 'ended'));
    return { runId, logPath, page };
  })();
  return helloRun;
}

describe('web shell: runs', () => {
  it("a run's events arrive as pushes, in order, equal to its log", async () => {
    helloRun = null; // this test watches its own run from the start
    const { runId, logPath, page } = await finishedRun();
    const events = page.pushes.flatMap((m) => (m.type === 'events' && m.runId === runId ? m.events : []));
    expect(events).toEqual(parseRunLogText(fs.readFileSync(logPath, 'utf8')).events);
    expect(page.pushes[0]).toMatchObject({ type: 'run', status: { runId, state: 'running' } });

    // A page that connects later asks for the current run: the reply comes first, then the replay.
    const late = await connect();
    const current = await late.call('run.current');
    expect(current.result).toMatchObject({ runId, state: 'ended' });
    await until('the replay', () => late.pushes.flatMap((m) => (m.type === 'events' ? m.events : [])).some((e) => e.type === 'end'));
    expect(late.pushes.flatMap((m) => (m.type === 'events' ? m.events : []))).toEqual(events);
    expect(page.pushes.filter((m) => m.type === 'events' && m.replay), 'the other page got no replay').toEqual([]);
    page.close();
    late.close();
  });

  it('an export download URL works once, with the token, and the file is then gone', async () => {
    const { runId, logPath } = await finishedRun();
    const page = await connect();
    const reply = await page.call('run.export', { runId, format: 'jsonl' });
    page.close();
    expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
    const url = (reply.result as { url: string }).url;
    expect(url).toMatch(/^\/download\/[A-Za-z0-9_-]+$/);

    expect((await fetch(`${base}${url}`)).status, 'no token: refused, and the download is not used up').toBe(403);
    const res = await fetch(`${base}${url}`, { headers: { cookie: `procscope_${port}=${shell.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${runId}.jsonl"; filename*=UTF-8''${runId}.jsonl`);
    expect(await res.text()).toBe(fs.readFileSync(logPath, 'utf8'));
    expect((await fetch(`${base}${url}?token=${shell.token}`)).status, 'a second time').toBe(404);
    await until('the temp file deletion', () => (backendExportFiles().length === 0 ? true : undefined), 5_000);
  });

  it('a slow page gets a replay paced to it: paused while congested, complete and in order after', async () => {
    // A 300k-event log (~20 MB): more than the loopback socket buffers hold.
    const bigId = '2000-01-01T00-00-00-000Z-big-000000';
    const bigPath = path.join(runsDir, `${bigId}.jsonl`);
    const total = 300_002;
    const start: RunStartedEvent = { t: 0, type: 'run', version: 1, scenario: 'big', startedAt: '2000-01-01T00:00:00.000Z', interval: 50, cwd: '/' };
    const lines = [JSON.stringify(start)];
    for (let i = 1; i < total - 1; i++) lines.push(JSON.stringify({ t: i, type: 'sample', pid: 1000 + (i % 7), cpu: i % 100, rss: 1_000_000 + i }));
    lines.push(JSON.stringify({ t: total - 1, type: 'end', reason: 'finished', exitcode: 0 }));
    fs.writeFileSync(bigPath, `${lines.join('\n')}\n`);

    const before = shell.stats().length;
    const page = await connect();
    let messages = 0;
    page.ws.on('message', () => messages++);
    page.ws.pause();
    const answer = page.call('runs.open', { runId: bigId });
    const mine = () => shell.stats()[before];
    await until('the connection to congest', () => mine()?.congested);
    // Congested: the replay waits for the drain instead of queueing the whole log in memory.
    // Over several turns of the backend's reading loop, the queue stays at one batch at most.
    for (let i = 0; i < 10; i++) {
      expect(mine().queuedEvents, 'while congested, at most one replay batch waits').toBeLessThanOrEqual(REPLAY_BATCH);
      await new Promise((r) => setImmediate(r));
    }
    page.ws.resume();
    const reply = await answer;
    expect(reply.result).toEqual({ runId: bigId, events: total });
    const got: RunEvent[] = page.pushes.flatMap((m) => (m.type === 'events' ? m.events : []));
    expect(got.length, 'every event arrived, before the reply').toBe(total);
    expect(got.every((e, i) => e.t === i), 'in order, none repeated').toBe(true);
    expect(messages).toBeLessThan(total / 1000);
    page.close();
  });

  it('a page stuck during a live run is cut off with 4008, never silently short; run.current gives it everything back', async () => {
    // ~16 MB of output lines in a couple of seconds (loopback buffers take ~4 MB of it); this
    // shell queues at most 100 events per page. The pauses let the lines reach the broker.
    const noisy = scenarioFile(`
export default async function main(): Promise<void> {
  const line = 'x'.repeat(8000);
  for (let i = 0; i < 2000; i++) {
    console.log(i + ' ' + line);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500));
}
`, 'noisy.ts');
    const tight = await startWebShell({ backend, rendererDir, highWaterBytes: 64 * 1024, queueLimitEvents: 100 });
    const tightPort = Number(new URL(tight.url).port);
    const open = (): Promise<Page> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${tightPort}/ws`, ['procscope', `token.${tight.token}`], { origin: `http://127.0.0.1:${tightPort}` });
        ws.on('open', () => resolve(new Page(ws)));
        ws.on('error', reject);
      });
    const fast = await open();
    const slow = await open();
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    slow.ws.pause();
    const started = await fast.call('run.start', { scenario: noisy });
    expect(started.ok, JSON.stringify(started.error)).toBe(true);
    const { runId: id, logPath: log } = started.result as { runId: string; logPath: string };
    await until('the slow page to be cut off', () => tight.stats().length === 1, 30_000);
    slow.ws.resume();
    const why = await closed;
    expect(why.code).toBe(4008);
    expect(why.reason).toContain('reconnect to replay');
    await until('the run to end', () => fast.pushes.some((m) => m.type === 'run' && m.status.state === 'ended'), 30_000);

    const logged = parseRunLogText(fs.readFileSync(log, 'utf8')).events;
    const of = (p: Page) => p.pushes.flatMap((m) => (m.type === 'events' && m.runId === id ? m.events : []));
    expect(of(fast), 'the page that kept up got every event').toEqual(logged);
    const partial = of(slow);
    expect(partial.length).toBeLessThan(logged.length);
    expect(partial, 'what the cut-off page got is an exact prefix: no gap').toEqual(logged.slice(0, partial.length));

    const again = await open();
    expect((await again.call('run.current')).result).toMatchObject({ runId: id, state: 'ended' });
    await until('the replay', () => of(again).length === logged.length, 30_000);
    expect(of(again)).toEqual(logged);
    fast.close();
    again.close();
    await tight.close();
  }, 120_000);
});

describe('the browser client (src-renderer/lib/api-ws.ts) against the real server', () => {
  /** What the page's WsApi needs from a browser: a WebSocket that sends the page's Origin. */
  const sockets: WebSocket[] = [];
  type ClientApi = import('../../src-main/api.ts').ProcscopeApi & { close(): void };
  let WsApi: new (o: { url: string; token: string | null; timeoutMs?: number }) => ClientApi;

  beforeAll(async () => {
    class BrowserWebSocket extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols, { origin });
        sockets.push(this);
      }
    }
    (globalThis as { WebSocket?: unknown }).WebSocket = BrowserWebSocket;
    // The renderer's code is type-checked by svelte-check (DOM libs); here it only runs. A
    // computed specifier keeps this Node-typed project from type-checking it without DOM types.
    const specifier = '../../src-renderer/lib/api-ws.ts';
    ({ WsApi } = (await import(specifier)) as { WsApi: typeof WsApi });
  });

  it('calls round-trip; refusals are thrown as Errors with the server name and message', async () => {
    const api = new WsApi({ url: `ws://127.0.0.1:${port}/ws`, token: shell.token });
    expect(await api.call('app.info', {})).toMatchObject({ shell: 'web' });
    const err = await api.call('run.export', { runId: 'no-such-run', format: 'csv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'CommandError', message: `no run no-such-run in ${runsDir}` });
    const bad = await api.call('run.start', { scenario: '' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'CommandError', message: 'run.start: invalid arguments' });
    api.close();
  });

  it('reconnects after a dropped connection and continues the run without losing or repeating an event', async () => {
    const burst = burstScenario();
    const api = new WsApi({ url: `ws://127.0.0.1:${port}/ws`, token: shell.token });
    const pushes: PushMessage[] = [];
    api.subscribe((m) => pushes.push(m));
    const first = sockets.length;
    const info = await api.call('run.start', { scenario: burst, interval: 50 });
    await until('some live events', () => pushes.some((m) => m.type === 'events' && m.runId === info.runId && m.events.length > 0));
    // The network drops: the browser sees the socket close without a close frame.
    sockets[first - 1].terminate();
    await until('the drop to be seen', () => sockets[first - 1].readyState === WebSocket.CLOSED);
    // A call made while disconnected waits for the new connection.
    expect(await api.call('app.info', {})).toMatchObject({ shell: 'web' });
    expect(sockets.length, 'it connected again').toBeGreaterThan(first);
    await until('the ended status', () => pushes.some((m) => m.type === 'run' && m.status.runId === info.runId && m.status.state === 'ended'), 30_000);

    const logged = parseRunLogText(fs.readFileSync(info.logPath, 'utf8')).events;
    const got = pushes.flatMap((m) => (m.type === 'events' && m.runId === info.runId ? m.events : []));
    expect(got.length, 'as many events as the log').toBe(logged.length);
    expect(got, 'the listener saw the log once, in order, across the reconnect').toEqual(logged);
    expect(pushes.some((m) => m.type === 'events' && m.replay), 'the missed part came from the replay').toBe(true);
    api.close();
  });
});

function backendExportFiles(): string[] {
  return fs.existsSync(exportsDir) ? fs.readdirSync(exportsDir) : [];
}
