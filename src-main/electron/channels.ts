// The two IPC channels between the preload and the main process, and the reply shape of a call.
// Shared by main.ts and preload.ts (the preload bundles it): no electron or node imports here.
//
// As VS Code's ipcMain does, every channel carries our prefix, and errors cross as data: a
// command's failure is a value `{ ok: false, error }`, never a thrown object, so nothing live and
// nothing of the main process's stack reaches the page.

import type { ApiError } from '../api.ts';

export const CHANNEL_PREFIX = 'procscope:';
/** renderer -> main: `invoke(CALL_CHANNEL, command, args)`, answered with an `IpcReply`. */
export const CALL_CHANNEL = `${CHANNEL_PREFIX}call`;
/** main -> renderer: one `PushMessage` per send. */
export const PUSH_CHANNEL = `${CHANNEL_PREFIX}push`;

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: ApiError };
