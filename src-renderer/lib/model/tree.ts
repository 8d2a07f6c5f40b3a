// Process-tree order: every parent directly above its children, children in the order they
// appeared, each with its depth. A row whose parent is not in the run (the monitor, or a log
// that starts late) is a root.

export interface TreeItem {
  pid: number | null;
  /** The parent's pid (for a Process object not started yet: its owner). */
  ppid: number;
}

/**
 * Returns the row indices in tree order and each row's depth (`depth[i]` is the depth of
 * `rows[i]`, not of the i-th in order). Rows must be given in the order they appeared.
 * When a pid was reused, a child belongs to the latest earlier row with that pid.
 */
export function treeOrder(rows: readonly TreeItem[]): { order: number[]; depth: number[] } {
  const n = rows.length;
  const byPid = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const pid = rows[i].pid;
    if (pid === null) continue;
    let list = byPid.get(pid);
    if (!list) byPid.set(pid, (list = []));
    list.push(i);
  }
  const children: number[][] = Array.from({ length: n }, () => []);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const candidates = byPid.get(rows[i].ppid);
    let parent = -1;
    if (candidates) {
      for (const c of candidates) if (c !== i && (c < i || parent === -1)) parent = c;
    }
    if (parent === -1) roots.push(i);
    else children[parent].push(i);
  }
  const order: number[] = [];
  const depth = new Array<number>(n).fill(0);
  const seen = new Uint8Array(n);
  const visit = (i: number, d: number): void => {
    if (seen[i]) return;
    seen[i] = 1;
    depth[i] = d;
    order.push(i);
    for (const c of children[i]) visit(c, d + 1);
  };
  for (const r of roots) visit(r, 0);
  // A parent cycle (impossible with real pids, possible in a hand-made log) leaves rows unvisited.
  for (let i = 0; i < n; i++) if (!seen[i]) visit(i, 0);
  return { order, depth };
}
