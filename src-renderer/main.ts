// The renderer's entry: the global theme, then the window.
import { mount } from 'svelte';
import App from './App.svelte';
import './theme.css';

mount(App, { target: document.getElementById('app') as HTMLElement });
