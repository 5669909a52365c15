/**
 * Exact grid traversal (Amanatides & Woo): the unit cells a segment crosses on a width×height grid
 * (coordinates in cell units, cell (i, j) spans [i, i+1]×[j, j+1]) and the segment's length inside
 * each. Writes into idx/len (each needs room for width + height + 2 entries), returns the count.
 * Cells outside the grid are skipped.
 */
export function traceSegment(
  x0: number, y0: number, x1: number, y1: number,
  width: number, height: number,
  idx: Int32Array, len: Float32Array,
): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length = Math.hypot(dx, dy);
  if (length === 0) return 0;
  let ix = Math.floor(x0);
  let iy = Math.floor(y0);
  const stepX = dx > 0 ? 1 : -1;
  const stepY = dy > 0 ? 1 : -1;
  const tDeltaX = dx !== 0 ? Math.abs(1 / dx) : Infinity;
  const tDeltaY = dy !== 0 ? Math.abs(1 / dy) : Infinity;
  let tMaxX = dx !== 0 ? ((dx > 0 ? ix + 1 : ix) - x0) / dx : Infinity;
  let tMaxY = dy !== 0 ? ((dy > 0 ? iy + 1 : iy) - y0) / dy : Infinity;
  let t = 0;
  let n = 0;
  for (;;) {
    const tNext = Math.min(tMaxX, tMaxY, 1);
    const l = (tNext - t) * length;
    if (l > 0 && ix >= 0 && iy >= 0 && ix < width && iy < height) {
      idx[n] = iy * width + ix;
      len[n] = l;
      n++;
    }
    if (tNext >= 1) break;
    if (tMaxX < tMaxY) {
      ix += stepX;
      tMaxX += tDeltaX;
    } else {
      iy += stepY;
      tMaxY += tDeltaY;
    }
    t = tNext;
  }
  return n;
}
