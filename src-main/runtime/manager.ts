// Python's multiprocessing Manager and the proxies of its dict, list, Namespace, Value and
// Array. Python keeps those objects in a manager's server process and each proxy call is a round
// trip to it; here they live in the monitor's broker, which every process already talks to, so a
// Manager starts no process. Each call is a round trip (awaited) and is counted as a read or a
// write of the object by the calling process (the window's "shared objects").
//
// Python's operators become methods: `d[k]` is `await d.getItem(k)`, `d[k] = v` is
// `await d.setItem(k, v)`, `len(l)` is `await l.len()`, `ns.x` is `await ns.get('x')`,
// `v.value` is `await v.get()`. Values cross by value, as queue items do.

import type { SharedKind } from '../common/object-kinds.ts';
import { Barrier, type BarrierOptions } from './barrier.ts';
import { Condition } from './condition.ts';
import { broker } from './connection.ts';
import { newObjectId } from './context.ts';
import { AttributeError, IndexError, KeyError, ValueError } from './errors.ts';
import { Event } from './event.ts';
import { decodeItem, encodeItem } from './item-codec.ts';
import { Lock } from './lock.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';
import { Queue } from './queue.ts';
import { BoundedSemaphore, Semaphore } from './semaphore.ts';

/** A value as Python's repr() shows it in an error message (`'x'`, `3`, `True`, `None`). */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

interface Call {
  key?: unknown;
  i?: number;
  name?: string;
  v?: unknown[];
}

/** What every proxy shares: its object's id and kind, and one round trip per call. */
abstract class SharedProxy implements Shareable {
  readonly #id: string;
  readonly #kind: SharedKind;

