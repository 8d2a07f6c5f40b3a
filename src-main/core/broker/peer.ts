import type { DownMessage } from '../../protocol.ts';
import type { RunEvent, UnstampedEvent } from '../../api.ts';

/** One connected scenario process, as the queue and lock tables see it. */
export interface Peer {
  readonly pid: number;
  /** Understands lent locks (the TypeScript runtime does; a reporting shim may not). */
  readonly borrows?: boolean;
  send(msg: DownMessage): void;
}

/**
 * Hands an event to the session, which stamps `t`. Hot producers may pass it with `t: 0` already
 * in first place: the session then sets it in place instead of copying the event.
 */
export type Emit = (event: UnstampedEvent | RunEvent) => void;
