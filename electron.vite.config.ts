// The Electron build: three entries, as electron-vite's templates have them.
//   main      src-main/electron/main.ts    -> out/main/main.js        (ESM: the package is "type": "module")
//   preload   src-main/electron/preload.ts -> out/preload/preload.cjs (ONE CommonJS file)
//   renderer  src-renderer/index.html      -> out/renderer            (the settings of vite.config.ts)
// `npx electron-vite build` needs only node_modules/electron/package.json (for the version it
// targets), never the Electron binary.

import path from 'node:path';
import { defineConfig } from 'electron-vite';
import renderer from './vite.config.ts';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: path.join(root, 'out/main'),
      // The package's dependencies (pidusage, sucrase, ws) stay in node_modules, loaded at run
      // time; electron, node builtins and everything of ours are bundled or external as usual.
      externalizeDeps: true,
      sourcemap: true,
      rollupOptions: {
        input: { main: path.join(root, 'src-main/electron/main.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out/preload'),
      // A sandboxed preload can require('electron') and a few builtins, but no file of ours and
      // nothing from node_modules: bundle everything into the one file.
      externalizeDeps: false,
      sourcemap: true,
      rollupOptions: {
        input: { preload: path.join(root, 'src-main/electron/preload.ts') },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
          codeSplitting: false,
        },
      },
    },
  },
  // The renderer is one build for both shells (Electron from disk, the browser over loopback):
  // vite.config.ts says how; only its paths are restated, because electron-vite resolves outDir
  // against the project root rather than against `root`.
  renderer: {
    ...renderer,
    root: path.join(root, 'src-renderer'),
    build: {
      ...renderer.build,
      outDir: path.join(root, 'out/renderer'),
      rollupOptions: { input: path.join(root, 'src-renderer/index.html') },
    },
  },
});
