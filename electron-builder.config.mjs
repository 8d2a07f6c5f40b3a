// Desktop packages: `npm run dist` (needs the internet: electron-builder downloads Electron).
// AppImage and deb on Linux, dmg on macOS, an NSIS installer on Windows, each built on its own
// platform. What the app needs at run time is packed into app.asar; what OTHER programs read is
// unpacked beside it (app.asar.unpacked), where core/paths.ts finds it:
// - out/runtime: every scenario process (the app's binary run as Node) loads it; it imports
//   nothing from node_modules, which stays inside the asar (scripts/build-node.mjs), but koffi,
//   unpacked below, and only if it loads (runtime/own-output.ts);
// - resources/python: python3 puts it on its path, and cannot look inside an asar;
// - src-main/presets: the Python originals run under python3, and the sources are shown;
// - koffi's prebuilt binary (core/kernel.ts: the kernel's word on who connected and who wrote;
//   runtime/own-output.ts): a native module is loaded from a real file.
// The fuses are flipped after packing (scripts/electron-fuses.mjs): RunAsNode stays on.

import { flipPackagedFuses } from './scripts/electron-fuses.mjs';

export default {
  appId: 'dev.procscope.app',
  productName: 'procscope',
  copyright: 'MIT License',
  directories: { output: 'dist' },
  asar: true,
  files: [
    'package.json',
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    'out/runtime/**',
    'resources/python/sitecustomize.py',
    'resources/python/procscope_shim/*.py',
    'resources/python/procscope_shim/_accel.c',
    'src-main/presets/scenarios/*.ts',
    'src-main/presets/python/*.py',
    '!**/*.map',
  ],
  asarUnpack: ['out/runtime/**', 'resources/python/**', 'src-main/presets/**', 'node_modules/koffi/**', 'node_modules/@koromix/**'],
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Development',
    maintainer: 'procscope',
  },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
  afterPack: flipPackagedFuses,
};
