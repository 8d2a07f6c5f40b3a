// Each run's own temporary folder, `procscope-broker-*` in the system's temporary folder: the
// broker's socket, the compiled scenario, a preset's working folder. The run removes it as it
// ends; a monitor killed with SIGKILL cannot, so every start first removes the folders whose
// monitor is gone. A folder says whose it is in its `monitor` file (the monitor's pid and start
// time): one of a monitor still running stays, and so does anything not certainly ours (another
// user's, a link, one without that file, a folder another monitor is making at this moment).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorIdentity, monitorState } from './monitor-identity.ts';

const PREFIX = 'procscope-broker-';
const OWNER_FILE = 'monitor';
/** An owner file is a pid and a start time: anything longer is not ours. */
const OWNER_MAX_BYTES = 64;

/** Makes this run's folder (0700, unguessable name) and marks it as this monitor's. */
export function makeScratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.writeFileSync(path.join(dir, OWNER_FILE), monitorIdentity(), { mode: 0o600 });
  return dir;
}

/** Removes the run folders left behind by monitors that are gone; returns those it removed. */
export function sweepScratch(tmp = os.tmpdir()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(tmp, name);
    const owner = ownerOf(dir);
    if (owner === null || monitorState(owner) !== 'gone') continue;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // another start removed it first, or it is not ours to remove after all
    }
  }
  return removed;
}

/** The monitor identity a folder names, if it is certainly a run folder of this user. */
function ownerOf(dir: string): string | null {
  try {
    const folder = fs.lstatSync(dir);
    if (!folder.isDirectory() || (process.getuid && folder.uid !== process.getuid())) return null;
    const file = path.join(dir, OWNER_FILE);
    const mark = fs.lstatSync(file);
    if (!mark.isFile() || mark.size > OWNER_MAX_BYTES || (process.getuid && mark.uid !== process.getuid())) return null;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
