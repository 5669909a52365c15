/** Reusable output buffers for traceThickLine; grown as needed. */
export interface Footprint {
  idx: Int32Array;
  cov: Float32Array;
}

export function newFootprint(size = 1 << 14): Footprint {
  return { idx: new Int32Array(size), cov: new Float32Array(size) };
}

/**
 * Coverage of a straight thread `widthPx` wide from (x0, y0) to (x1, y1) on a width×height pixel
 * grid (pixel (i, j) spans [i, i+1]×[j, j+1]): for each column (or row, along the major axis) the
 * thread's cross-section there is an interval of length widthPx·√(1+slope²); each pixel gets its
 * overlap with that interval times the fraction of the column the segment spans. The coverages
 * sum to widthPx × length, the thread's area. Writes pixel indices and coverages into `out`
 * (growing it) and returns how many.
 */
export function traceThickLine(
  x0: number, y0: number, x1: number, y1: number, widthPx: number,
  width: number, height: number, out: Footprint,
): number {
  const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
  // Work in (u, v): u along the major axis, v across it.
  let u0 = steep ? y0 : x0, v0 = steep ? x0 : y0, u1 = steep ? y1 : x1, v1 = steep ? x1 : y1;
  if (u0 > u1) {
    [u0, u1] = [u1, u0];
    [v0, v1] = [v1, v0];
  }
  const du = u1 - u0;
  if (du === 0) return 0;
  const slope = (v1 - v0) / du;
  const half = (widthPx * Math.sqrt(1 + slope * slope)) / 2;
  const uSize = steep ? height : width;
  const vSize = steep ? width : height;
  const first = Math.max(0, Math.floor(u0));
  const last = Math.min(uSize - 1, Math.floor(u1));
  const need = Math.max(0, last - first + 1) * (Math.ceil(2 * half) + 2);
  if (out.idx.length < need) {
    out.idx = new Int32Array(need);
    out.cov = new Float32Array(need);
  }
  const { idx, cov } = out;
  const uStride = steep ? width : 1;
  const vStride = steep ? 1 : width;
  let n = 0;
  for (let i = first; i <= last; i++) {
    const lo = i > u0 ? i : u0;
    const hi = i + 1 < u1 ? i + 1 : u1;
    const frac = hi - lo;
    if (frac <= 0) continue;
    const v = v0 + ((lo + hi) / 2 - u0) * slope;
    const a = v - half;
    const b = v + half;
    const jFirst = Math.max(0, Math.floor(a));
    const jLast = Math.min(vSize - 1, Math.floor(b));
    for (let j = jFirst; j <= jLast; j++) {
      const overlap = (j + 1 < b ? j + 1 : b) - (j > a ? j : a);
      if (overlap <= 0) continue;
      idx[n] = i * uStride + j * vStride;
      cov[n] = overlap * frac;
      n++;
    }
  }
  return n;
}
