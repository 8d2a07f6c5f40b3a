// The preload: runs sandboxed (no Node), before the page, in its own isolated world. It hands the
// page exactly one object, `window.procscope`, implementing the same `ProcscopeApi` as the browser
// shell's WebSocket client, so the renderer cannot tell which shell it runs in.
//
// Never expose ipcRenderer (or a function that forwards an arbitrary channel): the page would then
// reach every channel of the main process. The page gets `call` on one channel and `subscribe` on
// one channel, and never sees an IpcRendererEvent (its `sender` is ipcRenderer itself).
//
// Built by electron-vite into ONE CommonJS file (out/preload/preload.cjs): a sandboxed preload can
// `require('electron')` but no file of ours, so nothing may be split into chunks.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CommandName, Commands, ProcscopeApi, PushMessage } from '../api.ts';
import { CALL_CHANNEL, PUSH_CHANNEL, type IpcReply } from './channels.ts';

function isReply(v: unknown): v is IpcReply {
  return typeof v === 'object' && v !== null && typeof (v as { ok?: unknown }).ok === 'boolean';
}

const api: ProcscopeApi = {
  async call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    const reply: unknown = await ipcRenderer.invoke(CALL_CHANNEL, command, args);
    if (!isReply(reply)) throw new Error(`${command}: malformed reply from the main process`);
    if (reply.ok) return reply.result as Commands[C]['result'];
    // The contextBridge copies an Error's message to the page but may drop other properties.
    const error = new Error(reply.error.message);
    error.name = reply.error.name;
    throw error;
  },

  subscribe(listener: (msg: PushMessage) => void): () => void {
    // One handler per subscription, so unsubscribing removes exactly this one and no other.
    const handler = (_event: IpcRendererEvent, msg: PushMessage): void => listener(msg);
    ipcRenderer.on(PUSH_CHANNEL, handler);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipcRenderer.removeListener(PUSH_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('procscope', api);
