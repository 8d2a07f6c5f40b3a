// The file an export writes: it appears only when complete. It is written next to the target as
// `<out>.partial` and renamed at the end, so a corrupt log or a full disk never leaves a
// truncated export behind.

import fs from 'node:fs';

/** Appends `text` to the export (UTF-8); rejects with `cannot write <out>: <code>`. */
export type WriteExport = (text: string) => Promise<void>;

/**
 * Opens `<outPath>.partial`, lets `fill` write the export through it, then renames it to
 * `outPath`. If anything fails the partial file is removed and the error rethrown.
 */
export async function writeExportFile(outPath: string, fill: (write: WriteExport) => Promise<void>): Promise<void> {
  const partial = `${outPath}.partial`;
  // Opened before `fill` reads the log, so a bad target fails fast instead of after a long read.
  const out = await openOutput(partial, outPath);
  try {
    await fill((text) => writeAll(out, text, outPath));
    await out.close();
    await fs.promises.rename(partial, outPath);
  } catch (err) {
    await out.close().catch(() => undefined);
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
}

async function openOutput(partial: string, outPath: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(partial, 'w');
  } catch (err) {
    throw new Error(`cannot write ${outPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function writeAll(out: fs.promises.FileHandle, text: string, outPath: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  try {
    for (let offset = 0; offset < bytes.length; ) offset += (await out.write(bytes, offset)).bytesWritten;
  } catch (err) {
    throw new Error(`cannot write ${outPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
