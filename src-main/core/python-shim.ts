// Python mode's shim, ready to start fast. Every process of a Python run imports it; compiled from
// source that costs some 25 ms per process (measured: +36 ms over a plain start, +11 ms with
// bytecode). Its folder in an installed app is read-only, and a user may set
// PYTHONDONTWRITEBYTECODE, so Python would compile it again in every process. Instead a copy
// lives in procscope's cache folder, compiled once per interpreter (and per shim version).

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { procscopeHome, pythonShimDir } from './paths.ts';
import { privateDir } from './private-dir.ts';

/** Longest wait for the one-time compile; past it, the run starts from source. */
const COMPILE_TIMEOUT_MS = 15_000;

let shimHash: string | null = null;

/** A digest of every file of the shim: a changed shim gets a new folder. */
function hashOf(dir: string): string {
  if (shimHash) return shimHash;
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      if (name === '__pycache__') continue;
      const file = path.join(d, name);
      if (fs.statSync(file).isDirectory()) walk(file);
      else h.update(path.relative(dir, file)).update('\0').update(fs.readFileSync(file)).update('\0');
    }
  };
  walk(dir);
  return (shimHash = h.digest('hex').slice(0, 16));
}

function compile(python: string, dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(python, ['-c', 'import compileall, sys; sys.exit(0 if compileall.compile_dir(sys.argv[1], quiet=2) else 1)', dir], {
        stdio: 'ignore',
      });
    } catch {
      return resolve(false);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), COMPILE_TIMEOUT_MS);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/**
 * The folder to put on PYTHONPATH for `python`: the cached, compiled copy, or the shipped source
 * folder when the cache cannot be used (not writable, not ours, the compile failed).
 */
export async function preparedShimDir(python: string): Promise<string> {
  const source = pythonShimDir();
  try {
    const root = path.join(procscopeHome(), 'cache', 'python-shim');
    // Code run in every Python process comes from here.
    if (!privateDir(root)) return source;
    const dest = path.join(root, hashOf(source));
    if (!fs.existsSync(dest)) {
      // Copied whole, then renamed: a run never sees half a shim (two monitors may race here).
      const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      fs.cpSync(source, tmp, { recursive: true, filter: (f) => path.basename(f) !== '__pycache__' });
      try {
        fs.renameSync(tmp, dest);
      } catch {
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!fs.existsSync(dest)) return source;
      }
    }
    const marker = path.join(dest, `.compiled-${createHash('sha256').update(python).digest('hex').slice(0, 16)}`);
    if (!fs.existsSync(marker)) {
      // Not compiled (an interpreter that cannot, say): the copy still runs, from source.
      if (await compile(python, dest)) fs.writeFileSync(marker, `${python}\n`);
    }
    return dest;
  } catch {
    return source;
  }
}
