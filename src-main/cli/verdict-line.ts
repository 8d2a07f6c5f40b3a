// The verdict line of the `run` summary: a preset's outcome in words, in the terminal's language.

import type { Lang } from '../api.ts';
import { VerdictReader } from '../common/verdict.ts';
import { presetById } from '../presets/catalog.ts';

/** A reader for a preset run (either runtime), null for a program of one's own. */
export function verdictReaderFor(scenario: string): VerdictReader | null {
  const preset = presetById(scenario);
  return preset ? new VerdictReader(preset.verdict) : null;
}

/** Chinese for a terminal whose locale is Chinese (LC_ALL, then LC_MESSAGES, then LANG, as POSIX reads them). */
export function terminalLang(env: NodeJS.ProcessEnv = process.env): Lang {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^zh/i.test(locale) ? 'zh' : 'en';
}

export function verdictLine(reader: VerdictReader | null, lang: Lang = terminalLang()): string | null {
  const v = reader?.result();
  if (!v) return null;
  return lang === 'zh' ? `结论：${v.text.zh}` : `verdict: ${v.text.en}`;
}
