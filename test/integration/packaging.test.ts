// The desktop package, as far as this machine can build it: electron-builder packs the built tree
// (out/, resources/python, the presets) with electron-builder.config.mjs, and its afterPack hook
// flips the fuses. Electron itself cannot be downloaded here, so it packs around a stand-in
// binary that holds what fuses live in (the sentinel and the fuse wire); everything else is the
// real configuration, the real tree and the real hook. Not covered: the real binary starting,
// the installers (AppImage, deb, dmg, nsis: their tools are downloaded too), signing.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpacked } from '../../src-main/core/paths.ts';
// @ts-expect-error: a plain ESM script, no types
import { FUSES } from '../../scripts/electron-fuses.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-packaging-'));
const app = path.join(work, 'dist', 'linux-unpacked');
const resources = path.join(app, 'resources');
let built: { status: number | null; output: string } = { status: null, output: '' };

/** What the fuse library looks for in an Electron binary (@electron/fuses, constants.js). */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSE_OFF = 0x30;
const FUSE_ON = 0x31;

beforeAll(() => {
  // A stand-in for Electron's unpacked zip: every fuse off, so each one set is the hook's doing.
  const dist = path.join(work, 'electron');
  fs.mkdirSync(path.join(dist, 'resources'), { recursive: true });
  const wire = Buffer.from([1, 8, ...Array<number>(8).fill(FUSE_OFF)]);
  fs.writeFileSync(path.join(dist, 'electron'), Buffer.concat([Buffer.from(`#!/bin/sh\n# ${SENTINEL}`), wire, Buffer.from('\n')]), { mode: 0o755 });
  fs.writeFileSync(path.join(dist, 'version'), JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version);
  fs.writeFileSync(path.join(dist, 'LICENSE'), '');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/electron-builder/cli.js'), '--config', 'electron-builder.config.mjs', '--linux', 'dir', `-c.electronDist=${dist}`, `-c.directories.output=${path.join(work, 'dist')}`],
    { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ELECTRON_BUILDER_CACHE: path.join(work, 'cache') } },
  );
  built = { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}, 200_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The paths inside an asar archive: its header is a JSON tree after two pickled lengths. */
function asarFiles(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    const json = Buffer.alloc(head.readUInt32LE(12));
    fs.readSync(fd, json, 0, json.length, 16);
    const out: string[] = [];
    const walk = (node: { files?: Record<string, unknown> }, at: string) => {
      for (const [name, child] of Object.entries(node.files ?? {})) {
        const p = at ? `${at}/${name}` : name;
        if ((child as { files?: unknown }).files) walk(child as { files: Record<string, unknown> }, p);
        else out.push(p);
      }
    };
    walk(JSON.parse(json.toString('utf8')) as { files: Record<string, unknown> }, '');
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

describe('the desktop package (electron-builder, Linux dir target, a stand-in Electron)', () => {
  it('packs', () => {
    expect(built.status, built.output.slice(-3000)).toBe(0);
    expect(fs.existsSync(path.join(resources, 'app.asar'))).toBe(true);
  });

  it('keeps in app.asar what the app loads, and nothing it does not need', () => {
    const files = asarFiles(path.join(resources, 'app.asar'));
    for (const f of ['package.json', 'out/main/main.js', 'out/preload/preload.cjs', 'out/renderer/index.html', 'node_modules/ws/package.json', 'node_modules/pidusage/package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|src-renderer|bench|scripts|docs)\//.test(f) || f.endsWith('.map') || f.includes('pyflakes')), 'no tests, sources or maps').toEqual([]);
    expect(files.filter((f) => f.startsWith('node_modules/electron/') || f.startsWith('node_modules/vitest/')), 'no dev dependencies').toEqual([]);
  });

  it('unpacks what other programs read, where the app looks for it (core/paths.ts)', () => {
    // In the package, core/paths.ts's packageRoot() is resources/app.asar.
    const asar = path.join(resources, 'app.asar');
    const need = [
      'out/runtime/child.mjs',
      'out/runtime/procscope.mjs',
      'out/runtime/hooks.mjs',
      'resources/python/sitecustomize.py',
      'resources/python/procscope_shim/_client.py',
      'resources/python/procscope_shim/_run_end.py',
      'resources/python/procscope_shim/_accel.c',
      'src-main/presets/python/hello.py',
      'src-main/presets/scenarios/hello.ts',
    ];
    for (const f of need) {
      const where = unpacked(path.join(asar, f));
      expect(where, f).toBe(path.join(resources, 'app.asar.unpacked', f));
      expect(fs.existsSync(where), `${f} unpacked`).toBe(true);
    }
    // Every module of the runtime the scenario processes load is there, chunks included.
    const runtime = fs.readdirSync(path.join(root, 'out/runtime')).filter((f) => f.endsWith('.mjs'));
    for (const f of runtime) expect(fs.existsSync(path.join(resources, 'app.asar.unpacked/out/runtime', f)), f).toBe(true);
  });

  it('the packaged binary has the fuses scenario processes need: RunAsNode on, and the rest as set', () => {
    const binary = fs.readFileSync(path.join(app, 'procscope'));
    const at = binary.indexOf(SENTINEL) + SENTINEL.length;
    expect(binary[at], 'fuse wire version').toBe(1);
    const wire = [...binary.subarray(at + 2, at + 2 + binary[at + 1])];
    const want = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ((FUSES as Record<number, boolean>)[i] ? FUSE_ON : FUSE_OFF));
    expect(wire).toEqual(want);
    expect(wire[0], 'RunAsNode: every scenario process is this binary with ELECTRON_RUN_AS_NODE=1').toBe(FUSE_ON);
    expect(wire[2], 'NODE_OPTIONS ignored').toBe(FUSE_OFF);
    expect(wire[3], '--inspect ignored').toBe(FUSE_OFF);
    expect(wire[5], 'the app loads only from app.asar').toBe(FUSE_ON);
  });
});

describe('core/paths.ts unpacked()', () => {
  it('maps a path inside app.asar to app.asar.unpacked, and leaves every other path alone', () => {
    expect(unpacked('/opt/procscope/resources/app.asar/out/runtime/child.mjs')).toBe('/opt/procscope/resources/app.asar.unpacked/out/runtime/child.mjs');
    expect(unpacked('C:\\procscope\\resources\\app.asar\\resources\\python')).toBe('C:\\procscope\\resources\\app.asar.unpacked\\resources\\python');
    expect(unpacked('/work/procscope/out/runtime/child.mjs')).toBe('/work/procscope/out/runtime/child.mjs');
    expect(unpacked('/x/app.asar.unpacked/y')).toBe('/x/app.asar.unpacked/y');
    expect(unpacked('/x/not-app.asarx/y')).toBe('/x/not-app.asarx/y');
  });
});
