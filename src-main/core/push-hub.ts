// Pushes to the pages of the window shells: live events in batches, and replays that join them
// without a gap or a repeat.
//
// Live events. A Session calls its listeners once per event, and a queue benchmark emits ~200k
// events/s, so events are never forwarded one by one: the listener only appends to an array, and
// a timer (BATCH_MS) turns what gathered into ONE `events` push. Every live batch carries the
// run-wide index of its first event (`LiveBatch.start`), which is what makes replays exact.
//
// Replays (`run.current`). A page that (re)connects needs the run's events so far, then the live
// ones, with nothing lost or repeated across the switch. The events so far are read back from the
// run log, never kept in memory (a long run's log is far larger than what we want to hold):
//   1. At the request, the subscriber starts HOLDING: live pushes for it are queued, not sent.
//      Every event already pushed to it was appended to the log before this moment.
//   2. After a setImmediate the log holds at least those events: the writer flushes at the end of
//      the turn in which it appended (its setImmediate was queued before ours, and immediates run
//      in order). We read the log to its end: F events, sent as `replay: true` pushes.
//   3. The held pushes are then released, minus their events with index < F; later live batches
//      for this run are cut at F too (a batch pending in the timer may straddle F).
// The command's result is returned before step 2 starts, so over an ordered channel the page
// receives the result first, then the replay, then live events: it resets its model on the result.
//
// The session's onEvent listener sees a run from its first event (`run`), so live pushes start at
// index 0: events emitted inside Session.start wait in `pending` for the first batch.

import type { EndEvent, PushMessage, RunEvent, RunInfo, RunStatus } from '../api.ts';
import { readRunLog } from './runlog/reader.ts';
import type { Session } from './session.ts';

/**
 * Receives pushes. It may return a promise to say "I am congested": replays (which the hub can
 * pace, unlike live events) wait for it before pushing more.
 */
export type PushListener = (message: PushMessage) => void | Promise<void>;

/** Live events are gathered this long before one push carries them all. */
export const BATCH_MS = 50;
/** A live push never carries more than this many events (a burst is split). */
export const LIVE_BATCH_MAX = 20_000;
/** Events per replay push. */
export const REPLAY_BATCH = 5_000;

interface LiveBatch {
  runId: string;
  /** Run-wide index (0 = the `run` event) of events[0]. */
  start: number;
  events: RunEvent[];
}

type Held = { kind: 'batch'; batch: LiveBatch } | { kind: 'message'; message: PushMessage };

export interface Subscriber {
  listener: PushListener;
  /** Non-null while a `run.current` replay is being sent to it: live pushes wait here, in order. */
  held: Held[] | null;
  /** Bumped by every replay request: a superseded replay stops and leaves the release to the new one. */
  replayGeneration: number;
  /** After a replay: events of this run with a smaller index were in the replay, so are not sent again. */
  skip: { runId: string; index: number } | null;
}

export interface CurrentRun {
  session: Session;
  info: RunInfo;
  end: EndEvent | null;
  /** Events caught by the listener and not pushed yet. */
  pending: RunEvent[];
  /** Run-wide index of pending[0]. */
  nextIndex: number;
  timer: NodeJS.Timeout | null;
  off: () => void;
}

export class PushHub {
  private readonly subs = new Set<Subscriber>();

