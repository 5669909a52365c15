import { LineCache } from './line-cache';

/** Σ over chord a–b's pixels of its coverage × values[base + pixel]: the first-order gain used to rank chords. */
function chordDot(cache: LineCache, a: number, b: number, values: Float32Array | Float64Array, base: number): number {
  const key = cache.key(a, b);
  const idx = cache.idx(key);
  const amt = cache.amt(key);
  const o = cache.offset(key);
  const end = o + cache.count(key);
  let g = 0;
  for (let q = o; q < end; q++) g += amt[q] * values[base + idx[q]];
  return g;
}

/**
 * Front-to-back ("under") model, exact for the placement order the planner produces: lines are
 * found top first, so each new line goes beneath every line found so far. Per pixel: the RGB
 * residual R = image − (accumulated colour + T·bg) and the transmittance T of what lies above.
 * A line of colour c covering fraction α of a pixel (chord length × thread width, at most 1)
 * changes the picture there by T·α·(col_c − bg) and T by the factor 1 − α.
 */
export class UnderModel {
  readonly cache: LineCache;
  error = 0;
  private readonly K: number;
  private readonly P: number;
  private readonly res: Float32Array;
  private readonly T: Float32Array;
  private readonly lin: Float32Array;
  private readonly A: Float64Array;
  private readonly A2: Float64Array;

  constructor(
    image: Float32Array, width: number, height: number, xs: Float64Array, ys: Float64Array, threadPx: number,
    colours: [number, number, number][], bg: [number, number, number],
  ) {
    const P = (this.P = width * height);
    const K = (this.K = colours.length);
    // Room for every chord of 320 flanks on the 512 raster (~30 M entries, 8 B each, touched as used):
    // a smaller budget re-traces chords on every use once it is full.
    this.cache = new LineCache(xs, ys, width, height, threadPx, 32_000_000);
    this.res = new Float32Array(P * 3);
    this.T = new Float32Array(P).fill(1);
    this.lin = new Float32Array(P * K);
    this.A = new Float64Array(K * 3);
    this.A2 = new Float64Array(K);
    for (let c = 0; c < K; c++) {
      for (let k = 0; k < 3; k++) this.A[c * 3 + k] = colours[c][k] - bg[k];
      this.A2[c] = this.A[c * 3] ** 2 + this.A[c * 3 + 1] ** 2 + this.A[c * 3 + 2] ** 2;
    }
    for (let p = 0; p < P; p++) {
      for (let k = 0; k < 3; k++) {
        const r = image[p * 3 + k] - bg[k];
        this.res[p * 3 + k] = r;
        this.error += r * r;
      }
      this.setLin(p);
    }
  }

  private setLin(p: number): void {
    const A = this.A;
    const r0 = this.res[p * 3], r1 = this.res[p * 3 + 1], r2 = this.res[p * 3 + 2];
    const t2 = 2 * this.T[p];
    for (let c = 0; c < this.K; c++) this.lin[c * this.P + p] = t2 * (A[c * 3] * r0 + A[c * 3 + 1] * r1 + A[c * 3 + 2] * r2);
  }

  rank(c: number, a: number, b: number): number {
    return chordDot(this.cache, a, b, this.lin, c * this.P);
  }

  gain(c: number, a: number, b: number): number {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const o = cache.offset(key);
    const end = o + cache.count(key);
    const A0 = this.A[c * 3], A1 = this.A[c * 3 + 1], A2c = this.A[c * 3 + 2];
    const aa = this.A2[c];
    const res = this.res, T = this.T;
    let g = 0;
    for (let q = o; q < end; q++) {
      const p = idx[q];
      const al = amt[q] < 1 ? amt[q] : 1;
      const d = T[p] * al;
      const dot = A0 * res[p * 3] + A1 * res[p * 3 + 1] + A2c * res[p * 3 + 2];
      g += d * (2 * dot - d * aa);
    }
    return g;
  }

  apply(c: number, a: number, b: number): void {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const o = cache.offset(key);
    const end = o + cache.count(key);
    const A0 = this.A[c * 3], A1 = this.A[c * 3 + 1], A2c = this.A[c * 3 + 2];
    const res = this.res, T = this.T;
    let error = this.error;
    for (let q = o; q < end; q++) {
      const p = idx[q];
      const al = amt[q] < 1 ? amt[q] : 1;
      const d = T[p] * al;
      const e0 = res[p * 3] ** 2 + res[p * 3 + 1] ** 2 + res[p * 3 + 2] ** 2;
      res[p * 3] -= d * A0;
      res[p * 3 + 1] -= d * A1;
      res[p * 3 + 2] -= d * A2c;
      T[p] *= 1 - al;
      error += res[p * 3] ** 2 + res[p * 3 + 1] ** 2 + res[p * 3 + 2] ** 2 - e0;
      this.setLin(p);
    }
    this.error = error;
  }
}
