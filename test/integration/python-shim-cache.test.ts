import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pythonShimDir } from '../../src-main/core/paths.ts';
import { preparedShimDir } from '../../src-main/core/python-shim.ts';
import { ControlError, Session } from '../../src-main/core/session.ts';

// The shim every Python process of a run imports is compiled once into procscope's cache folder
// (the shipped folder may be read-only, and PYTHONDONTWRITEBYTECODE may be set).

const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';
const homes: string[] = [];
const saved = process.env.PROCSCOPE_HOME;

function freshHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-shim-home-'));
  homes.push(home);
  process.env.PROCSCOPE_HOME = home;
  return home;
}

afterEach(() => {
  if (saved === undefined) delete process.env.PROCSCOPE_HOME;
  else process.env.PROCSCOPE_HOME = saved;
});
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

describe('the Python shim, prepared', () => {
  it('is a compiled copy in the cache folder, reused by the next run', async () => {
    const home = freshHome();
    const dir = await preparedShimDir(python);
    expect(path.dirname(dir)).toBe(path.join(home, 'cache', 'python-shim'));
    expect(fs.readFileSync(path.join(dir, 'sitecustomize.py'), 'utf8')).toBe(fs.readFileSync(path.join(pythonShimDir(), 'sitecustomize.py'), 'utf8'));
    const pyc = fs.readdirSync(path.join(dir, 'procscope_shim', '__pycache__'));
    expect(pyc.some((f) => f.startsWith('_client.') && f.endsWith('.pyc'))).toBe(true);
    const marker = fs.readdirSync(dir).filter((f) => f.startsWith('.compiled-'));
    expect(marker).toHaveLength(1);
    const stamp = fs.statSync(path.join(dir, marker[0])).mtimeMs;
    expect(await preparedShimDir(python)).toBe(dir);
    expect(fs.statSync(path.join(dir, marker[0])).mtimeMs, 'not compiled again').toBe(stamp);
  });

  it('a cache folder others may write to is not used: the shipped folder is', async () => {
    const home = freshHome();
    fs.mkdirSync(path.join(home, 'cache', 'python-shim'), { recursive: true });
    fs.chmodSync(path.join(home, 'cache', 'python-shim'), 0o777);
    expect(await preparedShimDir(python)).toBe(pythonShimDir());
  });

  it('an interpreter that does not exist: the copy is still usable, and the run then says what is wrong', async () => {
    const home = freshHome();
    const missing = path.join(os.tmpdir(), 'no-such-python-here');
    const dir = await preparedShimDir(missing);
    expect(path.dirname(dir), 'a copy in the cache, not the shipped folder').toBe(path.join(home, 'cache', 'python-shim'));
    expect(fs.readFileSync(path.join(dir, 'sitecustomize.py'), 'utf8')).toBe(fs.readFileSync(path.join(pythonShimDir(), 'sitecustomize.py'), 'utf8'));
    const script = path.join(home, 'hello.py');
    fs.writeFileSync(script, "print('hello')\n");
    await expect(Session.start({ scenario: script, python: missing, logPath: path.join(home, 'run.jsonl') })).rejects.toThrow(
      new ControlError(`cannot start Python interpreter '${missing}': spawn ${missing} ENOENT`),
    );
  });
});
