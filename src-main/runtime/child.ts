// Entry point of every scenario process (the root and each child). Hooks first, so that the
// scenario's `import ... from 'procscope'` and its TypeScript resolve; then the runtime, by the
// same URL the hook maps 'procscope' to, so the scenario and the bootstrap share one runtime.
// When the monitor compiled the scenario ahead (core/scenario-compiler.ts), its modules already
// name the runtime by that URL and hold no TypeScript: no hooks, and no loader thread to start
// (module.register() costs a process ~55 ms of CPU). Children inherit the variable, spares too.

import { register } from 'node:module';
import { ENV_COMPILED } from '../protocol.ts';

if (!process.env[ENV_COMPILED]) register(new URL('./hooks.mjs', import.meta.url));
const runtime = (await import(new URL('./procscope.mjs', import.meta.url).href)) as { __boot(): Promise<void> };
await runtime.__boot();
