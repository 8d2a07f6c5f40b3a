// The TypeScript runtime's Manager objects (a dict, list, Namespace, Value or Array shared by every
// process that holds its proxy). Python keeps them in a manager's server process; here they live
// in the broker, which every process already talks to. Values travel as the runtime's item bytes
// (runtime/item-codec.ts) and are kept as such: the broker compares and stores bytes, never
// decodes them, so a dict key is its bytes (1 and '1' are two keys, as in Python).
//
// Every call is counted as a read or a write of the object by its process (shared-counts.ts).
// Errors answer with Python's exception name and, where it does not depend on the value, its
// message; the runtime words the rest (`KeyError: 'x'`) from the value it sent.

import type { SharedKind } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import type { Peer } from './peer.ts';
import type { SharedCounts, SharedObject } from './shared-counts.ts';

type Bytes = Uint8Array;

/** A call's arguments, as the wire carries them. */
export interface SharedCall {
  /** A dict key. */
  key?: Bytes;
  /** A list or array index (negative counts from the end, as in Python). */
  i?: number;
  /** A Namespace attribute. */
  name?: string;
  /** Values (for a dict's items and update: key, value, key, value…). */
  v?: Bytes[];
}

type Answer = { v?: Bytes[]; n?: number } | { error: string; message?: string };

interface Store {
  counted: SharedObject;
  dict: Map<string, [Bytes, Bytes]>;
  list: Bytes[];
  ns: Map<string, Bytes>;
}

const keyOf = (b: Bytes): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const same = (a: Bytes, b: Bytes): boolean => Buffer.compare(a, b) === 0;

export class SharedObjects {
  private readonly stores = new Map<string, Store>();

  constructor(private readonly counts: SharedCounts) {}

  /** A new object; `v`: a Value's value, an Array's or a list's items, a dict's key, value pairs. */
  create(peer: Peer, id: string, kind: SharedKind, v: Bytes[]): void {
    if (this.stores.has(id)) return;
    const store: Store = { counted: this.counts.ensure(id, kind), dict: new Map(), list: [], ns: new Map() };
    if (kind === 'dict') for (let j = 0; j + 1 < v.length; j += 2) store.dict.set(keyOf(v[j]), [v[j], v[j + 1]]);
    else store.list = v.slice();
    this.stores.set(id, store);
    this.counts.created(peer, store.counted);
  }

  call(peer: Peer, id: string, rid: Rid, method: string, args: SharedCall): void {
    const store = this.stores.get(id);
    if (!store) return peer.send({ k: 'fail', rid, why: 'Error', message: `unknown object ${id}` });
    const answer = this.run(store, method, args);
    this.counts.called(peer, store.counted, method);
    if ('error' in answer) peer.send({ k: 'fail', rid, why: 'Error', message: answer.message ? `${answer.error}: ${answer.message}` : answer.error });
    else peer.send({ k: 'ok', rid, ...answer });
  }

  private run(s: Store, m: string, a: SharedCall): Answer {
    const kind = s.counted.kind;
    const v0 = a.v?.[0];
    if (kind === 'dict') return this.dict(s.dict, m, a, v0);
    if (kind === 'namespace') {
      const name = a.name ?? '';
      if (m === '__getattribute__') {
        const got = s.ns.get(name);
        return got ? { v: [got] } : { error: 'AttributeError' };
      }
      if (m === '__setattr__' && v0) return s.ns.set(name, v0), {};
      if (m === '__delattr__') return s.ns.delete(name) ? {} : { error: 'AttributeError' };
      return { error: 'AttributeError' };
    }
    if (kind === 'value') {
      if (m === 'get') return { v: s.list.slice(0, 1) };
      if (m === 'set' && v0) return (s.list = [v0]), {};
      return { error: 'AttributeError' };
    }
    return this.list(s, kind === 'array', m, a, v0);
  }

  private dict(d: Map<string, [Bytes, Bytes]>, m: string, a: SharedCall, v0: Bytes | undefined): Answer {
    const k = a.key ? keyOf(a.key) : '';
    const entry = a.key ? d.get(k) : undefined;
    switch (m) {
      case '__getitem__':
        return entry ? { v: [entry[1]] } : { error: 'KeyError' };
      case 'get':
        return { v: entry ? [entry[1]] : [] };
      case '__contains__':
        return { n: entry ? 1 : 0 };
      case '__setitem__':
        if (a.key && v0) d.set(k, [a.key, v0]);
        return {};
      case 'setdefault':
        if (!entry && a.key && v0) d.set(k, [a.key, v0]);
        return { v: [entry ? entry[1] : (v0 as Bytes)] };
      case '__delitem__':
      case 'pop':
        if (!entry) return { error: 'KeyError' };
        d.delete(k);
        return { v: [entry[1]] };
      case '__len__':
        return { n: d.size };
      case 'keys':
        return { v: [...d.values()].map((e) => e[0]) };
      case 'values':
        return { v: [...d.values()].map((e) => e[1]) };
      case 'items':
        return { v: [...d.values()].flat() };
      case 'update':
        for (let j = 0; a.v && j + 1 < a.v.length; j += 2) d.set(keyOf(a.v[j]), [a.v[j], a.v[j + 1]]);
        return {};
      case 'clear':
        d.clear();
        return {};
      default:
        return { error: 'AttributeError' };
    }
  }

  private list(s: Store, array: boolean, m: string, a: SharedCall, v0: Bytes | undefined): Answer {
    const l = s.list;
    const at = (i: number | undefined) => (i === undefined ? -1 : i < 0 ? i + l.length : i);
    const i = at(a.i);
    const inRange = i >= 0 && i < l.length;
    const what = array ? 'array' : 'list';
    switch (m) {
      case '__getitem__':
        if (a.i === undefined) return { v: l.slice() };
        return inRange ? { v: [l[i]] } : { error: 'IndexError', message: `${what} index out of range` };
      case '__setitem__':
        if (!inRange || !v0) return { error: 'IndexError', message: `${what} assignment index out of range` };
        l[i] = v0;
        return {};
      case '__len__':
        return { n: l.length };
      case '__contains__':
        return { n: v0 && l.some((x) => same(x, v0)) ? 1 : 0 };
    }
    if (array) return { error: 'AttributeError' };
    switch (m) {
      case 'append':
        if (v0) l.push(v0);
        return {};
      case 'extend':
        l.push(...(a.v ?? []));
        return {};
      case 'insert': {
        const j = Math.max(0, Math.min(l.length, a.i === undefined ? l.length : a.i < 0 ? a.i + l.length : a.i));
        if (v0) l.splice(j, 0, v0);
        return {};
      }
      case 'pop': {
        if (l.length === 0) return { error: 'IndexError', message: 'pop from empty list' };
        const j = a.i === undefined ? l.length - 1 : i;
        if (j < 0 || j >= l.length) return { error: 'IndexError', message: 'pop index out of range' };
        return { v: l.splice(j, 1) };
      }
      case 'remove': {
        const j = v0 ? l.findIndex((x) => same(x, v0)) : -1;
        if (j === -1) return { error: 'ValueError', message: 'list.remove(x): x not in list' };
        l.splice(j, 1);
        return {};
      }
      default:
        return { error: 'AttributeError' };
    }
  }
}
