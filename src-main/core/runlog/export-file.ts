// The file an export writes: it appears only when complete. It is written next to the target as
// `<out>.partial` and renamed at the end, so a corrupt log, a full disk or an interrupted export
// never leaves a truncated one behind. Like the log it comes from, it is readable by its owner
// only (0600).

import fs from 'node:fs';
import path from 'node:path';

/** Appends `text` to the export (UTF-8); rejects with an ExportError. */
export type WriteExport = (text: string) => Promise<void>;

/** The export cannot be written where it was asked to go: the message says why, in one line. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** Partial files being written now: what an interrupted process removes on its way out. */
const inProgress = new Set<string>();

/**
 * Removes every export still being written (synchronously: for a signal handler that exits
 * right after). Those exports then fail, as they would have.
 */
export function discardPartialExports(): void {
  for (const partial of inProgress) fs.rmSync(partial, { force: true });
  inProgress.clear();
}

/**
 * Opens `<outPath>.partial`, lets `fill` write the export through it, then renames it to
 * `outPath`. If anything fails the partial file is removed and the error rethrown.
 */
export async function writeExportFile(outPath: string, fill: (write: WriteExport) => Promise<void>): Promise<void> {
  const partial = `${outPath}.partial`;
  // Checked and opened before `fill` reads the log, so a bad target fails fast instead of after
  // a long read.
  await checkTarget(outPath);
  // Counted before it is created: a signal that comes while it is being opened still finds it.
  inProgress.add(partial);
  let out: fs.promises.FileHandle;
  try {
    out = await openOutput(partial, outPath);
  } catch (err) {
    inProgress.delete(partial);
    throw err;
  }
  try {
    await fill((text) => writeAll(out, text, outPath));
    await out.close();
    await fs.promises.rename(partial, outPath).catch((err: unknown) => {
      throw cannotWrite(outPath, err);
    });
  } catch (err) {
    await out.close().catch(() => undefined);
    await fs.promises.rm(partial, { force: true });
    throw err;
  } finally {
    inProgress.delete(partial);
  }
}

/**
 * The export replaces `outPath` with a new file: a folder there would be refused only by the
 * final rename (a raw EISDIR), and a FIFO or a device (or a link to one) would be replaced by a
 * plain file rather than written to.
 */
async function checkTarget(outPath: string): Promise<void> {
  const dir = path.dirname(outPath);
  let folder: fs.Stats;
  try {
    folder = await fs.promises.stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ExportError(`cannot write ${outPath}: there is no folder ${dir}`);
    throw cannotWrite(outPath, err);
  }
  if (!folder.isDirectory()) throw new ExportError(`cannot write ${outPath}: ${dir} is not a folder`);
  let target: fs.Stats;
  try {
    target = await fs.promises.stat(outPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw cannotWrite(outPath, err);
  }
  if (target.isDirectory()) throw new ExportError(`cannot write ${outPath}: it is a folder (name the file to write, e.g. ${path.join(outPath, 'run.csv')})`);
  if (!target.isFile()) throw new ExportError(`cannot write ${outPath}: it is not a regular file`);
}

async function openOutput(partial: string, outPath: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(partial, 'w', 0o600);
  } catch (err) {
    throw cannotWrite(outPath, err);
  }
}

async function writeAll(out: fs.promises.FileHandle, text: string, outPath: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  try {
    for (let offset = 0; offset < bytes.length; ) offset += (await out.write(bytes, offset)).bytesWritten;
  } catch (err) {
    throw cannotWrite(outPath, err);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
};

function cannotWrite(outPath: string, err: unknown): ExportError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = (code && REASONS[code]) ?? code ?? (err instanceof Error ? err.message : String(err));
  return new ExportError(`cannot write ${outPath}: ${why}`);
}
