// Colors of the flame graph's boxes: a function keeps its color whatever the view (a hash of its
// name picks it), the program's functions in warm hues, Python's and Node's own (library) in
// cool grey-blues, so where the program's own code burns the time stands out. Light and dark
// schemes get their own lightness. A search dims what does not match.

export interface FlamePalette {
  dark: boolean;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** The fill of a box: `lib` for library code, `dim` when a search leaves it out. */
export function boxColor(name: string, lib: boolean, palette: FlamePalette, dim: boolean): string {
  const h = hash(name);
  const spread = (h % 1000) / 1000;
  let hue: number;
  let sat: number;
  let light: number;
  if (lib) {
    hue = 205 + spread * 30;
    sat = 14 + (h % 7) * 2;
    light = palette.dark ? 34 + (h % 5) * 2 : 80 + (h % 5) * 2;
  } else {
    hue = 8 + spread * 42;
    sat = 70 + (h % 5) * 4;
    light = palette.dark ? 42 + (h % 6) * 2 : 62 + (h % 6) * 3;
  }
  if (dim) {
    sat = Math.round(sat * 0.25);
    light = palette.dark ? 22 : 90;
  }
  return `hsl(${hue.toFixed(1)} ${sat}% ${light}%)`;
}

/** Text on a box: dark on light boxes, light on dark ones. */
export function boxTextColor(palette: FlamePalette, dim: boolean): string {
  if (dim) return palette.dark ? '#6b7480' : '#8c959f';
  return palette.dark ? '#f3f4f6' : '#1b1f24';
}

/** A box that matches the search. */
export function matchColor(palette: FlamePalette): string {
  return palette.dark ? '#c084fc' : '#a855f7';
}
