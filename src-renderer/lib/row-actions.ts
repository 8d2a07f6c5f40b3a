// Which process controls make sense for a row, as in Python's Process: start() only once, on an
// object not started yet; terminate()/kill() on a running process; join() once started; close()
// on any object not closed yet, including a running one, where Python raises ValueError (that
// error is the lesson, so the button stays enabled).

import type { ProcessState } from '../../src-main/api.ts';

export type RowAction = 'start' | 'join' | 'terminate' | 'kill' | 'close';

export const ROW_ACTIONS: readonly RowAction[] = ['start', 'join', 'terminate', 'kill', 'close'];

export interface ActionRow {
  handle: string | null;
  pid: number | null;
  state: ProcessState;
}

/** Why a control is disabled, or null when it is enabled. */
export type DisabledWhy = null | 'not-live' | 'no-object' | 'state';

export function actionDisabled(action: RowAction, row: ActionRow, live: boolean): DisabledWhy {
  if (!live) return 'not-live';
  const hasObject = row.handle !== null;
  switch (action) {
    case 'start':
      if (!hasObject) return 'no-object';
      return row.state === 'created' ? null : 'state';
    case 'join':
      if (!hasObject && row.pid === null) return 'no-object';
      return row.state === 'running' || row.state === 'exited' ? null : 'state';
    case 'terminate':
    case 'kill':
      return row.state === 'running' && row.pid !== null ? null : 'state';
    case 'close':
      if (!hasObject) return 'no-object';
      return row.state === 'closed' ? 'state' : null;
  }
}
