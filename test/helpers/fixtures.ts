// Programs the tests run, kept as files so that tests in different layers (CLI, browser) share them.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Never ends: its consumer waits in q.get() (line 8), main in c.join() (line 15). */
export const STUCK_PY = path.join(dir, 'python', 'stuck_consumer.py');

/**
 * Two children (one in a session of its own) with a grandchild and a `sleep` each; every process
 * appends its pids to the file named by its first argument, then waits forever.
 */
export const FAMILY_TREE_PY = path.join(dir, 'python', 'family_tree.py');
export const FAMILY_TREE_TS = path.join(dir, 'scenarios', 'family-tree.ts');
