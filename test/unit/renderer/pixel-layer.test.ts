import { describe, expect, it } from 'vitest';
import { drawStepBands, drawSteps, mix, parseColor, PixelBuffer, rgba } from '../../../src-renderer/components/charts/pixel-layer.ts';

const INK = rgba(255, 0, 0);

/** The buffer as text rows: '#' inked, '.' empty. */
function picture(b: PixelBuffer): string[] {
  const rows: string[] = [];
  for (let y = 0; y < b.height; y++) {
    let row = '';
    for (let x = 0; x < b.width; x++) row += b.data[y * b.width + x] ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('pixel layer', () => {
  it('draws a connected line: every column between two points is inked', () => {
    const b = new PixelBuffer();
    b.reset(6, 4);
    // (0, 3) to (5, 0) in pixels: x = value, y = 3 - value * 3/5… use identity maps.
    b.polyline([0, 5], [3, 0], 0, 1, 1, 0, 1, 0, INK);
    const pic = picture(b);
    for (let x = 0; x < 6; x++) expect(pic.some((row) => row[x] === '#'), `column ${x}`).toBe(true);
    expect(pic[3][0]).toBe('#');
    expect(pic[0][5]).toBe('#');
  });

  it('breaks the line at a NaN value, and shows a lone sample as a dot', () => {
    const b = new PixelBuffer();
    b.reset(12, 4);
    b.polyline([0, 1, 2, 5, 6, 10], [1, 1, NaN, 2, NaN, 2], 0, 5, 1, 0, 1, 0, INK);
    const pic = picture(b);
    expect(pic[1].slice(0, 2)).toBe('##');
    // Nothing bridges the gaps…
    for (const x of [2, 3, 7, 8]) expect(pic.every((row) => row[x] === '.'), `column ${x}`).toBe(true);
    // …and the lone samples at 5 and 10 are dots bigger than one pixel.
    const inked = (x: number) => pic.filter((row) => row[x] === '#').length;
    expect(inked(4) + inked(5) + inked(6)).toBeGreaterThan(1);
    expect(inked(10)).toBeGreaterThan(1);
  });

  it('holds each reading until the next one, so the lines add up to the total area at every column', () => {
    const b = new PixelBuffer();
    b.reset(8, 4);
    b.polyline([0, 4, 7], [1, 3, 0], 0, 2, 1, 0, 1, 0, INK, true);
    expect(picture(b)).toEqual(['.......#', '#####..#', '....#..#', '....####']);
    // Two processes and their sum, all held: each line is inside the total's area.
    const total = new PixelBuffer();
    total.reset(8, 8);
    total.area([0, 3, 6], [3, 7, 5], 0, 2, 1, 0, -1, 7, INK, true);
    for (const ys of [[1, 4, 2], [2, 3, 3]]) {
      const line = new PixelBuffer();
      line.reset(8, 8);
      line.polyline([0, 3, 6], ys, 0, 2, 1, 0, -1, 7, INK, true);
      for (let p = 0; p < line.data.length; p++) if (line.data[p]) expect(total.data[p], `pixel ${p % 8},${Math.floor(p / 8)}`).toBe(INK);
    }
  });

  it('clips what falls outside the buffer', () => {
    const b = new PixelBuffer();
    b.reset(4, 3);
    b.polyline([-10, 20], [1, 1], 0, 1, 1, 0, 1, 0, INK);
    b.rect(-5, -5, 100, 1, INK);
    expect(picture(b)).toEqual(['####', '####', '....']);
  });

  it('hatches diagonally, leaving the background where asked', () => {
    const b = new PixelBuffer();
    b.reset(6, 2);
    b.hatch(0, 0, 6, 2, INK, 0, 3, 1);
    expect(picture(b)).toEqual(['#..#..', '..#..#']);
  });

  it('draws queue steps that hold until the next row and to the end', () => {
    const b = new PixelBuffer();
    b.reset(8, 3);
    drawSteps(b, [0, 3], [2, 0], 0, 1, 8, 1, 0, 1, 0, INK);
    expect(picture(b)).toEqual(['...#####', '...#....', '###.....'.replace('###.', '####')]);
  });

  // The per-row drawing the merged one must match: a riser to each row's depth, its tread.
  function stepsRowByRow(b: PixelBuffer, xs: number[], ys: number[], xEnd: number, kx: number, ky: number, by: number): void {
    let have = false;
    let py = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = Math.round(xs[i] * kx);
      const xn = Math.max(x + 1, Math.round((i < xs.length - 1 ? xs[i + 1] : xEnd) * kx));
      const y = Math.min(b.height - 1, Math.max(0, Math.round(ys[i] * ky + by)));
      if (have && y !== py) b.vspan(x, py, y, INK);
      b.rect(x, y, xn, y + 1, INK);
      have = true;
      py = y;
    }
  }

  /** A queue's depth, one put or get at a time, `n` operations over `ms`. */
  function walk(n: number, ms: number, seed: number): { xs: number[]; depth: number[]; peak: number[] } {
    let r = seed;
    const rand = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
    const xs: number[] = [];
    const depth: number[] = [];
    let d = 5;
    for (let i = 0; i < n; i++) {
      d = Math.max(0, Math.min(20, d + (rand() < 0.5 ? -1 : 1)));
      xs.push((i * ms) / n);
      depth.push(d);
    }
    return { xs, depth, peak: depth.map((v) => v + 1) };
  }

  it('draws a busy queue (many rows per pixel column) exactly as row by row, one run per column', () => {
    for (const [n, w] of [[5000, 40], [37, 40], [400, 200]] as const) {
      const { xs, depth } = walk(n, 1000, n);
      const kx = w / 1000;
      const merged = new PixelBuffer();
      merged.reset(w, 24);
      drawSteps(merged, xs, depth, 0, n - 1, 1000, kx, 0, -1, 22, INK);
      const reference = new PixelBuffer();
      reference.reset(w, 24);
      stepsRowByRow(reference, xs, depth, 1000, kx, -1, 22);
      expect(picture(merged), `${n} rows over ${w} px`).toEqual(picture(reference));
    }
  });

  it("fills a busy queue's peak band over every depth its column reached, and a sparse one row by row", () => {
    const { xs, depth, peak } = walk(5000, 1000, 7);
    const b = new PixelBuffer();
    b.reset(40, 24);
    drawStepBands(b, xs, depth, peak, 0, xs.length - 1, 1000, 40 / 1000, 0, -1, 22, INK);
    const rows = picture(b);
    for (let c = 0; c < 40; c++) {
      // The depths of the rows that start in column c: the band spans the lowest to the highest peak.
      const inCol = xs.map((x, i) => [Math.round((x * 40) / 1000), i] as const).filter(([x]) => x === c).map(([, i]) => i);
      if (inCol.length === 0) continue;
      const top = Math.round(-Math.max(...inCol.map((i) => peak[i])) + 22);
      const bottom = Math.round(-Math.min(...inCol.map((i) => depth[i])) + 22);
      const column = rows.map((line) => line[c]).join('');
      expect(column, `column ${c}`).toBe('.'.repeat(top) + '#'.repeat(bottom - top + 1) + '.'.repeat(23 - bottom));
    }
    // Two rows in their own columns, the second holding to the end: each its own rectangle.
    const s = new PixelBuffer();
    s.reset(8, 4);
    drawStepBands(s, [0, 3], [0, 1], [2, 3], 0, 1, 8, 1, 0, -1, 3, INK);
    expect(picture(s)).toEqual(['...#####', '########', '########', '###.....']);
    // A peak lasts its bucket (here 2), not until the next row or the end.
    const p = new PixelBuffer();
    p.reset(8, 4);
    drawStepBands(p, [0, 3], [0, 1], [2, 3], 0, 1, 8, 1, 0, -1, 3, INK, 2);
    expect(picture(p)).toEqual(['...##...', '##.##...', '##.##...', '##......']);
  });

  it('parses theme colors and mixes them', () => {
    expect(parseColor('#ff0000')).toBe(rgba(255, 0, 0));
    expect(parseColor('#0f0')).toBe(rgba(0, 255, 0));
    expect(parseColor('rgba(0, 0, 255, 0.5)')).toBe(rgba(0, 0, 255, 0.5));
    expect(mix(rgba(0, 0, 0), rgba(255, 255, 255), 0.5)).toBe(rgba(128, 128, 128));
  });
});
