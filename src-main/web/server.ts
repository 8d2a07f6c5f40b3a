// The web shell: the renderer in a browser, over HTTP + a WebSocket on 127.0.0.1 only. It carries
// commands to the Backend and pushes back; it decides nothing about runs itself.
//
// Who may talk to it. Any local process, and any web page the person visits, can reach a loopback
// port, so every request must prove it came from the page we printed:
// - a random 32-byte token is in the printed URL; the first load sets it as an HttpOnly,
//   SameSite=Strict cookie (named per port: cookies do not tell ports apart), so asset requests
//   and the upgrade carry it. The page may also offer it as a `token.<token>` WebSocket
//   subprotocol. Tokens are compared in constant time.
// - the Host header must be 127.0.0.1:PORT (a DNS-rebinding page sends its own host name), and
//   the upgrade's Origin must be http://127.0.0.1:PORT (a foreign page's WebSocket would carry the
//   cookie only if SameSite were lax, but Origin is the check browsers cannot be talked out of).
// - static files come only from the renderer folder (resolved, realpath'd, prefix-checked), with
//   a strict CSP; downloads are one-time random ids, token-checked too.
//
// Backpressure (per connection). Live events cannot be slowed at the source (real processes emit
// them), so they are never dropped either: while the socket's bufferedAmount is above HIGH_WATER,
// outgoing messages queue in order and consecutive `events` pushes of one run merge into larger
// ones; when ws reports the last write flushed, the queue drains in big messages. Replays (which
// the Backend can pace) wait for the drain through the promise the push listener returns. If a
// client stays stuck until QUEUE_LIMIT events are queued, it is disconnected (close code 4008,
// reason says why) rather than growing without bound: the page reconnects and `run.current`
// replays everything from the run log, so it still misses nothing.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { Backend, toApiError } from '../core/backend.ts';
import { packageRoot } from '../core/paths.ts';
import { DownloadRegistry } from './downloads.ts';
import { Client, type ConnectionStats } from './page-connection.ts';
import { cookieValue, digest, protocolToken, splitTarget, tokenMatches } from './tokens.ts';

export { DOWNLOAD_TTL_MS, DownloadRegistry } from './downloads.ts';
export type { ConnectionStats } from './page-connection.ts';

export interface WebShellOptions {
  /** 0 or absent: any free port. */
  port?: number;
  /** Only 127.0.0.1 is accepted: the shell never listens beyond this machine. */
  host?: '127.0.0.1';
  /** Default: a new Backend wired to this shell's downloads (closed with the shell). */
  backend?: Backend;
  /** The built renderer; default `<package>/out/renderer`. */
  rendererDir?: string;
  /** Where `saveExport` registers downloads; give the same one to your Backend's options. */
  downloads?: DownloadRegistry;
  /** Backpressure tuning (tests use small values): default HIGH_WATER and QUEUE_LIMIT. */
  highWaterBytes?: number;
  queueLimitEvents?: number;
}

export interface WebShell {
  url: string;
  token: string;
  /** The open connections' outgoing state. */
  stats(): ConnectionStats[];
  close(): Promise<void>;
}

/** Client messages above this are refused (ws closes the connection with 1009). */
export const MAX_CLIENT_MESSAGE = 1024 * 1024;
/** Above this many bytes waiting in the socket, outgoing messages queue and merge. */
export const HIGH_WATER = 4 * 1024 * 1024;
/** Queued events beyond this: the client is disconnected (it replays from the log on reconnect). */
export const QUEUE_LIMIT = 2_000_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

// ---------------------------------------------------------------------------------------------
// The shell

