// The page's language: a reactive choice, persisted in localStorage, first guessed from the
// browser's language (zh-* gives Chinese). `t()` reads it, so every string re-renders on a switch.

import type { Lang } from '../../src-main/api.ts';
import { en, type MessageKey } from './en.ts';
import { detectLang, interpolate, localeOf, type Params } from './translate.ts';
import { zh } from './zh.ts';

export type { MessageKey } from './en.ts';

const STORAGE_KEY = 'procscope.lang';
const dictionaries = { en, zh } as const;

/** How each language names itself on the switch. */
export const LANG_NAMES: Record<Lang, string> = { en: 'EN', zh: '中文' };

function initialLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage disabled: fall back to the browser's language.
  }
  const nav = typeof navigator !== 'undefined' ? [navigator.language] : [];
  return detectLang(stored, nav);
}

class I18n {
  lang = $state<Lang>(initialLang());
  /** BCP 47 locale for Intl formatting. */
  locale = $derived(localeOf(this.lang));

  set(lang: Lang): void {
    this.lang = lang;
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // Not persisted: the choice lasts for this window.
    }
  }

  /** Switches language; Chinese once its glyphs are in (a few hundred ms at most, from disk). */
  toggle(): void {
    if (this.lang === 'zh') this.set('en');
    else void preloadChinese().then(() => this.set('zh'));
  }
}

export const i18n = new I18n();

/**
 * Fetches the slices of the bundled Chinese face that the Chinese UI needs, in both weights, at
 * once: text laid out while its slice is still on its way was seen to stay in boxes (Chromium
 * kept the system's fallback for it). Called when the UI switches to Chinese; harmless elsewhere.
 */
export function preloadChinese(extra = ''): Promise<void> {
  const fonts = typeof document !== 'undefined' ? document.fonts : undefined;
  if (!fonts) return Promise.resolve();
  const text = Object.values(zh).join('') + extra;
  return Promise.all(['400', '700'].map((w) => fonts.load(`${w} 13px "Noto Sans SC"`, text))).then(
    () => undefined,
    () => undefined,
  );
}

/** The message `key` in the current language, with `{placeholders}` filled from params. */
export function t(key: MessageKey, params?: Params): string {
  return interpolate(dictionaries[i18n.lang][key], params);
}
