// What the run log unit tests start from: a scratch folder for their files and a valid first line.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LOG_VERSION, type RunEvent } from '../../src-main/api.ts';

/**
 * A fresh folder under the OS temp dir (named `<prefix>XXXXXX`), made before the file's tests and
 * removed after them. Call it at a test file's top level; the returned function gives its path.
 */
export function scratchDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('scratchDir: the folder exists only while the tests run');
    return dir;
  };
}

/** The `run` event a run log must start with. */
export function runStart(scenario: string): RunEvent {
  return {
    t: 0,
    type: 'run',
    version: LOG_VERSION,
    scenario,
    startedAt: '2025-01-01T00:00:00.000Z',
    interval: 500,
    cwd: '/tmp',
  };
}
