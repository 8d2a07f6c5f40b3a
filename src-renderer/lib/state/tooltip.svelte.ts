// The one tooltip of the window: a chart (or any component) shows a Tip at a point on the page;
// ChartTooltip.svelte draws it beside the pointer, kept inside the window.

import type { Tip } from '../view/tooltips.ts';

export class TooltipState {
  tip = $state.raw<Tip | null>(null);
  /** Page coordinates of the pointer, CSS px. */
  x = $state(0);
  y = $state(0);
  /** Who shows it, so one chart's leave does not hide another's tip. */
  #owner: unknown = null;

  show(owner: unknown, x: number, y: number, tip: Tip): void {
    this.#owner = owner;
    this.x = x;
    this.y = y;
    this.tip = tip;
  }

  hide(owner?: unknown): void {
    if (owner !== undefined && owner !== this.#owner) return;
    this.#owner = null;
    if (this.tip !== null) this.tip = null;
  }
}

export const tooltip = new TooltipState();
