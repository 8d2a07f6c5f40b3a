// Process colors: mid-lightness hues that stay readable on a white page and on a near-black one
// (no pale yellows, no near-blacks), ordered so that neighbours in start order differ in hue.

export const PROCESS_PALETTE: readonly string[] = [
  '#3b82f6', // blue
  '#f97316', // orange
  '#10b981', // emerald
  '#e11d48', // rose
  '#8b5cf6', // violet
  '#ca8a04', // dark yellow
  '#06b6d4', // cyan
  '#db2777', // pink
  '#65a30d', // lime
  '#6366f1', // indigo
  '#ea580c', // deep orange
  '#0d9488', // teal
  '#c026d3', // fuchsia
  '#0284c7', // sky
  '#16a34a', // green
  '#b45309', // amber brown
];

/** Color of the n-th process (0-based, in the order processes appeared). */
export function processColor(n: number): string {
  return PROCESS_PALETTE[((n % PROCESS_PALETTE.length) + PROCESS_PALETTE.length) % PROCESS_PALETTE.length];
}

/** Queues walk the palette with another stride, so queue 1 is not drawn in process 1's blue. */
export function queueColor(n: number): string {
  return processColor(11 + n * 5);
}
