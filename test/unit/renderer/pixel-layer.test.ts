import { describe, expect, it } from 'vitest';
import { drawSteps, mix, parseColor, PixelBuffer, rgba } from '../../../src-renderer/components/charts/pixel-layer.ts';

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

  it('parses theme colors and mixes them', () => {
    expect(parseColor('#ff0000')).toBe(rgba(255, 0, 0));
    expect(parseColor('#0f0')).toBe(rgba(0, 255, 0));
    expect(parseColor('rgba(0, 0, 255, 0.5)')).toBe(rgba(0, 0, 255, 0.5));
    expect(mix(rgba(0, 0, 0), rgba(255, 255, 255), 0.5)).toBe(rgba(128, 128, 128));
  });
});
