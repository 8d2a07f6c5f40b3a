// The renderer: one build served by both shells (Electron loads it from disk, the web shell over
// loopback HTTP), so asset paths are relative.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

/**
 * The bundled Chinese face (@fontsource/noto-sans-sc, SIL OFL 1.1) declares each of its ~100
 * unicode-range slices as woff2 with a woff fallback. Chromium and Electron read woff2, so the
 * fallbacks only doubled the build: they are dropped before Vite copies the files. The browser
 * fetches a slice only when a character of its range is on screen.
 */
function woff2Only(): Plugin {
  return {
    name: 'procscope:woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/@fontsource[\\/]noto-sans-sc[\\/]\d+\.css$/.test(id)) return null;
      return { code: code.replace(/,\s*url\([^)]*\.woff\)\s*format\('woff'\)/g, ''), map: null };
    },
  };
}

export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [woff2Only(), svelte()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // Never inline a font slice as a data: URL: the CSP loads fonts from 'self' only.
    assetsInlineLimit: (file) => (/\.woff2?$/.test(file) ? false : undefined),
  },
});
