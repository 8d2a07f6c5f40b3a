// The renderer's entry: the global theme, then the window.
import { mount } from 'svelte';
import App from './App.svelte';
import { i18n, preloadChinese } from './i18n/index.svelte.ts';
// A Chinese face for machines without one (@fontsource/noto-sans-sc, SIL OFL 1.1): regular and
// bold (600 falls to 700), cut by unicode-range into ~100 slices each, of which the browser fetches
// only those whose characters are on screen. theme.css lists it after the system's own CJK faces,
// so a machine that has one keeps it. (vite.config.ts drops the slices' woff fallbacks.)
import '@fontsource/noto-sans-sc/400.css';
import '@fontsource/noto-sans-sc/700.css';
import './theme.css';

// A window that opens in Chinese waits for its glyphs (at most a second): see preloadChinese.
const ready = i18n.lang === 'zh' ? Promise.race([preloadChinese(), new Promise((r) => setTimeout(r, 1000))]) : Promise.resolve();
void ready.then(() => mount(App, { target: document.getElementById('app') as HTMLElement }));
