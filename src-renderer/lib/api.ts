// The renderer's one way to the engine: Electron's preload object when the page runs in the
// window, else the web shell's WebSocket client. Both implement ProcscopeApi, so nothing else in
// the renderer knows which shell it is in.

import type { ProcscopeApi } from '../../src-main/api.ts';
import { createWsApi } from './api-ws.ts';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a browser. */
    procscope?: ProcscopeApi;
  }
}

let api: ProcscopeApi | null = null;

export function getApi(): ProcscopeApi {
  api ??= window.procscope ?? createWsApi();
  return api;
}
