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
/** Longest wait for the one-time build of the C recorder; past it, runs use the Python one. */
const BUILD_TIMEOUT_MS = 60_000;

/** What the interpreters build in the shim's cached copy (the C recorder): never copied from the source folder. */
const isBuilt = (name: string) => /^_accel\..*\.(so|pyd)$|\.tmp-\d+$/.test(name);

let shimHash: string | null = null;

/** A digest of every file of the shim: a changed shim gets a new folder. */
function hashOf(dir: string): string {
  if (shimHash) return shimHash;
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      if (name === '__pycache__' || isBuilt(name)) continue;
      const file = path.join(d, name);
      if (fs.statSync(file).isDirectory()) walk(file);
      else h.update(path.relative(dir, file)).update('\0').update(fs.readFileSync(file)).update('\0');
    }
  };
  walk(dir);
  return (shimHash = h.digest('hex').slice(0, 16));
}

/** Runs `python args`; true when it exits 0 within `timeoutMs`. */
function runPython(python: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(python, args, { stdio: 'ignore' });
    } catch {
      return resolve(false);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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
      fs.cpSync(source, tmp, { recursive: true, filter: (f) => path.basename(f) !== '__pycache__' && !isBuilt(path.basename(f)) });
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
      const compiled = await runPython(python, ['-c', 'import compileall, sys; sys.exit(0 if compileall.compile_dir(sys.argv[1], quiet=2) else 1)', dest], COMPILE_TIMEOUT_MS);
      // The C recorder, where this interpreter's compiler settings can build it (a C compiler and
      // Python's headers); without it, the shim records in Python. Tried once, like the compile.
      const pkg = path.join(dest, 'procscope_shim');
      await runPython(python, ['-I', path.join(pkg, '_build_accel.py'), pkg], BUILD_TIMEOUT_MS);
      if (compiled) fs.writeFileSync(marker, `${python}\n`);
    }
    return dest;
  } catch {
    return source;
  }
}
