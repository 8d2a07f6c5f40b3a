// Programs the tests run, kept as files so that tests in different layers (CLI, browser) share them.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Never ends: its consumer waits in q.get() (line 8), main in c.join() (line 15). */
export const STUCK_PY = path.join(dir, 'python', 'stuck_consumer.py');
