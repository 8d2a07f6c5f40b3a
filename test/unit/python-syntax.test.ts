// Python mode's shim (resources/python) runs inside the user's interpreter, whatever its version:
// its syntax must stay that of the oldest one we claim (3.8). CI has one python3, so this asks it
// to parse every file with the 3.8 grammar (ast's feature_version): syntax newer than 3.8 fails
// here (a match statement, `except*`, parenthesized context managers, ...). It cannot see a
// call to a function newer than 3.8; docs/scenarios.md (Python mode, Supported versions) lists
// what the shim relies on.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonShimDir } from '../../src-main/core/paths.ts';

const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';

const CHECK = `
import ast, json, sys
errors = {}
for name in sys.argv[1:]:
    with open(name, 'rb') as f:
        src = f.read()
    try:
        ast.parse(src, filename=name, feature_version=(3, 8))
    except SyntaxError as e:
        errors[name] = '%s:%s: %s' % (e.lineno, e.offset, e.msg)
print(json.dumps(errors))
`;

function pythonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.py'))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

describe('python shim syntax', () => {
  const files = pythonFiles(pythonShimDir());

  it('finds the shim', () => {
    const names = files.map((f) => path.relative(pythonShimDir(), f));
    expect(names).toContain('sitecustomize.py');
    expect(names).toContain(path.join('procscope_shim', '__init__.py'));
  });

  it('every .py under resources/python parses with the Python 3.8 grammar', () => {
    const out = execFileSync(python, ['-I', '-c', CHECK, ...files], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({});
  });

  it('the check itself rejects syntax newer than 3.8', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-syntax-'));
    try {
      const probe = path.join(dir, 'probe.py');
      fs.writeFileSync(probe, 'match x:\n    case 1:\n        pass\n');
      const out = JSON.parse(execFileSync(python, ['-I', '-c', CHECK, probe], { encoding: 'utf8' })) as Record<string, string>;
      expect(Object.keys(out)).toEqual([probe]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
