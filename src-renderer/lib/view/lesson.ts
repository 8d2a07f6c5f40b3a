// Which view carries a run's lesson, so the window can put it first and give it room: a preset
// says it (PresetInfo.lesson); a program of your own gets one from what its run contains.

import type { LessonView } from '../../../src-main/api.ts';

export type { LessonView };

export const VIEWS: readonly LessonView[] = ['locks', 'workers', 'queues', 'timeline'];

/** What a run holds so far, enough to choose a view for a program that declared none. */
export interface RunContents {
  locks: number;
  queues: number;
  poolWorkers: number;
}

/**
 * The declared view, else: the lock lanes when the run has a lock (contention is the story),
 * the workers when it has a Pool (a Pool's own queues are plumbing, not the story), the queues
 * when it has one, and the process lifetimes otherwise.
 */
export function lessonFor(declared: LessonView | null | undefined, c: RunContents): LessonView {
  if (declared) return declared;
  if (c.locks > 0) return 'locks';
  if (c.poolWorkers > 0) return 'workers';
  if (c.queues > 0) return 'queues';
  return 'timeline';
}
