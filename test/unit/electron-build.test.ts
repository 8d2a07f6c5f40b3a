// electron.vite.config.ts builds the main process and the preload without the Electron binary,
// into what Electron needs: an ESM main that loads only Node builtins, electron and the package's
// dependencies; a preload that is ONE CommonJS file requiring nothing but 'electron' (a sandboxed
// preload cannot load a second file of ours, nor anything from node_modules).
// The renderer entry is vite.config.ts's build, which its own tests cover.

import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from 'electron-vite';
import { build, type InlineConfig } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
let outDir = '';

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-electron-build-'));
  const { config } = await resolveConfig(
    { root, configFile: path.join(root, 'electron.vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' },
    'build',
    'production',
  );
  for (const target of ['main', 'preload'] as const) {
    const viteConfig = config?.[target];
    if (!viteConfig) throw new Error(`electron.vite.config.ts has no ${target} entry`);
    await build(viteConfig as InlineConfig);
  }
}, 120_000);

afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return fs.readdirSync(path.join(outDir, dir)).filter((f) => !f.endsWith('.map'));
}

/** Module specifiers a built file loads, static or dynamic, ESM or CommonJS. */
function loads(code: string): string[] {
  const specs = new Set<string>();
  for (const re of [/\bimport\s*(?:[^'"();]*?\s*from\s*)?["']([^"']+)["']/g, /\bimport\(\s*["']([^"']+)["']\s*\)/g, /\brequire\(\s*["']([^"']+)["']\s*\)/g]) {
    for (const m of code.matchAll(re)) specs.add(m[1]);
  }
  return [...specs].sort();
}

describe('electron-vite build (no Electron binary needed)', () => {
  it('main: one ESM file, out/main/main.js, loading only builtins, electron and dependencies', () => {
    expect(files('main')).toEqual(['main.js']);
    const code = fs.readFileSync(path.join(outDir, 'main/main.js'), 'utf8');
    expect(code).toMatch(/^import .* from "electron";$/m);
    expect(code).not.toMatch(/\brequire\(\s*["']/);
    const allowed = new Set(['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`), ...Object.keys(pkg.dependencies ?? {})]);
    expect(loads(code).filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('main: finds the preload and the renderer where the build puts them', () => {
    const code = fs.readFileSync(path.join(outDir, 'main/main.js'), 'utf8');
    expect(code).toContain('"../preload/preload.cjs"');
    expect(code).toContain('"../renderer/index.html"');
  });

  it('preload: ONE CommonJS file, out/preload/preload.cjs, requiring only electron', () => {
    expect(files('preload')).toEqual(['preload.cjs']);
    const code = fs.readFileSync(path.join(outDir, 'preload/preload.cjs'), 'utf8');
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    expect(loads(code)).toEqual(['electron']);
    expect(code).toContain('exposeInMainWorld("procscope"');
  });
});
