import { describe, expect, it } from 'vitest';
import { fileRuntime, interpreterName, parseRuntime, runtimeFor, runtimeOfRun } from '../../../src-renderer/lib/runtime.ts';

describe('runtime of a program', () => {
  it('a file runs as its extension says, as the engine decides', () => {
    expect(fileRuntime('/home/me/shop.py')).toBe('python');
    expect(fileRuntime('C:\\work\\Shop.PY')).toBe('python');
    expect(fileRuntime(' /home/me/shop.py ')).toBe('python');
    for (const f of ['/a/b.ts', '/a/b.mts', '/a/b.js', '/a/b.mjs', '/a/b.pyc', '/a/py', '/a/b.py.ts']) expect(fileRuntime(f), f).toBe('typescript');
  });

  it('a preset runs in the chosen runtime; a file ignores the choice', () => {
    expect(runtimeFor('flash-sale', true, 'python')).toBe('python');
    expect(runtimeFor('flash-sale', true, 'typescript')).toBe('typescript');
    expect(runtimeFor('/a/shop.py', false, 'typescript')).toBe('python');
    expect(runtimeFor('/a/shop.ts', false, 'python')).toBe('typescript');
    // Nothing chosen yet (presets still loading): the toggle keeps showing the choice.
    expect(runtimeFor('', false, 'python')).toBe('python');
  });

  it('the remembered choice reads back, and a damaged entry is the default', () => {
    expect(parseRuntime('python')).toBe('python');
    expect(parseRuntime('typescript')).toBe('typescript');
    for (const v of [null, undefined, '', 'Python', 'ruby']) expect(parseRuntime(v)).toBe('typescript');
  });
});

describe('runtime of a run shown', () => {
  it('comes from its run event; logs from before Python mode ran TypeScript', () => {
    expect(runtimeOfRun(null)).toBeNull();
    expect(runtimeOfRun({})).toEqual({ runtime: 'typescript', interpreter: null });
    expect(runtimeOfRun({ runtime: 'typescript' })).toEqual({ runtime: 'typescript', interpreter: null });
    expect(runtimeOfRun({ runtime: 'python', interpreter: 'python3' })).toEqual({ runtime: 'python', interpreter: 'python3' });
    expect(runtimeOfRun({ runtime: 'python' })).toEqual({ runtime: 'python', interpreter: null });
    // An interpreter on a TypeScript run means nothing: not shown.
    expect(runtimeOfRun({ runtime: 'typescript', interpreter: 'python3' })).toEqual({ runtime: 'typescript', interpreter: null });
  });

  it('names the interpreter by the last part of its path', () => {
    expect(interpreterName('python3')).toBe('python3');
    expect(interpreterName('/opt/py312/bin/python3.12')).toBe('python3.12');
    expect(interpreterName('C:\\Python312\\python.exe')).toBe('python.exe');
    expect(interpreterName('/usr/bin/')).toBe('bin');
    expect(interpreterName('/')).toBe('/');
  });
});
