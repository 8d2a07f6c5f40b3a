// Who may talk to the browser shell: the random token of the printed URL, as a query parameter,
// a cookie or a WebSocket subprotocol, compared in constant time; and request targets read
// without trusting them to be well formed.

import { createHash, timingSafeEqual } from 'node:crypto';


export function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant time whatever the candidate (hashing first makes the lengths equal). */
export function tokenMatches(expected: Buffer, candidate: string | undefined | null): boolean {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 256) return false;
  return timingSafeEqual(expected, digest(candidate));
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function protocolToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const p of header.split(',')) {
    const v = p.trim();
    if (v.startsWith('token.')) return v.slice('token.'.length);
  }
  return undefined;
}

/** The path and query of a request target, without trusting it to be well formed. */
export function splitTarget(url: string | undefined): { pathname: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return { pathname: q === -1 ? raw : raw.slice(0, q), query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}
