// Exports waiting to be downloaded by the browser shell's page: each under a random id, once.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { SaveExportResult } from '../core/backend.ts';

export const DOWNLOAD_TTL_MS = 10 * 60 * 1000;

export interface Download {
  file: string;
  name: string;
  timer: NodeJS.Timeout;
}


/**
 * Exports waiting to be downloaded, each under a random id, once, for DOWNLOAD_TTL_MS at most.
 * It owns the files handed to it: they are deleted after the download or at expiry.
 */
export class DownloadRegistry {
  private readonly entries = new Map<string, Download>();

  /** A Backend `saveExport`: registers the file and answers its same-origin URL. */
  readonly saveExport = async (suggestedName: string, tempPath: string): Promise<SaveExportResult> => {
    const id = randomBytes(24).toString('base64url');
    const timer = setTimeout(() => this.drop(id), DOWNLOAD_TTL_MS);
    timer.unref();
    this.entries.set(id, { file: tempPath, name: suggestedName, timer });
    return { url: `/download/${id}` };
  };

  /** Takes the download out (one time): the caller serves it and then calls `done`. */
  take(id: string): Download | null {
    const d = this.entries.get(id);
    if (!d) return null;
    this.entries.delete(id);
    clearTimeout(d.timer);
    return d;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  private drop(id: string): void {
    const d = this.entries.get(id);
    if (!d) return;
    this.entries.delete(id);
    clearTimeout(d.timer);
    fs.rm(d.file, { force: true }, () => undefined);
  }
}
