// Puts a PixelBuffer on a canvas: the one DOM part of the pixel layer (kept apart so the buffer
// itself stays plain TypeScript that tests and the root type-check can load).

import type { PixelBuffer } from './pixel-layer.ts';

/**
 * Copies the buffer onto a 2D context at (dx, dy) through a scratch canvas (putImageData would
 * ignore transparency; drawImage composites, so the grid under the data stays visible).
 */
export class PixelBlitter {
  #canvas: HTMLCanvasElement | null = null;
  #ctx: CanvasRenderingContext2D | null = null;

  blit(buf: PixelBuffer, ctx: CanvasRenderingContext2D, dx: number, dy: number): void {
    const { width: w, height: h } = buf;
    if (w === 0 || h === 0) return;
    if (!this.#canvas) {
      this.#canvas = document.createElement('canvas');
      this.#ctx = this.#canvas.getContext('2d');
    }
    const c = this.#canvas;
    if (c.width < w || c.height < h) {
      c.width = Math.max(c.width, w);
      c.height = Math.max(c.height, h);
    }
    const img = new ImageData(new Uint8ClampedArray(buf.data.buffer, 0, w * h * 4), w, h);
    this.#ctx?.putImageData(img, 0, 0);
    ctx.drawImage(c, 0, 0, w, h, dx, dy, w, h);
  }
}
