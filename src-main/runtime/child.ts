// Entry point of every scenario process (the root and each child). Hooks first, so that the
// scenario's `import ... from 'procscope'` and its TypeScript resolve; then the runtime, by the
// same URL the hook maps 'procscope' to, so the scenario and the bootstrap share one runtime.

import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
const runtime = (await import(new URL('./procscope.mjs', import.meta.url).href)) as { __boot(): Promise<void> };
await runtime.__boot();
