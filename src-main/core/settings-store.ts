// The settings of new runs (sampling interval, Python interpreter), kept in one JSON file that a
// person may also edit by hand.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isInterpreter, type Settings } from '../api.ts';
import { DEFAULT_INTERVAL_MS, isInterval, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../common/interval.ts';
import { CommandError } from './command-error.ts';

export const DEFAULT_SETTINGS: Settings = { interval: DEFAULT_INTERVAL_MS, python: 'python3' };

export class SettingsStore {
  private settings: Settings | null;

  /** `file` null: fixed settings (the CLI's, from its flags), never read from or written to disk. */
  constructor(
    private readonly file: string | null,
    fixed?: Settings,
  ) {
    this.settings = fixed ? { ...fixed } : null;
  }

  get(): Settings {
    if (this.settings) return this.settings;
    let stored: unknown = null;
    try {
      stored = JSON.parse(fs.readFileSync(this.file as string, 'utf8'));
    } catch {
      // missing or unreadable: defaults
    }
    const s: Settings = { ...DEFAULT_SETTINGS };
    // Field by field: a hand-edited file with one bad value keeps the others.
    if (typeof stored === 'object' && stored !== null) {
      const o = stored as Record<string, unknown>;
      if (isInterval(o.interval)) s.interval = o.interval;
      if (isInterpreter(o.python)) s.python = o.python;
    }
    return (this.settings = s);
  }

  async set(patch: Partial<Settings>): Promise<Settings> {
    if (patch.interval !== undefined && !isInterval(patch.interval)) {
      throw new CommandError(`interval must be a whole number of ms between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS}, got ${JSON.stringify(patch.interval)}`);
    }
    if (patch.python !== undefined && !isInterpreter(patch.python)) {
      throw new CommandError('python must name an interpreter: a command on PATH or a path, without surrounding blanks');
    }
    const next: Settings = {
      ...this.get(),
      ...(patch.interval !== undefined ? { interval: patch.interval } : {}),
      ...(patch.python !== undefined ? { python: patch.python } : {}),
    };
    if (this.file !== null) {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      // Written whole and renamed: a crash never leaves half a settings file.
      const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
      await fs.promises.rename(tmp, this.file);
    }
    this.settings = next;
    return { ...next };
  }
}
