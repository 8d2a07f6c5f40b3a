// Builds the renderer frame-time bench page (bench/renderer-frames.html) with the real RunStore
// and charts:  npx vite build --config bench/vite.renderer-bench.config.ts
// then serve bench/.out/renderer-frames/ over http (module scripts do not load from file://).
// `npx vite --config bench/vite.renderer-bench.config.ts` serves it directly while developing.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: path.join(here, '.out', 'renderer-frames'),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: path.join(here, 'renderer-frames.html') },
  },
});
