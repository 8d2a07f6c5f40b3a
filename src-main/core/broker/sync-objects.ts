// The broker's own Conditions, Events and Barriers (the TypeScript runtime's): each wait is a
// request answered when the object lets it go (ok: for a Barrier with the waiter's index), when
// its timeout passes (fail Timeout), or with an error (a broken Barrier: fail Error). What the
// object's state is, and what the log says, is sync-state.ts's, shared with a Python program's.
//
// A Condition's lock is an ordinary broker Lock the runtime holds: wait() registers here first,
// then releases the lock, so a notify from whoever takes the lock next finds it waiting.

import type { SyncKind } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import type { Peer } from './peer.ts';
import type { SyncState, SyncStates } from './sync-state.ts';

/** What Python's threading.Barrier raises to a wait it cannot complete. */
export const BROKEN_BARRIER = 'BrokenBarrierError';

interface Waiter {
  rid: Rid;
  timer: NodeJS.Timeout | null;
}

export type SyncOpName = 'notify' | 'set' | 'clear' | 'abort' | 'reset';

export class SyncTable {
  /** Per object, its waiting requests by process (a process waits once per object: it awaits). */
  private readonly waits = new Map<SyncState, Map<Peer, Waiter[]>>();

  constructor(private readonly states: SyncStates) {}

  create(peer: Peer, id: string, kind: SyncKind, opts: { lock?: string; parties?: number }): void {
    const s = this.states.ensure(id, kind);
    if (!s.announced) this.states.created(peer, s, undefined, opts);
  }

  private find(peer: Peer, id: string, rid?: Rid): SyncState | null {
    const s = this.states.get(id);
    if (!s?.announced) {
      if (rid !== undefined) peer.send({ k: 'fail', rid, why: 'Error', message: `unknown object ${id}` });
      return null;
    }
    return s;
  }

  /** A wait: a Condition's wait(), an Event's wait(), a Barrier's wait(); `timeout` in seconds; `at`: the process's stamp. */
  wait(peer: Peer, id: string, rid: Rid, timeout: number | null, at?: number): void {
    const s = this.find(peer, id, rid);
    if (!s) return;
    const released = this.states.waited(peer, s, at);
    if (released === null) return peer.send({ k: 'fail', rid, why: 'Error', message: BROKEN_BARRIER });
    if (released !== undefined && released.includes(peer) && s.kind === 'event') return peer.send({ k: 'ok', rid });
    const w: Waiter = { rid, timer: null };
    this.line(s, peer).push(w);
    if (released !== undefined) {
      // The last party: every waiter of the generation goes, each told its arrival index.
      released.forEach((p, i) => this.answer(s, p, { k: 'ok', rid: 0, n: i }));
      return;
    }
    if (timeout !== null) {
      w.timer = setTimeout(() => {
        w.timer = null;
        const others = this.states.timedOut(peer, s);
        this.answer(s, peer, { k: 'fail', rid: 0, why: s.kind === 'barrier' ? 'Error' : 'Timeout', ...(s.kind === 'barrier' ? { message: BROKEN_BARRIER } : {}) }, w);
        for (const p of others) this.answer(s, p, { k: 'fail', rid: 0, why: 'Error', message: BROKEN_BARRIER });
      }, timeout * 1000);
    }
  }

  op(peer: Peer, id: string, op: SyncOpName, n: number, at?: number): void {
    const s = this.find(peer, id);
    if (!s) return;
    switch (op) {
      case 'notify':
        if (s.kind !== 'condition') return;
        for (const p of this.states.notified(peer, s, n, true, at)) this.answer(s, p, { k: 'ok', rid: 0 });
        return;
      case 'set':
        if (s.kind !== 'event') return;
        for (const p of this.states.set(peer, s, at)) this.answer(s, p, { k: 'ok', rid: 0 });
        return;
      case 'clear':
        if (s.kind === 'event') this.states.clear(peer, s, at);
        return;
      case 'abort':
      case 'reset':
        if (s.kind !== 'barrier') return;
        for (const p of this.states.broke(peer, s, op, at)) this.answer(s, p, { k: 'fail', rid: 0, why: 'Error', message: BROKEN_BARRIER });
        return;
    }
  }

  /** Answers a question about the object now: an Event's is_set() (1 or 0), a Barrier's n_waiting, or broken (1 or 0). */
  query(peer: Peer, id: string, rid: Rid, what: 'set' | 'waiting' | 'broken'): void {
    const s = this.find(peer, id, rid);
    if (!s) return;
    const n = what === 'set' ? Number(s.isSet) : what === 'broken' ? Number(s.broken) : s.waiters.length;
    peer.send({ k: 'ok', rid, n });
  }

  /** A process is gone: its waits go (sync-state.ts forgets them), its timers stop. */
  disconnect(peer: Peer): void {
    for (const byPeer of this.waits.values()) {
      for (const w of byPeer.get(peer) ?? []) if (w.timer) clearTimeout(w.timer);
      byPeer.delete(peer);
    }
  }

  dispose(): void {
    for (const byPeer of this.waits.values()) for (const ws of byPeer.values()) for (const w of ws) if (w.timer) clearTimeout(w.timer);
  }

  private line(s: SyncState, peer: Peer): Waiter[] {
    let byPeer = this.waits.get(s);
    if (!byPeer) this.waits.set(s, (byPeer = new Map()));
    let ws = byPeer.get(peer);
    if (!ws) byPeer.set(peer, (ws = []));
    return ws;
  }

  /** Answers `peer`'s oldest wait on `s` (or the given one) with `reply`, its rid filled in. */
  private answer(s: SyncState, peer: Peer, reply: { k: 'ok'; rid: Rid; n?: number } | { k: 'fail'; rid: Rid; why: 'Timeout' | 'Error'; message?: string }, which?: Waiter): void {
    const ws = this.waits.get(s)?.get(peer);
    if (!ws || ws.length === 0) return;
    const i = which ? ws.indexOf(which) : 0;
    if (i === -1) return;
    const [w] = ws.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    peer.send({ ...reply, rid: w.rid });
  }
}
