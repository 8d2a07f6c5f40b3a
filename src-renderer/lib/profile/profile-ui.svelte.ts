// The window's side of profiling: the toolbar's Profile switch (remembered; what run.start is
// given) and the line a click on a frame or a wait site opens in the Code view.

import type { Runtime } from '../../../src-main/api.ts';
import { getApi } from '../api.ts';

const STORE_PROFILE = 'procscope.profile';

/** A file shown at a line in the Code view, as it loads, or why it cannot be read. */
export type SourceFocus =
  | { file: string; line: number; loading: true }
  | { file: string; line: number; text: string; runtime: Runtime }
  | { file: string; line: number; error: string };

function stored(): boolean {
  try {
    return localStorage.getItem(STORE_PROFILE) === '1';
  } catch {
    return false;
  }
}

export class ProfileUi {
  /** Profile the next run. */
  enabled = $state(stored());
  focus = $state.raw<SourceFocus | null>(null);
  #texts = new Map<string, { text: string; runtime: Runtime }>();

  toggle(): void {
    this.enabled = !this.enabled;
    try {
      localStorage.setItem(STORE_PROFILE, this.enabled ? '1' : '0');
    } catch {
      // Not remembered: fine.
    }
  }

  /** What run.start takes from the switch (the engine's default rate, 100 Hz). */
  startArgs(): { profile?: Record<string, never> } {
    return this.enabled ? { profile: {} } : {};
  }

  /** Shows `file` at `line` in the Code view (its text read once through scenario.source). */
  async open(file: string, line: number): Promise<void> {
    const known = this.#texts.get(file);
    if (known) {
      this.focus = { file, line, ...known };
      return;
    }
    this.focus = { file, line, loading: true };
    let next: SourceFocus;
    try {
      const s = await getApi().call('scenario.source', { path: file });
      this.#texts.set(file, { text: s.text, runtime: s.runtime });
      next = { file, line, text: s.text, runtime: s.runtime };
    } catch (e) {
      next = { file, line, error: e instanceof Error ? e.message : String(e) };
    }
    // Another line may have been asked for meanwhile.
    if (this.focus?.file === file && this.focus.line === line) this.focus = next;
  }

  close(): void {
    this.focus = null;
  }
}

export const profileUi = new ProfileUi();