  protected constructor(kind: SharedKind, initial: unknown[] | null) {
    const ref = reviving();
    this.#kind = kind;
    if (ref) {
      this.#id = ref.id;
      return;
    }
    this.#id = newObjectId(kind);
    broker().send({ k: 'shnew', o: this.#id, kind, v: (initial ?? []).map(encodeItem) });
  }

  get id(): string {
    return this.#id;
  }

  [HANDLE](): HandleRef {
    return { kind: 'shared', id: this.#id, sub: this.#kind, ...this.handleExtra() };
  }

  /** What else a child's proxy needs (an Array's typecode). */
  protected handleExtra(): Partial<HandleRef> {
    return {};
  }

  /** Calls Python's `method` on the object; resolves the values it answers (and `n`). */
  protected async call(method: string, a: Call = {}): Promise<{ v: unknown[]; n: number }> {
    const o = this.#id;
    const reply = await broker().request((rid) => ({
      k: 'sh',
      rid,
      o,
      m: method,
      ...(a.key !== undefined ? { key: encodeItem(a.key) } : {}),
      ...(a.i !== undefined ? { i: a.i } : {}),
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.v !== undefined ? { v: a.v.map(encodeItem) } : {}),
    }));
    if (reply.k === 'ok') return { v: (reply.v ?? []).map(decodeItem), n: reply.n ?? 0 };
    const message = reply.message ?? 'manager call failed';
    const [name, ...rest] = message.split(': ');
    const text = rest.join(': ');
    if (name === 'KeyError') throw new KeyError(pyRepr(a.key));
    if (name === 'IndexError') throw new IndexError(text);
    if (name === 'ValueError') throw new ValueError(text);
    if (name === 'AttributeError') throw new AttributeError(a.name !== undefined ? `'Namespace' object has no attribute ${pyRepr(a.name)}` : text || method);
    throw new Error(message);
  }

  toString(): string {
    return `<${this.constructor.name} object, typeid '${this.#kind}' ${this.#id}>`;
  }
}

/** A manager's dict. */
export class DictProxy<K = unknown, V = unknown> extends SharedProxy {
  constructor(init?: Iterable<readonly [K, V]> | Record<string, V>) {
    const pairs: unknown[] = [];
    if (init && !reviving()) {
      const entries = Symbol.iterator in Object(init) ? (init as Iterable<readonly [K, V]>) : Object.entries(init);
      for (const [k, v] of entries) pairs.push(k, v);
    }
    super('dict', pairs);
  }
  /** `d[key]`: KeyError when missing. */
  async getItem(key: K): Promise<V> {
    return (await this.call('__getitem__', { key })).v[0] as V;
  }
  /** `d.get(key, default)`. */
  async get<D = undefined>(key: K, fallback?: D): Promise<V | D> {
    const { v } = await this.call('get', { key });
    return v.length > 0 ? (v[0] as V) : (fallback as D);
  }
  /** `d[key] = value`. */
  async setItem(key: K, value: V): Promise<void> {
    await this.call('__setitem__', { key, v: [value] });
  }
  /** `del d[key]`: KeyError when missing. */
  async delItem(key: K): Promise<void> {
    await this.call('__delitem__', { key });
  }
  /** `key in d`. */
  async has(key: K): Promise<boolean> {
    return (await this.call('__contains__', { key })).n === 1;
  }
  async len(): Promise<number> {
    return (await this.call('__len__')).n;
  }
  async keys(): Promise<K[]> {
    return (await this.call('keys')).v as K[];
  }
  async values(): Promise<V[]> {
    return (await this.call('values')).v as V[];
  }
  async items(): Promise<[K, V][]> {
    const { v } = await this.call('items');
    const out: [K, V][] = [];
    for (let j = 0; j + 1 < v.length; j += 2) out.push([v[j] as K, v[j + 1] as V]);
    return out;
  }
  /** `d.pop(key)`: KeyError when missing. */
  async pop(key: K): Promise<V> {
    return (await this.call('pop', { key })).v[0] as V;
  }
  async setdefault(key: K, value: V): Promise<V> {
    return (await this.call('setdefault', { key, v: [value] })).v[0] as V;
  }
  async update(entries: Iterable<readonly [K, V]>): Promise<void> {
    const v: unknown[] = [];
    for (const [k, x] of entries) v.push(k, x);
    await this.call('update', { v });
  }
  async clear(): Promise<void> {
    await this.call('clear');
  }
}

/** A manager's list. */
export class ListProxy<T = unknown> extends SharedProxy {
  constructor(init?: Iterable<T>) {
    super('list', init && !reviving() ? [...init] : null);
  }
  /** `l[i]` (negative counts from the end): IndexError when out of range. */
  async getItem(i: number): Promise<T> {
    return (await this.call('__getitem__', { i })).v[0] as T;
  }
  async setItem(i: number, value: T): Promise<void> {
    await this.call('__setitem__', { i, v: [value] });
  }
  /** `l[:]`: a copy of the whole list. */
  async toArray(): Promise<T[]> {
    return (await this.call('__getitem__')).v as T[];
  }
  async len(): Promise<number> {
    return (await this.call('__len__')).n;
  }
  async has(value: T): Promise<boolean> {
    return (await this.call('__contains__', { v: [value] })).n === 1;
  }
  async append(value: T): Promise<void> {
    await this.call('append', { v: [value] });
  }
  async extend(values: Iterable<T>): Promise<void> {
    await this.call('extend', { v: [...values] });
  }
  async insert(i: number, value: T): Promise<void> {
    await this.call('insert', { i, v: [value] });
  }
  /** `l.pop(i)` (default: the last). */
  async pop(i?: number): Promise<T> {
    return (await this.call('pop', i === undefined ? {} : { i })).v[0] as T;
  }
  async remove(value: T): Promise<void> {
    await this.call('remove', { v: [value] });
  }
}

/** A manager's Namespace: `ns.x` is `await ns.get('x')`, `ns.x = 1` is `await ns.set('x', 1)`. */
export class NamespaceProxy extends SharedProxy {
  constructor() {
    super('namespace', null);
  }
  async get<T = unknown>(name: string): Promise<T> {
    return (await this.call('__getattribute__', { name })).v[0] as T;
  }
  async set(name: string, value: unknown): Promise<void> {
    await this.call('__setattr__', { name, v: [value] });
  }
  async delete(name: string): Promise<void> {
    await this.call('__delattr__', { name });
  }
}

/** A manager's Value: `v.value` is `await v.get()`, `v.value = x` is `await v.set(x)`. */
export class ValueProxy<T = unknown> extends SharedProxy {
  constructor(value?: T) {
    super('value', reviving() ? null : [value]);
  }
  async get(): Promise<T> {
    return (await this.call('get')).v[0] as T;
  }
  async set(value: T): Promise<void> {
    await this.call('set', { v: [value] });
  }
}

/** A manager's Array of numbers. */
export class ArrayProxy extends SharedProxy {
  readonly #typecode: string;
  constructor(typecode = 'd', init: Iterable<number> | number = 0) {
    const ref = reviving();
    const values = ref ? null : typeof init === 'number' ? new Array<number>(init).fill(0) : [...init];
    super('array', values);
    this.#typecode = ref?.code ?? typecode;
  }
  protected override handleExtra(): Partial<HandleRef> {
    return { code: this.#typecode };
  }
  get typecode(): string {
    return this.#typecode;
  }
  async getItem(i: number): Promise<number> {
    return (await this.call('__getitem__', { i })).v[0] as number;
  }
  async setItem(i: number, value: number): Promise<void> {
    if (!'fd'.includes(this.#typecode) && !Number.isInteger(value)) throw new TypeError(`'float' object cannot be interpreted as an integer`);
    await this.call('__setitem__', { i, v: [value] });
  }
  async toArray(): Promise<number[]> {
    return (await this.call('__getitem__')).v as number[];
  }
  async len(): Promise<number> {
    return (await this.call('__len__')).n;
  }
}

/**
 * Python's Manager(): makes shared objects. Ours starts no server process (see top);
 * `shutdown()` is there for programs that call it. Its Lock, Queue, semaphores, Condition, Event
 * and Barrier are the runtime's own: those already live in the broker, where Python's manager
 * keeps its, and are logged the same way.
 */
export class Manager {
  Lock(): Lock {
    return new Lock();
  }
  Queue<T = unknown>(maxsize = 0): Queue<T> {
    return new Queue<T>(maxsize);
  }
  Semaphore(value = 1): Semaphore {
    return new Semaphore(value);
  }
  BoundedSemaphore(value = 1): BoundedSemaphore {
    return new BoundedSemaphore(value);
  }
  Condition(lock?: Lock): Condition {
    return new Condition(lock);
  }
  Event(): Event {
    return new Event();
  }
  Barrier(parties: number, options: BarrierOptions = {}): Barrier {
    return new Barrier(parties, options);
  }
  dict<K = unknown, V = unknown>(init?: Iterable<readonly [K, V]> | Record<string, V>): DictProxy<K, V> {
    return new DictProxy<K, V>(init);
  }
  list<T = unknown>(init?: Iterable<T>): ListProxy<T> {
    return new ListProxy<T>(init);
  }
  Namespace(): NamespaceProxy {
    return new NamespaceProxy();
  }
  Value<T>(_typecode: string, value: T): ValueProxy<T> {
    return new ValueProxy<T>(value);
  }
  Array(typecode: string, init: Iterable<number> | number): ArrayProxy {
    return new ArrayProxy(typecode, init);
  }
  shutdown(): void {}
}

const PROXIES: Record<string, () => SharedProxy> = {
  dict: () => new DictProxy(),
  list: () => new ListProxy(),
  namespace: () => new NamespaceProxy(),
  value: () => new ValueProxy(),
  array: () => new ArrayProxy(),
};

registerReviver('shared', () => PROXIES[reviving()?.sub ?? 'dict']());
