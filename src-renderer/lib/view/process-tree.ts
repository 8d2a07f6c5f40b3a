// The process tree as the table and the lanes show it: parents above their children, a Pool's
// workers gathered under one "Pool" node, and any node foldable. Families too big to read at a
// glance (more than AUTO_FOLD children) start folded, so 1,000 workers under one parent are one
// line until someone opens them.

import type { ProcRow } from '../model/types.ts';

/** Children beyond which a node starts folded. */
export const AUTO_FOLD = 12;

export interface ProcessNode {
  kind: 'process';
  key: string;
  row: ProcRow;
  children: TreeNode[];
}

/** The workers of one Pool: consecutive pool workers of one parent, started while the others lived. */
export interface PoolNode {
  kind: 'pool';
  key: string;
  /** The parent's row key. */
  parent: string;
  children: ProcessNode[];
}

export type TreeNode = ProcessNode | PoolNode;

/** One visible line: a node at its depth, with what folding hides under it. */
export interface TreeLine {
  node: TreeNode;
  depth: number;
  /** Processes under this node (all depths). */
  descendants: number;
  folded: boolean;
}

/**
 * Builds the tree from rows in tree order (each row's `depth` as the model gives it). Pool workers
 * of a parent form a Pool node; a worker that starts after every worker of the current one has
 * exited starts another (a second Pool).
 */
export function buildTree(rows: readonly ProcRow[]): TreeNode[] {
  const roots: TreeNode[] = [];
  const stack: ProcessNode[] = [];
  const pools = new Map<string, PoolNode>();
  let poolCount = 0;
  for (const row of rows) {
    const node: ProcessNode = { kind: 'process', key: row.key, row, children: [] };
    while (stack.length > row.depth) stack.pop();
    const parent = stack[stack.length - 1];
    const siblings = parent ? parent.children : roots;
    if (parent && row.poolWorker) {
      let pool = pools.get(parent.key);
      const open = pool && pool === siblings[siblings.length - 1] && pool.children.some((w) => w.row.endedAt === null || (row.startedAt !== null && w.row.endedAt >= row.startedAt));
      if (!pool || !open) {
        pool = { kind: 'pool', key: `pool:${parent.key}:${++poolCount}`, parent: parent.key, children: [] };
        pools.set(parent.key, pool);
        siblings.push(pool);
      }
      pool.children.push(node);
    } else {
      siblings.push(node);
    }
    stack.push(node);
  }
  return roots;
}

function countProcesses(nodes: readonly TreeNode[]): number {
  let n = 0;
  for (const c of nodes) n += (c.kind === 'process' ? 1 : 0) + countProcesses(c.children);
  return n;
}

/**
 * The visible lines: depth first, skipping what folded nodes hide. `folds` holds explicit choices
 * (true: folded); a node without one is folded when it has more than AUTO_FOLD children.
 */
export function visibleLines(roots: readonly TreeNode[], folds: ReadonlyMap<string, boolean>): TreeLine[] {
  const out: TreeLine[] = [];
  const visit = (node: TreeNode, depth: number) => {
    const descendants = countProcesses(node.children);
    const folded = node.children.length > 0 && (folds.get(node.key) ?? node.children.length > AUTO_FOLD);
    out.push({ node, depth, descendants, folded });
    if (!folded) for (const c of node.children) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return out;
}

/** Every process row under a node (itself first for a process node). */
export function rowsUnder(node: TreeNode): ProcRow[] {
  const out: ProcRow[] = [];
  const visit = (n: TreeNode) => {
    if (n.kind === 'process') out.push(n.row);
    for (const c of n.children) visit(c);
  };
  visit(node);
  return out;
}

/** The keys of the nodes to unfold so that `key`'s row is visible. */
export function ancestorsOf(roots: readonly TreeNode[], key: string): string[] {
  const path: string[] = [];
  const find = (nodes: readonly TreeNode[]): boolean => {
    for (const n of nodes) {
      if (n.key === key) return true;
      path.push(n.key);
      if (find(n.children)) return true;
      path.pop();
    }
    return false;
  };
  return find(roots) ? path : [];
}
