// Perfetto's keys for the time axis, on the whole window: W/S zoom in and out around the pointer
// (or the middle), A/D pan, 0 or Esc show the whole run. Not while typing in a field, and not with
// a modifier (Ctrl+S and friends stay the browser's).

import { timeAxis } from './time-axis.svelte.ts';

const ZOOM = 0.7;
const PAN = 0.2;

/** Listens on the window; returns the stop function. */
export function listenTimeKeys(target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const el = e.target as HTMLElement | null;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return;
    // A dialog (History) has its own keys: Esc closes it.
    if (el?.closest?.('dialog')) return;
    switch (e.key.toLowerCase()) {
      case 'w':
        timeAxis.zoomBy(ZOOM);
        break;
      case 's':
        timeAxis.zoomBy(1 / ZOOM);
        break;
      case 'a':
        timeAxis.panBy(-PAN);
        break;
      case 'd':
        timeAxis.panBy(PAN);
        break;
      case '0':
      case 'escape':
        timeAxis.reset();
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  target.addEventListener('keydown', onKey as EventListener);
  return () => target.removeEventListener('keydown', onKey as EventListener);
}
