// Folders procscope keeps code in (compiled scenarios, the compiled Python shim) are trusted only
// if they are ours and nobody else can write to them: in a shared /tmp, another user could
// otherwise plant code that every process of a run would load.
// (runtime/hooks.ts keeps its own copy: the runtime shares nothing with core but protocol.ts.)

import fs from 'node:fs';

/** Makes `dir` (mode 0700) if missing; true if it is a folder of ours that only we can write. */
export function privateDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
