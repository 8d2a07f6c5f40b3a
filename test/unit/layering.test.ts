// The dependency rule of docs/DESIGN (shared/DESIGN.md): renderer -> api.ts (types only) <- shells
// -> core -> protocol.ts <- runtime. Nothing points the other way.

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
    const sessionImports = imports(path.join(root, 'src-main/core/session.ts')).map((i) => i.spec);
    expect(sessionImports).toContain('../api.ts');
    expect(sessionImports).toContain('node:child_process');
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

  it('the runtime imports nothing of core, api or the shells: only protocol.ts', () => {
    expect(
      violations('src-main/runtime', (imp, target) => {
        if (imp.spec === 'electron') return 'runtime runs in scenario processes, never in electron';
        if (target && target.startsWith('src-main/') && !target.startsWith('src-main/runtime/') && target !== 'src-main/protocol.ts') {
          return 'runtime may share only protocol.ts with the monitor';
        }
        return null;
      }),
    ).toEqual([]);
  });

  it('common is pure: types from api.ts, other common files, and nothing else (no node, no DOM, no packages)', () => {
    expect(files('src-main/common').length, 'the common tier has files to check').toBeGreaterThan(0);
    expect(
      violations('src-main/common', (imp, target) => {
        if (target === 'src-main/api.ts') return imp.typeOnly ? null : 'common imports the api contract as types only (import type)';
        if (target?.startsWith('src-main/common/')) return null;
        return 'common runs in the engine and the renderer alike: it may import only api.ts types and other common files';
      }),
    ).toEqual([]);
  });

  it('protocol.ts and api.ts depend on nothing of ours', () => {
    for (const f of ['src-main/protocol.ts', 'src-main/api.ts']) {
      const own = imports(path.join(root, f)).filter((i) => i.spec.startsWith('.'));
      expect(own, f).toEqual([]);
    }
    const apiNode = imports(path.join(root, 'src-main/api.ts')).filter((i) => i.spec.startsWith('node:'));
    expect(apiNode, 'api.ts is shared with the renderer: no node imports').toEqual([]);
  });

  it('the renderer sees only the api contract, as types, and the pure common tier, never node or electron', () => {
    expect(
      violations('src-renderer', (imp, target) => {
        if (imp.spec.startsWith('node:') || imp.spec === 'electron') return 'the renderer has no Node or Electron';
        // The common tier is pure (checked above): verdicts and compare rows are computed once, for the engine and the window alike.
        if (target?.startsWith('src-main/common/')) return null;
        if (target && target.startsWith('src-main/')) {
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
