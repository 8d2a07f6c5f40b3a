// Module hooks for scenario processes (they run on Node's loader thread):
// - `import ... from 'procscope'` resolves to this runtime, for a scenario anywhere on disk;
// - TypeScript files load with their types stripped (sucrase), cached on disk by content so a
//   child process usually skips loading the compiler at all;
// - `./lib.js` finds `./lib.ts`, the way TypeScript projects write their imports.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadContext {
  format?: string | null;
  conditions: string[];
}
interface LoadResult {
  format: string;
  source?: string | Buffer;
  shortCircuit?: boolean;
}

const RUNTIME_URL = new URL('./procscope.mjs', import.meta.url).href;
const TS_EXT = /\.(ts|mts)$/;
const CACHE_DIR = path.join(os.tmpdir(), `procscope-ts-cache-${process.getuid?.() ?? 'u'}`);
const CACHE_VERSION = '1';

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (s: string, c: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  if (specifier === 'procscope') return { url: RUNTIME_URL, format: 'module', shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
      try {
        return await next(specifier.slice(0, -3) + '.ts', context);
      } catch {
        // Neither exists: report the name the scenario wrote, not our guess.
        throw err;
      }
    }
    throw err;
  }
}

type Transform = (code: string, opts: object) => { code: string };
let sucraseTransform: Transform | null = null;

async function stripTypes(source: string, file: string): Promise<string> {
  if (!sucraseTransform) {
    // Bundled (scripts/build-node.mjs), the CommonJS package is the chunk's default export.
    const mod = (await import('sucrase')) as unknown as { transform?: Transform; default?: { transform: Transform } };
    sucraseTransform = mod.transform ?? mod.default?.transform ?? null;
    if (!sucraseTransform) throw new Error('procscope runtime: sucrase has no transform()');
  }
  try {
    return sucraseTransform(source, { transforms: ['typescript'], disableESTransforms: true, filePath: file }).code;
  } catch (err) {
    // sucrase reports "Error transforming <file>: Unexpected token (3:5)": say where, once.
    const msg = (err as Error).message.replace(`Error transforming ${file}: `, '');
    const m = /\((\d+):(\d+)\)/.exec(msg);
    throw new SyntaxError(m ? `${file}:${m[1]}:${m[2]}: ${msg.replace(/\s*\(\d+:\d+\)/, '')}` : `${file}: ${msg}`);
  }
}

/**
 * The cache folder, if we may trust what is in it: ours, and nobody else can write to it (in a
 * shared /tmp, another user could otherwise plant code under a key computed from a readable file).
 */
let checkedCacheDir: string | null | undefined;

function trustedCacheDir(): string | null {
  // Checked once per process: every module load asks.
  if (checkedCacheDir === undefined) checkedCacheDir = checkCacheDir();
  return checkedCacheDir;
}

function checkCacheDir(): string | null {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
    const st = fs.statSync(CACHE_DIR);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0 ? CACHE_DIR : null;
  } catch {
    return null;
  }
}

function cachePath(file: string, source: string): string | null {
  const dir = trustedCacheDir();
  if (dir === null) return null;
  const key = crypto.createHash('sha256').update(CACHE_VERSION).update(file).update('\0').update(source).digest('hex');
  return path.join(dir, `${key.slice(0, 40)}.js`);
}

export async function load(
  url: string,
  context: LoadContext,
  next: (u: string, c: LoadContext) => Promise<LoadResult>,
): Promise<LoadResult> {
  if (!url.startsWith('file:') || !TS_EXT.test(url)) return next(url, context);
  const file = fileURLToPath(url);
  const source = fs.readFileSync(file, 'utf8');
  const cached = cachePath(file, source);
  let code: string;
  try {
    if (cached === null) throw new Error('no trusted cache');
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = await stripTypes(source, file);
    if (cached === null) return { format: 'module', source: code, shortCircuit: true };
    try {
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, cached);
    } catch {
      // A cache we cannot write only costs speed.
    }
  }
  return { format: 'module', source: code, shortCircuit: true };
}
