// Builds what runs outside the renderer: the scenario runtime (loaded by every scenario process)
// and the CLI. Scenario processes need plain JavaScript, and one file each starts fastest.

import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
};

// `node scripts/build-node.mjs runtime` builds the runtime alone (tests of the runtime need no CLI).
const only = process.argv[2];
const all = [
  // keepNames: scenarios see these classes (`p.constructor.name`, tracebacks); without it the
  // bundler's renamed bindings show through (`_Process`, `_Queue`).
  () => build({ ...common, keepNames: true, entryPoints: { procscope: 'src-main/runtime/index.ts' }, outdir: 'out/runtime', outExtension: { '.js': '.mjs' } }),
  () => build({ ...common, entryPoints: { child: 'src-main/runtime/child.ts' }, outdir: 'out/runtime', outExtension: { '.js': '.mjs' } }),
  // sucrase is bundled too, in a chunk of its own that hooks.mjs imports only when a file needs
  // compiling: out/runtime then needs nothing from node_modules, so it works unpacked from a
  // packaged app's asar (electron-builder.config.mjs), where node_modules stays inside the asar.
  () => build({
    ...common,
    entryPoints: { hooks: 'src-main/runtime/hooks.ts' },
    outdir: 'out/runtime',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'hooks-[name]-[hash]',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  () => build({
    ...common,
    entryPoints: { procscope: 'src-main/cli/procscope.ts' },
    outdir: 'out/cli',
    outExtension: { '.js': '.mjs' },
    external: ['pidusage', 'sucrase', 'koffi'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
];
await Promise.all((only === 'runtime' ? all.slice(0, 3) : all).map((b) => b()));
