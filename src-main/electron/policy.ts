// What the procscope window may load, navigate to, open and say: the decisions of the Electron
// shell's security policy as plain functions (no electron import), so unit tests check them without
// the Electron binary and main.ts only wires them to Electron's hooks.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiError } from '../api.ts';

/**
 * Whether `url` is the renderer's page, `file:///…/out/renderer/index.html` (a query or a
 * fragment is allowed: they do not change the document). Parsed, never compared as a prefix:
 * `startsWith` would let `file:///…/index.html.evil` or a `file://host/…` slip through.
 */
export function isRendererUrl(url: string, rendererFile: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  parsed.search = '';
  parsed.hash = '';
  let file: string;
  try {
    file = fileURLToPath(parsed);
  } catch {
    return false;
  }
  return path.resolve(file) === path.resolve(rendererFile);
}

/**
 * Sites a link in the page may open in the person's browser: https only, on these hosts only,
 * with no credentials and the default port. Anything else is refused (shell.openExternal with an
 * arbitrary URL can start arbitrary programs through protocol handlers).
 */
export const EXTERNAL_HOSTS: readonly string[] = ['ui.perfetto.dev', 'docs.python.org'];

/** The normalized URL to hand to `shell.openExternal`, or null if it must not be opened. */
export function externalUrlToOpen(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:') return null;
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return null;
  if (!EXTERNAL_HOSTS.includes(parsed.hostname)) return null;
  return parsed.href;
}

/** An error as data, the only form in which it crosses IPC: its name and message, nothing live. */
export function errorData(e: unknown): ApiError {
  if (e instanceof Error) return { name: e.name || 'Error', message: e.message };
  return { name: 'Error', message: typeof e === 'string' ? e : String(e) };
}

/** File-type filter for a save dialog, from the suggested file name's extension. */
export function saveFilters(suggestedName: string): { name: string; extensions: string[] }[] {
  const ext = path.extname(suggestedName).slice(1).toLowerCase();
  const names: Record<string, string> = { jsonl: 'Run log (JSON lines)', csv: 'CSV', json: 'Chrome trace (JSON)' };
  if (!ext) return [];
  return [{ name: names[ext] ?? `${ext.toUpperCase()} file`, extensions: [ext] }];
}

/** Program files the Open dialog offers: the kinds the scenario loader runs (`.py` under Python). */
export const SCENARIO_EXTENSIONS: readonly string[] = ['py', 'ts', 'mts', 'js', 'mjs'];
