import type { DownMessage } from '../../protocol.ts';
import type { UnstampedEvent } from '../../api.ts';

/** One connected scenario process, as the queue and lock tables see it. */
export interface Peer {
  readonly pid: number;
  send(msg: DownMessage): void;
}

export type Emit = (event: UnstampedEvent) => void;
