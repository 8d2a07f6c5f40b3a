// Turns what the user typed (a preset id or a path) into a scenario file and a working directory.

import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../api.ts';
import { presetById, presets } from '../presets/catalog.ts';
import { presetsDir } from './paths.ts';

/** Bad input from the user: the message is one line, fit to print as it is. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

export interface ResolvedScenario {
  /** What the log's `run` line records: the preset id, or the absolute file path. */
  id: string;
  file: string;
  preset: boolean;
  /** A Python script: run by a Python interpreter with procscope's shim (Python mode). */
  python?: boolean;
}

const EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/**
 * `runtime` picks a preset's TypeScript twin or its Python original; a file's extension picks
 * for it, and asking a file for the other runtime is an error (never a silent substitution).
 */
export function resolveScenario(ref: string, runtime?: Runtime): ResolvedScenario {
  if (typeof ref !== 'string' || ref.trim() === '') throw new ScenarioError('no scenario given: name a preset or a .py, .ts or .js file');
  const preset = presetById(ref);
  if (preset) {
    if (runtime === 'python') return { id: preset.id, file: path.join(presetsDir(), preset.pythonFile), preset: true, python: true };
    return { id: preset.id, file: path.join(presetsDir(), preset.scenarioFile), preset: true };
  }
  const resolved = resolveFile(ref);
  if (runtime !== undefined && (runtime === 'python') !== (resolved.python === true)) {
    throw new ScenarioError(`${path.basename(resolved.file)} is not a ${runtime === 'python' ? 'Python' : 'TypeScript/JavaScript'} program: its extension decides how it runs`);
  }
  return resolved;
}

function resolveFile(ref: string): ResolvedScenario {
  const file = path.resolve(ref);
  const ext = path.extname(file);
  if (!fs.existsSync(file)) {
    if (!ext && !ref.includes('/')) {
      throw new ScenarioError(`unknown preset '${ref}' (presets: ${presets.map((p) => p.id).join(', ')})`);
    }
    throw new ScenarioError(`scenario file not found: ${file}`);
  }
  if (!fs.statSync(file).isFile()) throw new ScenarioError(`not a file: ${file}`);
  if (ext === '.py') return { id: file, file, preset: false, python: true };
  if (!EXTENSIONS.has(ext)) throw new ScenarioError(`unsupported scenario type '${ext || '(none)'}': use .py, .ts, .mts, .js or .mjs`);
  return { id: file, file, preset: false };
}

/**
 * A preset runs in a fresh folder inside the run's own temporary folder `scratch` (flash-sale
 * writes its `product` file there), removed with it; a file runs in its own folder, as
 * `python3 script.py` would be run from there.
 */
export function workingDirFor(s: ResolvedScenario, scratch: string): string {
  if (!s.preset) return path.dirname(s.file);
  const cwd = path.join(scratch, 'cwd');
  fs.mkdirSync(cwd, { mode: 0o700 });
  return cwd;
}
