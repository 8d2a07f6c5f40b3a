// The runs folder: which logs are runs, what each one was, and exporting one. Logs can be
// gigabytes: a listing reads only each log's first and last lines.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseRunEvent, type ExportFormat, type PastRun } from '../api.ts';
import { isRunId } from '../common/run-id.ts';
import { exportCsv } from './runlog/csv.ts';
import { tornTailBytes } from './runlog/torn-tail.ts';
import { EXPORT_SUFFIX } from './runlog/export-names.ts';
import { exportSpeedscope } from './runlog/speedscope.ts';
import { exportTrace } from './runlog/trace.ts';
import { CommandError } from './command-error.ts';

const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 64 * 1024;

export class RunsFolder {
  private exportsDir: string | null;

  constructor(
    readonly dir: string,
    exportsDir: string | null,
  ) {
    this.exportsDir = exportsDir;
  }

  /** The runs, newest first; `live`: the run being written now (its tail is not torn). */
  async list(live: string | null): Promise<PastRun[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found = await Promise.all(
      names.filter((n) => n.endsWith('.jsonl') && isRunId(n.slice(0, -'.jsonl'.length))).map((n) => this.pastRun(n.slice(0, -'.jsonl'.length), live)),
    );
    const runs = found.filter((r): r is PastRun => r !== null);
    // Newest first; ISO 8601 UTC strings sort as time does.
    runs.sort((a, b) => (a.startedAt === b.startedAt ? (a.runId < b.runId ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
    return runs;
  }

  /** One log's summary from its first line and its last line only. */
  private async pastRun(runId: string, live: string | null): Promise<PastRun | null> {
    const logPath = path.join(this.dir, `${runId}.jsonl`);
    let handle: fs.promises.FileHandle | null = null;
    try {
      const st = await fs.promises.lstat(logPath);
      if (!st.isFile()) return null;
      handle = await fs.promises.open(logPath, 'r');
      const headLen = Math.min(st.size, HEAD_BYTES);
      const head = Buffer.alloc(headLen);
      await handle.read(head, 0, headLen, 0);
      const nl = head.indexOf(0x0a);
      if (nl === -1) return null;
      const first = parseRunEvent(JSON.parse(head.subarray(0, nl).toString('utf8')));
      if (!first.ok || first.event.type !== 'run') return null;
      let reason: PastRun['reason'] = null;
      const tailLen = Math.min(st.size, TAIL_BYTES);
      const tail = Buffer.alloc(tailLen);
      await handle.read(tail, 0, tailLen, st.size - tailLen);
      // A log ends with '\n' after its last complete line; anything else is a torn (or live) tail.
      if (tailLen > 0 && tail[tailLen - 1] === 0x0a) {
        const prev = tail.lastIndexOf(0x0a, tailLen - 2);
        if (prev !== -1 || tailLen === st.size) {
          try {
            const last = parseRunEvent(JSON.parse(tail.subarray(prev + 1, tailLen - 1).toString('utf8')));
            if (last.ok && last.event.type === 'end') reason = last.event.reason;
          } catch {
            // not JSON: no end line
          }
        }
      }
      const runtime = first.event.runtime ?? 'typescript';
      const tornBytes = runId === live ? 0 : await tornTailBytes(handle, st.size);
      return { runId, logPath, scenario: first.event.scenario, runtime, startedAt: first.event.startedAt, reason, bytes: st.size, ...(tornBytes > 0 ? { tornBytes } : {}) };
    } catch {
      // Unreadable or not a run log: not listed.
      return null;
    } finally {
      await handle?.close();
    }
  }

  /** The log of `runId`: a regular file directly inside the folder, or a one-line error. */
  async logPathOf(runId: unknown): Promise<string> {
    if (!isRunId(runId)) throw new CommandError(`not a run id: ${JSON.stringify(runId)}`);
    const logPath = path.resolve(this.dir, `${runId}.jsonl`);
    if (path.dirname(logPath) !== this.dir) throw new CommandError(`not a run id: ${JSON.stringify(runId)}`);
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(logPath);
    } catch {
      throw new CommandError(`no run ${runId} in ${this.dir}`);
    }
    // A symlink could point anywhere: only real files of the runs folder are runs.
    if (!st.isFile()) throw new CommandError(`no run ${runId} in ${this.dir}`);
    return logPath;
  }

  /**
   * Writes the export of `runId` to a new file of the exports folder; returns it with the clean
   * name to offer (unique, so two exports of one run never share a file).
   */
  async export(runId: string, format: ExportFormat, progress: (fraction: number) => void): Promise<{ tempPath: string; suggestedName: string }> {
    const logPath = await this.logPathOf(runId);
    const dir = await this.exportsFolder();
    const suggestedName = `${runId}${EXPORT_SUFFIX[format]}`;
    const tempPath = path.join(dir, `${randomBytes(6).toString('hex')}-${suggestedName}`);
    try {
      if (format === 'jsonl') await copyWithProgress(logPath, tempPath, progress);
      else if (format === 'csv') await exportCsv(logPath, tempPath, progress);
      else if (format === 'speedscope') await exportSpeedscope(logPath, tempPath, progress);
      else await exportTrace(logPath, tempPath, progress);
    } catch (err) {
      await fs.promises.rm(tempPath, { force: true });
      throw err;
    }
    return { tempPath, suggestedName };
  }

  /** Removes the exports folder this made for itself (a given one is left). */
  dispose(owned: boolean): void {
    if (owned && this.exportsDir) fs.rmSync(this.exportsDir, { recursive: true, force: true });
  }

  private async exportsFolder(): Promise<string> {
    if (this.exportsDir) {
      // Exports hold what the program printed, as the logs do: a folder made here is private.
      await fs.promises.mkdir(this.exportsDir, { recursive: true, mode: 0o700 });
      return this.exportsDir;
    }
    // Private (0700, unguessable name): a shared /tmp/procscope-exports could be pre-created by someone else.
    this.exportsDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'procscope-exports-'));
    return this.exportsDir;
  }
}

/** The log as it is, with progress; the file appears only when complete. */
async function copyWithProgress(from: string, to: string, onProgress: (fraction: number) => void): Promise<void> {
  const size = (await fs.promises.stat(from)).size;
  let done = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      onProgress(size > 0 ? Math.min(1, done / size) : 1);
      cb(null, chunk);
    },
  });
  const partial = `${to}.partial`;
  try {
    await pipeline(fs.createReadStream(from), count, fs.createWriteStream(partial, { mode: 0o600 }));
    await fs.promises.rename(partial, to);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
}
