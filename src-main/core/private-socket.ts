// A Unix socket only procscope's own user may connect to: the run's processes reach the monitor
// through it (the broker, the output of each process), and nobody else may.

import fs from 'node:fs';
import type net from 'node:net';

/** Listens on `socketPath`, made 0600 before anyone is let in (its folder is 0700 too). */
export function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.removeListener('error', reject);
      fs.chmodSync(socketPath, 0o600);
      resolve();
    });
  });
}
