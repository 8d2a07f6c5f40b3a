import { describe, expect, it } from 'vitest';
import { en, untranslated, type MessageKey } from '../../../src-renderer/i18n/en.ts';
import { detectLang, interpolate, localeOf } from '../../../src-renderer/i18n/translate.ts';
import { zh } from '../../../src-renderer/i18n/zh.ts';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const allowed = new Set<string>(untranslated);
const keys = Object.keys(en) as MessageKey[];
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n dictionaries', () => {
  it('zh has exactly the keys of en', () => {
    expect(Object.keys(zh).sort()).toEqual([...keys].sort());
  });

  it('every zh value is non-empty and Chinese, unless allowlisted', () => {
    const missing = keys.filter((k) => !allowed.has(k) && !CJK.test(zh[k]));
    expect(missing, 'zh values without Chinese characters').toEqual([]);
    const empty = keys.filter((k) => zh[k].trim() === '' || en[k].trim() === '');
    expect(empty, 'empty values').toEqual([]);
  });

  it('no zh value equals its English, unless allowlisted', () => {
    const same = keys.filter((k) => !allowed.has(k) && zh[k] === en[k]);
    expect(same).toEqual([]);
  });

  it('the allowlist names only real keys that really are untranslated', () => {
    for (const k of untranslated) {
      expect(keys, k).toContain(k);
      expect(CJK.test(zh[k]), `${k} is allowlisted but zh has Chinese: drop it from the list`).toBe(false);
    }
  });

  it('both languages use the same placeholders in every message', () => {
    const differ = keys.filter((k) => placeholders(en[k]).join() !== placeholders(zh[k]).join());
    expect(differ).toEqual([]);
  });
});

describe('translate helpers', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(interpolate('Saved to {path}', { path: '/tmp/x' })).toBe('Saved to /tmp/x');
    expect(interpolate('{alive} of {total}', { alive: 3, total: 11 })).toBe('3 of 11');
    expect(interpolate('{a} {b}', { a: 1 })).toBe('1 {b}');
    expect(interpolate('no params')).toBe('no params');
  });

  it('starts in the stored language, else Chinese for zh-* browsers, else English', () => {
    expect(detectLang('zh', ['en-US'])).toBe('zh');
    expect(detectLang('en', ['zh-CN'])).toBe('en');
    expect(detectLang(null, ['zh-CN'])).toBe('zh');
    expect(detectLang(null, ['zh-TW'])).toBe('zh');
    expect(detectLang(null, ['zh'])).toBe('zh');
    expect(detectLang(null, ['en-GB'])).toBe('en');
    expect(detectLang('fr', ['fr-FR'])).toBe('en');
    expect(detectLang(undefined, [])).toBe('en');
  });

  it('maps languages to locales', () => {
    expect(localeOf('zh')).toBe('zh-CN');
    expect(localeOf('en')).toBe('en');
  });
});
