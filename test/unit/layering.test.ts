// The dependency rule of docs/DESIGN (shared/DESIGN.md): renderer -> api.ts (types only) <- shells
// -> core -> protocol.ts <- runtime. Nothing points the other way. Under all of them, common/:
// pure rules that the engine and the renderer share (spans, names, ranges), importing nothing.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.(ts|svelte)$/.test(d.name))
    .map((d) => path.join(d.parentPath, d.name));
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

function imports(file: string): Import[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const spec = m[3] ?? m[4];
    out.push({ spec, typeOnly: Boolean(m[2]) });
  }
  return out;
}

function resolved(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.relative(root, path.resolve(path.dirname(file), spec));
}

function violations(dir: string, rule: (imp: Import, target: string | null) => string | null): string[] {
  const found: string[] = [];
  for (const f of files(dir)) {
    for (const imp of imports(f)) {
      const why = rule(imp, resolved(f, imp.spec));
      if (why) found.push(`${path.relative(root, f)} imports '${imp.spec}': ${why}`);
    }
  }
  return found;
}

describe('dependency rule', () => {
  it('finds the imports it checks (the checker itself works)', () => {
    const rootImports = imports(path.join(root, 'src-main/core/root/runner.ts')).map((i) => i.spec);
    expect(rootImports).toContain('../../api.ts');
    expect(rootImports).toContain('node:child_process');
    const typeOnly = imports(path.join(root, 'src-main/common/lock-spans.ts')).find((i) => i.spec === '../api.ts');
    expect(typeOnly?.typeOnly, 'an `import type` is told apart').toBe(true);
  });

  it('common/ imports nothing but common/ and, as types, the api contract', () => {
    expect(files('src-main/common').length, 'common/ has files to check').toBeGreaterThan(0);
    expect(
      violations('src-main/common', (imp, target) => {
        if (target === null) return 'common/ is pure: no node, electron, DOM or packages';
        if (target === 'src-main/api.ts') return imp.typeOnly ? null : 'common/ imports the api contract as types only';
        return target.startsWith('src-main/common/') ? null : 'common/ imports only common/';
      }),
    ).toEqual([]);
  });

  it('core never imports electron, the runtime, a shell or the renderer', () => {
    expect(
      violations('src-main/core', (imp, target) => {
        if (imp.spec === 'electron' || imp.spec.startsWith('electron/')) return 'core must not use electron';
        if (target && /^src-main\/(runtime|electron|web|cli)\//.test(target)) return 'core must not reach into runtime or shells';
        if (target?.startsWith('src-renderer')) return 'core must not import the renderer';
        return null;
      }),
    ).toEqual([]);
  });

  it('the runtime imports nothing of core, api or the shells: only protocol.ts and common/', () => {
    expect(
      violations('src-main/runtime', (imp, target) => {
        if (imp.spec === 'electron') return 'runtime runs in scenario processes, never in electron';
        if (target && target.startsWith('src-main/') && !/^src-main\/(runtime|common)\//.test(target) && target !== 'src-main/protocol.ts') {
          return 'runtime may share only protocol.ts and common/ with the monitor';
        }
        return null;
      }),
    ).toEqual([]);
  });

  it('protocol.ts and api.ts depend on nothing of ours but common/', () => {
    for (const f of ['src-main/protocol.ts', 'src-main/api.ts']) {
      const own = imports(path.join(root, f)).filter((i) => i.spec.startsWith('.') && !i.spec.startsWith('./common/'));
      expect(own, f).toEqual([]);
    }
    const apiNode = imports(path.join(root, 'src-main/api.ts')).filter((i) => i.spec.startsWith('node:'));
    expect(apiNode, 'api.ts is shared with the renderer: no node imports').toEqual([]);
  });

  it('the renderer sees only the api contract, as types, and common/, never node or electron', () => {
    expect(
      violations('src-renderer', (imp, target) => {
        if (imp.spec.startsWith('node:') || imp.spec === 'electron') return 'the renderer has no Node or Electron';
        if (target && target.startsWith('src-main/') && !target.startsWith('src-main/common/')) {
          if (target !== 'src-main/api.ts') return 'the renderer may only import src-main/api.ts and src-main/common/';
          if (!imp.typeOnly) return 'the renderer imports the api contract as types only (import type)';
        }
        return null;
      }),
    ).toEqual([]);
  });

  it('shells reach the engine only through core and the api contract', () => {
    for (const shell of ['src-main/cli', 'src-main/web', 'src-main/electron']) {
      expect(
        violations(shell, (_imp, target) =>
          target && target.startsWith('src-main/runtime/') ? 'shells drive runs through core, not the runtime' : null,
        ),
      ).toEqual([]);
    }
  });
});
