// The call tree of a selection of samples, merged by function: what a flame graph draws and what
// the top-functions table sums. A run's stacks are already a tree (each stack is its parent plus
// one frame), so the tree is built in one pass over the stacks: a stack's node is its parent's
// node's child for its function. Python frames are lines; merged by function (name and file),
// a node remembers its hottest line, the one a click opens.

import type { ProfileFrame } from '../../api.ts';
import type { ProfileData, SampleFilter } from './profile-data.ts';

/** A function: every frame with its name and file. */
export interface FunctionInfo {
  name: string;
  file: string;
  lib: boolean;
}

export interface CallTree {
  functions: FunctionInfo[];
  /** Per node (0 is the root, which stands for all samples and has no function). */
  parent: Int32Array;
  func: Int32Array;
  self: Float64Array;
  total: Float64Array;
  /** The line with the most time in this node. */
  line: Int32Array;
  /** Children of each node, heaviest first. */
  children: number[][];
  count: number;
}

export const ROOT = 0;

/** The function ids of every frame, interned by name and file. */
export class FunctionTable {
  readonly functions: FunctionInfo[] = [];
  private readonly ids = new Map<string, number>();
  private readonly ofFrame: number[] = [];

  of(frames: readonly ProfileFrame[], frame: number): number {
    const known = this.ofFrame[frame];
    if (known !== undefined) return known;
    const f = frames[frame];
    const name = f ? f[0] : '?';
    const file = f ? f[1] : '';
    const key = `${name}\0${file}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.functions.length;
      this.ids.set(key, id);
      this.functions.push({ name, file, lib: f ? f[3] === 1 : true });
    }
    this.ofFrame[frame] = id;
    return id;
  }
}

/** The merged call tree of the samples `filter` selects. */
export function buildCallTree(data: ProfileData, filter: SampleFilter, table = new FunctionTable()): CallTree {
  const self = data.selfByStack(filter);
  const n = data.stackCount;
  const total = Float64Array.from(self);
  // A parent's id is smaller than its children's: one pass backwards sums the totals.
  for (let s = n - 1; s >= 0; s--) {
    const p = data.stackParent[s];
    if (p >= 0 && total[s] > 0) total[p] += total[s];
  }
  const nodeOf = new Int32Array(n).fill(-1);
  const parent: number[] = [-1];
  const func: number[] = [-1];
  const nodeSelf: number[] = [0];
  const nodeTotal: number[] = [0];
  const lineWeights: Map<number, number>[] = [new Map()];
  const childIndex: Map<number, number>[] = [new Map()];
  for (let s = 0; s < n; s++) {
    if (total[s] <= 0) continue;
    const p = data.stackParent[s];
    const up = p < 0 ? ROOT : nodeOf[p];
    if (up < 0) continue;
    const frame = data.stackFrame[s];
    const fn = table.of(data.frames, frame);
    let node = childIndex[up].get(fn);
    if (node === undefined) {
      node = parent.length;
      parent.push(up);
      func.push(fn);
      nodeSelf.push(0);
      nodeTotal.push(0);
      lineWeights.push(new Map());
      childIndex.push(new Map());
      childIndex[up].set(fn, node);
    }
    nodeOf[s] = node;
    nodeSelf[node] += self[s];
    nodeTotal[node] += total[s];
    const line = data.frames[frame]?.[2] ?? 0;
    lineWeights[node].set(line, (lineWeights[node].get(line) ?? 0) + total[s]);
  }
  for (let node = 1; node < nodeTotal.length; node++) {
    if (parent[node] === ROOT) nodeTotal[ROOT] += nodeTotal[node];
  }
  const count = parent.length;
  const children: number[][] = Array.from({ length: count }, () => []);
  for (let node = 1; node < count; node++) children[parent[node]].push(node);
  for (const c of children) c.sort((a, b) => nodeTotal[b] - nodeTotal[a] || a - b);
  const line = new Int32Array(count);
  for (let node = 1; node < count; node++) {
    let best = 0;
    let bestWeight = -1;
    for (const [l, w] of lineWeights[node]) {
      if (w > bestWeight) {
        best = l;
        bestWeight = w;
      }
    }
    line[node] = best;
  }
  return {
    functions: table.functions,
    parent: Int32Array.from(parent),
    func: Int32Array.from(func),
    self: Float64Array.from(nodeSelf),
    total: Float64Array.from(nodeTotal),
    line,
    children,
    count,
  };
}

export interface FunctionTotals {
  func: number;
  name: string;
  file: string;
  lib: boolean;
  /** Time with this function running (the leaf), ms. */
  self: number;
  /** Time with this function on the stack (once per sample, however deep it recurses), ms. */
  total: number;
  /** Its hottest line (where its own time went, else where it called from). */
  line: number;
}

/** Every function of the tree with its self and total time, most self time first. */
export function topFunctions(tree: CallTree): FunctionTotals[] {
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  const lines = new Map<number, { line: number; weight: number; self: boolean }>();
  const onPath = new Map<number, number>();
  const visit = (node: number) => {
    const fn = tree.func[node];
    if (node !== ROOT) {
      self.set(fn, (self.get(fn) ?? 0) + tree.self[node]);
      // Recursion counts once: only the outermost call of a function adds its total.
      if (!onPath.get(fn)) total.set(fn, (total.get(fn) ?? 0) + tree.total[node]);
      onPath.set(fn, (onPath.get(fn) ?? 0) + 1);
      const own = tree.self[node] > 0;
      const weight = own ? tree.self[node] : tree.total[node];
      const best = lines.get(fn);
      if (!best || (own && !best.self) || (own === best.self && weight > best.weight)) lines.set(fn, { line: tree.line[node], weight, self: own });
    }
    for (const c of tree.children[node]) visit(c);
    if (node !== ROOT) onPath.set(fn, (onPath.get(fn) ?? 1) - 1);
  };
  visit(ROOT);
  const rows: FunctionTotals[] = [];
  for (const [fn, t] of total) {
    const info = tree.functions[fn];
    rows.push({ func: fn, name: info.name, file: info.file, lib: info.lib, self: self.get(fn) ?? 0, total: t, line: lines.get(fn)?.line ?? 0 });
  }
  rows.sort((a, b) => b.self - a.self || b.total - a.total || a.name.localeCompare(b.name));
  return rows;
}
