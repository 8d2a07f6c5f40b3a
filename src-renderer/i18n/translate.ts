// The pure part of i18n: choosing a language and filling a message's {placeholders}.
// index.svelte.ts wraps these in the page's reactive state; tests use them directly.

import type { Lang } from '../../src-main/api.ts';

export type Params = Record<string, string | number>;

/** Replaces `{name}` with params.name; an unknown placeholder stays visible rather than vanishing. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function isLang(v: unknown): v is Lang {
  return v === 'en' || v === 'zh';
}

/**
 * The language to start in: the one the person chose before (stored), else the first browser
 * language that is Chinese (any zh-* variant) or English, else English.
 */
export function detectLang(stored: string | null | undefined, browserLanguages: readonly string[]): Lang {
  if (isLang(stored)) return stored;
  for (const l of browserLanguages) {
    const tag = l.toLowerCase();
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** BCP 47 locale for Intl formatting and the page's lang attribute (CJK font selection). */
export function localeOf(lang: Lang): string {
  return lang === 'zh' ? 'zh-CN' : 'en';
}
