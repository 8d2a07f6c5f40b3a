// The renderer: one build served by both shells (Electron loads it from disk, the web shell over
// loopback HTTP), so asset paths are relative.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

/**
 * The bundled Chinese face (@fontsource/noto-sans-sc, SIL OFL 1.1) declares ~100 unicode-range
 * slices of CJK characters, plus Latin, Cyrillic and Vietnamese ones, each as woff2 with a woff
 * fallback. Only the CJK slices are kept (Latin text stays in the system's UI font, so the face
 * can come first in the font stacks without touching it), and only as woff2, which Chromium and
 * Electron read: the rest would only have grown the build. The browser fetches a slice only when
 * a character of its range is on screen.
 */
function cjkSlicesOnly(): Plugin {
  return {
    name: 'procscope:cjk-slices-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/@fontsource[\\/]noto-sans-sc[\\/]\d+\.css$/.test(id)) return null;
      const kept = code
        .split(/(?=\/\* noto-sans-sc-)/)
        .filter((block) => !/^\/\* noto-sans-sc-(latin|latin-ext|cyrillic|vietnamese)-/.test(block))
        .join('')
        .replace(/,\s*url\([^)]*\.woff\)\s*format\('woff'\)/g, '')
        // The CJK slices carry a few ASCII signs too ($ # = < & ^ `): those stay the system's,
        // or code would change font in the middle of a line.
        .replace(/unicode-range:([^;]*);/g, (_m, list: string) => {
          const ranges = list.split(',').filter((r) => parseInt(r.trim().replace(/^U\+/i, '').split('-')[0], 16) >= 0x300);
          return `unicode-range: ${ranges.map((r) => r.trim()).join(',')};`;
        });
      return { code: kept, map: null };
    },
  };
}

export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [cjkSlicesOnly(), svelte()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // Never inline a font slice as a data: URL: the CSP loads fonts from 'self' only.
    assetsInlineLimit: (file) => (/\.woff2?$/.test(file) ? false : undefined),
  },
});