  /** Receives every push from now on; returns the unsubscribe function. */
  subscribe(listener: PushListener): () => void {
    const sub: Subscriber = { listener, held: null, replayGeneration: 0, skip: null };
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  clear(): void {
    this.subs.clear();
  }

  /** Who a push answering `requester` goes to: it alone, or everyone when nobody asked. */
  targets(requester?: PushListener): Subscriber[] {
    const all = [...this.subs];
    if (requester === undefined) return all;
    return all.filter((s) => s.listener === requester);
  }

  /** Progress of a task, to the subscribers that asked for it. */
  progress(targets: Subscriber[], task: string, fraction: number): void {
    for (const sub of targets) if (this.subs.has(sub)) void sub.listener({ type: 'progress', task, fraction });
  }

  /** The session's listener: called once per event, so it only appends. */
  onEvent(run: CurrentRun, e: RunEvent): void {
    run.pending.push(e);
    if (e.type === 'end') {
      run.end = e;
      run.off();
      if (run.timer) clearTimeout(run.timer);
      run.timer = null;
      // The end goes out at once, followed by the status that says so.
      this.flushLive(run);
      this.broadcast({ type: 'run', status: status(run) });
      return;
    }
    if (run.pending.length >= LIVE_BATCH_MAX) this.flushLive(run);
    else this.arm(run);
  }

  /** Pushes what is pending after BATCH_MS (events that came before the run record existed, say). */
  arm(run: CurrentRun): void {
    if (run.timer === null && run.pending.length > 0) {
      run.timer = setTimeout(() => {
        run.timer = null;
        this.flushLive(run);
      }, BATCH_MS);
    }
  }

  /** Pushes everything pending as batches. */
  private flushLive(run: CurrentRun): void {
    while (run.pending.length > 0) {
      const events = run.pending.length <= LIVE_BATCH_MAX ? run.pending : run.pending.slice(0, LIVE_BATCH_MAX);
      run.pending = events === run.pending ? [] : run.pending.slice(LIVE_BATCH_MAX);
      const batch: LiveBatch = { runId: run.info.runId, start: run.nextIndex, events };
      run.nextIndex += events.length;
      for (const sub of this.subs) this.deliver(sub, batch);
    }
  }

  private deliver(sub: Subscriber, batch: LiveBatch): void {
    if (sub.held) {
      sub.held.push({ kind: 'batch', batch });
      return;
    }
    let events = batch.events;
    const skip = sub.skip;
    if (skip && skip.runId === batch.runId) {
      const cut = skip.index - batch.start;
      if (cut >= events.length) return;
      if (cut > 0) events = events.slice(cut);
      sub.skip = null;
    }
    void sub.listener({ type: 'events', runId: batch.runId, events });
  }

  /** A push every page gets, in order with the live events (held during a replay). */
  broadcast(message: PushMessage): void {
    for (const sub of this.subs) {
      if (sub.held) sub.held.push({ kind: 'message', message });
      else void sub.listener(message);
    }
  }

  /** `run.current`: the run's status now; its events so far follow as a replay (see the top). */
  current(run: CurrentRun, requester?: PushListener): RunStatus {
    const targets = this.targets(requester);
    const generations = new Map<Subscriber, number>();
    for (const sub of targets) {
      sub.held ??= [];
      generations.set(sub, ++sub.replayGeneration);
    }
    if (targets.length > 0) void this.replayCurrent(run, targets, generations);
    return status(run);
  }

  private async replayCurrent(run: CurrentRun, targets: Subscriber[], generations: Map<Subscriber, number>): Promise<void> {
    const current = () => targets.filter((s) => this.subs.has(s) && s.replayGeneration === generations.get(s));
    // See the top of the file: after this, the log holds every event already pushed to the targets.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let count = 0;
    try {
      let batch: RunEvent[] = [];
      for await (const event of readRunLog(run.info.logPath)) {
        batch.push(event);
        count++;
        if (batch.length >= REPLAY_BATCH) {
          const live = current();
          if (live.length === 0) return;
          await this.pushReplay(live, run.info.runId, batch);
          batch = [];
        }
      }
      const live = current();
      if (batch.length > 0 && live.length > 0) await this.pushReplay(live, run.info.runId, batch);
    } catch {
      // An unreadable log: the page gets what could be read, then the live events.
    } finally {
      for (const sub of current()) this.release(sub, run.info.runId, count);
    }
  }

  private release(sub: Subscriber, runId: string, replayed: number): void {
    const held = sub.held ?? [];
    sub.held = null;
    sub.skip = { runId, index: replayed };
    for (const h of held) {
      if (h.kind === 'batch') this.deliver(sub, h.batch);
      else void sub.listener(h.message);
    }
  }

  /** Replay pushes, paced by the slowest target. */
  async pushReplay(targets: Subscriber[], runId: string, events: RunEvent[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const sub of targets) {
      if (!this.subs.has(sub)) continue;
      const r = sub.listener({ type: 'events', runId, events, replay: true });
      if (r) waits.push(r);
    }
    if (waits.length > 0) await Promise.all(waits);
  }
}

export function status(run: CurrentRun): RunStatus {
  return { ...run.info, state: run.end === null ? 'running' : 'ended', end: run.end };
}
