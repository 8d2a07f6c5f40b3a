// The Electron fuses of procscope's desktop packages, flipped in the packaged binary after
// electron-builder packs it (afterPack in electron-builder.config.mjs). Fuses are switches
// compiled into the Electron binary; whoever runs the app cannot turn them back.
//
// RunAsNode MUST stay on: every scenario process of a run is the app's own binary started with
// ELECTRON_RUN_AS_NODE=1 (core/session.ts), as a plain Node; without the fuse no TypeScript
// scenario could run. The others are off where procscope needs nothing they allow.

import path from 'node:path';
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';

export const FUSES = {
  version: FuseVersion.V1,
  // Every fuse this version of @electron/fuses knows is set here, so a new one cannot slip by.
  strictlyRequireAllFuses: true,
  [FuseV1Options.RunAsNode]: true,
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS and --inspect would let anyone who starts the app run code inside it.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // The app runs only from its app.asar, never from a loose folder put beside it.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // Left as Electron ships them: asar integrity is checked on macOS and Windows only, and needs
  // the integrity data electron-builder writes there (not verifiable on the machine this was
  // written on: no Electron download); the window loads its page from file:// and needs the
  // privileges Electron grants that protocol; no custom V8 snapshot is used.
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: false,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
};

/** The packaged Electron binary of an electron-builder afterPack context. */
export function packagedBinary(context) {
  const name = context.packager.appInfo.productFilename;
  switch (context.electronPlatformName) {
    case 'darwin':
    case 'mas':
      return path.join(context.appOutDir, `${name}.app`);
    case 'win32':
      return path.join(context.appOutDir, `${name}.exe`);
    default:
      return path.join(context.appOutDir, context.packager.executableName ?? name);
  }
}

export async function flipPackagedFuses(context) {
  const darwin = context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas';
  await flipFuses(packagedBinary(context), { ...FUSES, resetAdHocDarwinSignature: darwin });
}