export async function startWebShell(opts: WebShellOptions = {}): Promise<WebShell> {
  const host = (opts.host as string | undefined) ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error(`the web shell listens on 127.0.0.1 only, not ${JSON.stringify(host)}`);
  const requestedPort = opts.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw new Error(`not a port: ${requestedPort}`);
  const rendererDir = path.resolve(opts.rendererDir ?? path.join(packageRoot(), 'out', 'renderer'));
  const rendererRoot = fs.realpathSync(rendererDir);
  if (!fs.existsSync(path.join(rendererRoot, 'index.html'))) {
    throw new Error(`the renderer is not built (${path.join(rendererRoot, 'index.html')} missing): run npx vite build`);
  }

  const downloads = opts.downloads ?? new DownloadRegistry();
  const ownsBackend = opts.backend === undefined;
  const backend = opts.backend ?? new Backend({ shell: 'web', saveExport: downloads.saveExport });
  const token = randomBytes(32).toString('base64url');
  const expected = digest(token);
  const clients = new Set<Client>();
  const limits = { highWater: opts.highWaterBytes ?? HIGH_WATER, queueLimit: opts.queueLimitEvents ?? QUEUE_LIMIT };

  const server = http.createServer();
  // Set once listening (the port is part of every check).
  let port = 0;
  let origin = '';
  let cookieName = '';
  let headers: Record<string, string> = {};

  const authorized = (req: http.IncomingMessage, query: URLSearchParams): 'query' | 'cookie' | null => {
    if (tokenMatches(expected, query.get('token'))) return 'query';
    if (tokenMatches(expected, cookieValue(req.headers.cookie, cookieName))) return 'cookie';
    return null;
  };

  const refuse = (res: http.ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${message}\n`);
  };

  server.on('request', (req, res) => {
    void handleRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, `procscope: ${toApiError(err).message}`);
      else res.destroy();
    });
  });

  const handleRequest = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.headers.host !== `127.0.0.1:${port}`) return refuse(res, 403, `procscope: open ${origin}/ (the address procscope printed)`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuse(res, 405, 'procscope: only GET and HEAD');
    }
    const { pathname, query } = splitTarget(req.url);
    const how = authorized(req, query);
    if (!how) return refuse(res, 403, 'procscope: this page needs the link with its token, as `procscope serve` printed it');
    if (how === 'query') {
      res.setHeader('Set-Cookie', `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (pathname.startsWith('/download/')) return serveDownload(req, res, pathname.slice('/download/'.length));
    if (pathname === '/ws') return refuse(res, 426, 'procscope: this is the WebSocket endpoint');
    return serveStatic(req, res, pathname);
  };

  const serveStatic = async (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return refuse(res, 400, 'procscope: bad path');
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return refuse(res, 400, 'procscope: bad path');
    const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded;
    const inside = (p: string) => p.startsWith(rendererRoot + path.sep);
    const file = path.resolve(rendererRoot, `.${path.posix.sep}${rel}`);
    if (!inside(file)) return refuse(res, 403, 'procscope: outside the app');
    let real: string;
    let st: fs.Stats;
    try {
      // Again after symlinks: a link inside the folder must not lead out of it.
      real = await fs.promises.realpath(file);
      if (!inside(real)) return refuse(res, 403, 'procscope: outside the app');
      st = await fs.promises.stat(real);
    } catch {
      // Browsers ask for an icon the app does not ship: "none", without an error in the console.
      if (rel === '/favicon.ico') return void res.writeHead(204, headers).end();
      return refuse(res, 404, 'procscope: not found');
    }
    if (!st.isFile()) return refuse(res, 404, 'procscope: not found');
    res.writeHead(200, {
      ...headers,
      'Content-Type': CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(real)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const serveDownload = async (req: http.IncomingMessage, res: http.ServerResponse, id: string): Promise<void> => {
    if (req.method !== 'GET' || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return refuse(res, 404, 'procscope: no such download');
    const d = downloads.take(id);
    if (!d) return refuse(res, 404, 'procscope: no such download (each link works once, for 10 minutes)');
    const done = () => fs.rm(d.file, { force: true }, () => undefined);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(d.file);
    } catch {
      done();
      return refuse(res, 404, 'procscope: the export is gone');
    }
    const ascii = d.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(st.size),
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(d.name)}`,
      'Cache-Control': 'no-store',
    });
    const stream = fs.createReadStream(d.file);
    stream.on('error', () => res.destroy());
    res.on('close', done);
    stream.pipe(res);
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE,
    perMessageDeflate: false,
    clientTracking: false,
    // The page offers `procscope` and `token.<token>`; only the former is ever answered, so the
    // token is not echoed. A client offering protocols but not ours gets none (its handshake fails).
    handleProtocols: (protocols) => (protocols.has('procscope') ? 'procscope' : false),
  });

  const rejectUpgrade = (socket: Duplex, status: number, message: string): void => {
    const body = `${message}\n`;
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const { pathname } = splitTarget(req.url);
    if (pathname !== '/ws') return rejectUpgrade(socket, 404, 'procscope: no WebSocket here');
    if (req.headers.host !== `127.0.0.1:${port}`) return rejectUpgrade(socket, 403, 'procscope: wrong Host');
    if (req.headers.origin !== origin) return rejectUpgrade(socket, 403, 'procscope: wrong Origin');
    // Not from the URL's query: the page's WebSocket carries the cookie, or offers the token.
    const ok =
      tokenMatches(expected, protocolToken(req.headers['sec-websocket-protocol'])) ||
      tokenMatches(expected, cookieValue(req.headers.cookie, cookieName));
    if (!ok) return rejectUpgrade(socket, 403, 'procscope: missing or wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = new Client(ws, backend, limits, (c) => clients.delete(c));
      clients.add(client);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  cookieName = `procscope_${port}`;
  headers = {
    'Content-Security-Policy':
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; ` +
      `connect-src 'self' ws://127.0.0.1:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${token}`,
    token,
    stats: () => [...clients].map((c) => c.stats()),
    close: () =>
      (closing ??= (async () => {
        for (const c of [...clients]) c.terminate();
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        downloads.clear();
        if (ownsBackend) await backend.dispose();
      })()),
  };
}

