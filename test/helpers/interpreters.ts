// The CPython versions this machine has, for tests that run on each: python3.X on PATH, or
// pyenv's. PROCSCOPE_TEST_PYTHONS (interpreters separated by the path delimiter) overrides the search.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The minor versions of CPython 3 that the tests look for. */
export const MINORS = [8, 9, 10, 11, 12, 13, 14];

function versionOf(exe: string): string | null {
  const r = spawnSync(exe, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** One interpreter per minor version found. */
export function findInterpreters(): Map<number, string> {
  const found = new Map<number, string>();
  const given = process.env.PROCSCOPE_TEST_PYTHONS;
  const candidates: string[] = given
    ? given.split(path.delimiter).filter(Boolean)
    : MINORS.flatMap((m) => {
        const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
        const dirs = fs.existsSync(pyenv) ? fs.readdirSync(pyenv).filter((d) => d.startsWith(`3.${m}.`)) : [];
        return [`python3.${m}`, ...dirs.map((d) => path.join(pyenv, d, 'bin', 'python3'))];
      });
  for (const exe of candidates) {
    const v = versionOf(exe);
    const minor = v?.startsWith('3.') ? Number(v.slice(2)) : NaN;
    if (MINORS.includes(minor) && !found.has(minor)) found.set(minor, exe);
  }
  return found;
}
