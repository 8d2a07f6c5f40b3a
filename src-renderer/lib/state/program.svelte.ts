// Which program Start runs and how: the presets, the chosen preset or file (and its source for
// the Code tab), the runtime of a preset, the Python interpreter and the sampling interval.

import type { AppInfo, PresetInfo, Runtime } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';
import { DEFAULT_INTERVAL_MS } from '../../../src-main/common/interval.ts';
import { clampInterval } from '../format.ts';
import { parseRuntime, runtimeFor } from '../runtime.ts';
import { errorText, readStored, writeStored } from './stored.ts';

/** A program file's text for the code panel, while it loads, or why it could not be read. */
export type CustomSource =
  | { path: string; loading: true }
  | { path: string; text: string; runtime: Runtime; file: string }
  | { path: string; error: string };

const STORE_SCENARIO = 'procscope.scenario';
const STORE_OPENED = 'procscope.openedFiles';
const STORE_RUNTIME = 'procscope.runtime';

export class ProgramState {
  presets = $state.raw<PresetInfo[]>([]);
  /** The program Start runs: a preset id, or a file path from Open…. */
  scenario = $state('');
  /** The chosen file's source (not a preset's), as the engine read it. */
  customSource = $state.raw<CustomSource | null>(null);
  /** Files opened with Open…, newest first, to pick again. */
  openedFiles = $state.raw<string[]>([]);
  appInfo = $state.raw<AppInfo | null>(null);
  /** Sampling interval for new runs, ms. */
  interval = $state(DEFAULT_INTERVAL_MS);
  /** How presets run: their TypeScript twin or their Python original. Files ignore it. */
  runtime = $state<Runtime>(parseRuntime(readStored(STORE_RUNTIME)));
  /** The Python interpreter setting, as the engine last confirmed it. */
  python = $state('python3');
  /** Why the last start failed, in one line. */
  startError = $state<string | null>(null);

  preset = $derived(this.presets.find((p) => p.id === this.scenario) ?? null);
  /** What Start will run under: the chosen runtime for a preset, the extension for a file. */
  startRuntime = $derived(runtimeFor(this.scenario, this.preset !== null, this.runtime));

  readonly #notice: (message: string) => void;

  /** `notice` shows a failed command in one line. */
  constructor(notice: (message: string) => void) {
    this.#notice = notice;
  }

  /** Loads the remembered files, the presets, the app's info and the settings. */
  init(): void {
    const api = getApi();
    const storedOpened = readStored(STORE_OPENED);
    if (storedOpened) {
      try {
        const list: unknown = JSON.parse(storedOpened);
        if (Array.isArray(list)) this.openedFiles = list.filter((x): x is string => typeof x === 'string').slice(0, 5);
      } catch {
        // A damaged entry is dropped.
      }
    }
    void this.#loadPresets();
    api.call('app.info', {}).then(
      (info) => (this.appInfo = info),
      () => {},
    );
    api.call('settings.get', {}).then(
      (s) => {
        this.interval = s.interval;
        this.python = s.python;
      },
      () => {},
    );
  }

  async #loadPresets(): Promise<void> {
    try {
      const list = await getApi().call('presets.list', {});
      this.presets = [...list].sort((a, b) => a.seed - b.seed);
      const stored = readStored(STORE_SCENARIO);
      if (!this.scenario) {
        const ok = stored && (list.some((p) => p.id === stored) || this.openedFiles.includes(stored));
        this.scenario = ok ? stored : (this.presets[0]?.id ?? '');
      }
      void this.loadSource();
    } catch (e) {
      this.#notice(errorText(e));
    }
  }

  choose(scenario: string): void {
    this.scenario = scenario;
    this.startError = null;
    writeStored(STORE_SCENARIO, scenario);
    void this.loadSource();
  }

  /** The chosen file's text for the code panel (presets bring theirs with the list). */
  async loadSource(): Promise<void> {
    const scenario = this.scenario;
    if (!scenario || this.presets.some((p) => p.id === scenario)) {
      this.customSource = null;
      return;
    }
    if (this.customSource?.path === scenario) return;
    this.customSource = { path: scenario, loading: true };
    let next: CustomSource;
    try {
      const s = await getApi().call('scenario.source', { path: scenario });
      next = { path: scenario, text: s.text, runtime: s.runtime, file: s.path };
    } catch (e) {
      next = { path: scenario, error: errorText(e) };
    }
    // Another file may have been chosen meanwhile.
    if (this.scenario === scenario) this.customSource = next;
  }

  /** The file may have been edited since it was chosen: a run shows what it runs. */
  reloadSource(): void {
    if (!this.customSource) return;
    this.customSource = null;
    void this.loadSource();
  }

  /** Asks the shell for a file. 'unavailable' means the shell has no dialog (a browser): ask for a path. */
  async pickScenario(): Promise<'picked' | 'cancelled' | 'unavailable'> {
    let path: string | null = null;
    try {
      path = (await getApi().call('scenario.pick', {})).path;
    } catch (e) {
      this.#notice(errorText(e));
      return 'unavailable';
    }
    if (path) {
      this.useScenarioPath(path);
      return 'picked';
    }
    return this.appInfo?.shell === 'electron' ? 'cancelled' : 'unavailable';
  }

  useScenarioPath(path: string): void {
    const p = path.trim();
    if (!p) return;
    this.openedFiles = [p, ...this.openedFiles.filter((f) => f !== p)].slice(0, 5);
    writeStored(STORE_OPENED, JSON.stringify(this.openedFiles));
    this.choose(p);
  }

  chooseRuntime(runtime: Runtime): void {
    this.runtime = runtime;
    this.startError = null;
    writeStored(STORE_RUNTIME, runtime);
  }

  /**
   * Saves the interpreter for Python runs. The engine is the judge of what names an interpreter:
   * a refusal is shown as a notice and the field goes back to the saved value. A cleared field
   * names nothing, so it just goes back.
   */
  async setPython(value: string, refused: (message: string) => string = (m) => m): Promise<void> {
    const v = value.trim();
    if (v === '' || v === this.python) return;
    try {
      this.python = (await getApi().call('settings.set', { python: v })).python;
      // The last start may have failed for the old interpreter: that error is no longer the news.
      this.startError = null;
    } catch (e) {
      this.#notice(refused(errorText(e)));
    }
  }

  async setIntervalMs(ms: number): Promise<void> {
    const v = clampInterval(ms);
    this.interval = v;
    try {
      this.interval = (await getApi().call('settings.set', { interval: v })).interval;
    } catch (e) {
      this.#notice(errorText(e));
    }
  }
}
