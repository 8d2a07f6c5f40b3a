// The web shell an end-to-end suite drives: a Backend in a fresh procscope home (runs, settings,
// exports) behind the real web server, as `procscope serve` starts it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Backend } from '../../src-main/core/backend.ts';
import { DownloadRegistry, startWebShell, type WebShell } from '../../src-main/web/server.ts';

export interface E2eShell {
  home: string;
  backend: Backend;
  shell: WebShell;
}

export async function startE2eShell(prefix: string): Promise<E2eShell> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const downloads = new DownloadRegistry();
  const backend = new Backend({
    shell: 'web',
    runsDir: path.join(home, 'runs'),
    settingsFile: path.join(home, 'settings.json'),
    exportsDir: path.join(home, 'exports'),
    saveExport: downloads.saveExport,
  });
  const shell = await startWebShell({ backend, downloads });
  return { home, backend, shell };
}
