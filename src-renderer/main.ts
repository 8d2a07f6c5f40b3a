// The renderer's entry: the global theme, then the window.
import { mount } from 'svelte';
import App from './App.svelte';
// A Chinese face for machines without one (@fontsource/noto-sans-sc, SIL OFL 1.1): regular and
// bold (600 falls to 700), cut by unicode-range into ~100 slices each, of which the browser fetches
// only those whose characters are on screen. theme.css lists it after the system's own CJK faces,
// so a machine that has one keeps it. (vite.config.ts drops the slices' woff fallbacks.)
import '@fontsource/noto-sans-sc/400.css';
import '@fontsource/noto-sans-sc/700.css';
import './theme.css';

mount(App, { target: document.getElementById('app') as HTMLElement });
