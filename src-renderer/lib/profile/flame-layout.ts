// The icicle of a call tree: the root (all samples) on top, each node's children under it, left
// to right heaviest first, each as wide as its share of its parent. Zoomed to a node, its
// ancestors stay on top at full width (the path back out) and it fills the width below them.
// Plain data for the canvas to draw and for hit tests; unit-tested without a DOM.

import { ROOT, type CallTree } from '../../../src-main/common/profile/call-tree.ts';

export interface FlameLayout {
  /** Drawn boxes: tree node, left edge and width (fractions of the whole width), row. */
  node: number[];
  x: number[];
  w: number[];
  depth: number[];
  /** Boxes by row, each row sorted by x: for hit tests. */
  rows: number[][];
  /** The node the view is zoomed to (ROOT: none). */
  focus: number;
  /** The time the full width stands for, ms. */
  total: number;
}

/** Nodes from the root down to `node`, the root first. */
export function pathTo(tree: CallTree, node: number): number[] {
  const path: number[] = [];
  for (let n = node; n >= 0; n = tree.parent[n]) path.push(n);
  return path.reverse();
}

/**
 * Lays out `tree` zoomed to `focus`. Boxes narrower than `minWidth` (a fraction of the width, a
 * pixel or so) are left out with their children: they could not be seen or pointed at.
 */
export function layoutFlame(tree: CallTree, focus = ROOT, minWidth = 0): FlameLayout {
  const out: FlameLayout = { node: [], x: [], w: [], depth: [], rows: [], focus, total: 0 };
  if (tree.count === 0 || focus >= tree.count) return out;
  const path = pathTo(tree, focus);
  const total = tree.total[focus];
  out.total = total;
  if (!(total > 0)) return out;
  const add = (node: number, x: number, w: number, depth: number) => {
    const i = out.node.length;
    out.node.push(node);
    out.x.push(x);
    out.w.push(w);
    out.depth.push(depth);
    (out.rows[depth] ??= []).push(i);
  };
  // The way back out: the focus's ancestors, full width.
  for (let d = 0; d < path.length - 1; d++) add(path[d], 0, 1, d);
  const walk = (node: number, x: number, w: number, depth: number) => {
    add(node, x, w, depth);
    let cx = x;
    for (const c of tree.children[node]) {
      const cw = (tree.total[c] / total) * 1;
      if (cw >= minWidth) walk(c, cx, cw, depth + 1);
      cx += cw;
    }
  };
  walk(focus, 0, 1, path.length - 1);
  return out;
}

/** The box at (x fraction, row), or -1. */
export function hitTest(layout: FlameLayout, x: number, depth: number): number {
  const row = layout.rows[depth];
  if (!row) return -1;
  let lo = 0;
  let hi = row.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const i = row[mid];
    if (x < layout.x[i]) hi = mid - 1;
    else if (x >= layout.x[i] + layout.w[i]) lo = mid + 1;
    else return i;
  }
  return -1;
}

/** Which nodes' functions match a search (case-insensitive, in the name or the file). */
export function matchingFunctions(tree: CallTree, query: string): Set<number> {
  const q = query.trim().toLowerCase();
  const out = new Set<number>();
  if (!q) return out;
  tree.functions.forEach((f, i) => {
    if (f.name.toLowerCase().includes(q) || f.file.toLowerCase().includes(q)) out.add(i);
  });
  return out;
}

/** The time of the nodes whose function matches, each sample once (a match under a match counts once). */
export function matchedTotal(tree: CallTree, funcs: ReadonlySet<number>): number {
  if (funcs.size === 0) return 0;
  let sum = 0;
  const visit = (node: number) => {
    if (node !== ROOT && funcs.has(tree.func[node])) {
      sum += tree.total[node];
      return;
    }
    for (const c of tree.children[node]) visit(c);
  };
  visit(ROOT);
  return sum;
}
