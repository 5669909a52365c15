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
 * The colour planner's picture model: per pixel and colour c the summed coverage s_c, each colour
 * looking tone(s_c) = 1 − (1 − s_c/m)^m dark (the monochrome overlap model), and the picture
 * bg + Σ_c tone(s_c)·(col_c − bg) (additive: colours mix by coverage). Kept per pixel: the RGB
 * residual R = image − picture, and per colour tone′ and tone″/2, so a chord's gain (decrease of
 * the squared RGB error, weight w) is Σ δ(2·A_c·R − δ·|A_c|²) over its pixels with
 * δ = a(t′ + a·t″/2), A_c = col_c − bg. Every colour's line thus answers what the others leave.
 */
export class ColourModel {
  readonly cache: LineCache;
  /** Σ w·|R|² over the raster. */
  error = 0;
  private readonly K: number;
  private readonly P: number;
  private readonly s: Float32Array;
  private readonly res: Float32Array;
  private readonly t1: Float32Array;
  private readonly t2: Float32Array;
  /** Per colour 2·(A_c·R)·tone′: first-order gain per unit coverage (ranking). */
  private readonly lin: Float32Array;
  private readonly A: Float64Array;
  private readonly A2: Float64Array;

  constructor(
    image: Float32Array, private readonly weight: Float32Array | null,
    width: number, height: number, xs: Float64Array, ys: Float64Array, threadPx: number,
    colours: [number, number, number][], bg: [number, number, number], private readonly m: number,
  ) {
    const P = (this.P = width * height);
    const K = (this.K = colours.length);
    this.cache = new LineCache(xs, ys, width, height, threadPx);
    this.s = new Float32Array(P * K);
    this.res = new Float32Array(P * 3);
    this.t1 = new Float32Array(P * K).fill(1);
    this.t2 = new Float32Array(P * K).fill(-(m - 1) / (2 * m));
    this.lin = new Float32Array(P * K);
    this.A = new Float64Array(K * 3);
    this.A2 = new Float64Array(K);
    for (let c = 0; c < K; c++) {
      for (let k = 0; k < 3; k++) this.A[c * 3 + k] = colours[c][k] - bg[k];
      this.A2[c] = this.A[c * 3] ** 2 + this.A[c * 3 + 1] ** 2 + this.A[c * 3 + 2] ** 2;
    }
    for (let p = 0; p < P; p++) {
      const w = weight ? weight[p] : 1;
      for (let k = 0; k < 3; k++) {
        const r = image[p * 3 + k] - bg[k];
        this.res[p * 3 + k] = r;
        this.error += w * r * r;
      }
      this.setLin(p);
    }
  }

  private setLin(p: number): void {
    const K = this.K;
    const A = this.A;
    const r0 = this.res[p * 3], r1 = this.res[p * 3 + 1], r2 = this.res[p * 3 + 2];
    const w = this.weight ? this.weight[p] : 1;
    for (let c = 0; c < K; c++) {
      this.lin[c * this.P + p] = 2 * w * (A[c * 3] * r0 + A[c * 3 + 1] * r1 + A[c * 3 + 2] * r2) * this.t1[p * K + c];
    }
  }

  /** First-order gain of chord a–b in colour c (ranking). */
  rank(c: number, a: number, b: number): number {
    return chordDot(this.cache, a, b, this.lin, c * this.P);
  }

  /** Error decrease if chord a–b in colour c were added (2nd-order step per pixel). */
  gain(c: number, a: number, b: number): number {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const o = cache.offset(key);
    const end = o + cache.count(key);
    const K = this.K;
    const A0 = this.A[c * 3], A1 = this.A[c * 3 + 1], A2c = this.A[c * 3 + 2];
    const aa = this.A2[c];
    const res = this.res, t1 = this.t1, t2 = this.t2;
    const weight = this.weight;
    let g = 0;
    for (let q = o; q < end; q++) {
      const p = idx[q];
      const x = amt[q];
      const pk = p * K + c;
      let d = x * (t1[pk] + x * t2[pk]);
      if (d <= 0) continue;
      const dot = A0 * res[p * 3] + A1 * res[p * 3 + 1] + A2c * res[p * 3 + 2];
      const w = weight ? weight[p] : 1;
      g += w * d * (2 * dot - d * aa);
    }
    return g;
  }

  /** Add (sign 1) or remove (−1) chord a–b in colour c. */
  apply(c: number, a: number, b: number, sign: number): void {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const o = cache.offset(key);
    const end = o + cache.count(key);
    const K = this.K;
    const m = this.m;
    const A0 = this.A[c * 3], A1 = this.A[c * 3 + 1], A2c = this.A[c * 3 + 2];
    const res = this.res;
    const weight = this.weight;
    let error = this.error;
    for (let q = o; q < end; q++) {
      const p = idx[q];
      const pk = p * K + c;
      const before = toneAt(this.s[pk], m);
      let sNew = this.s[pk] + sign * amt[q];
      if (sNew < 0) sNew = 0;
      this.s[pk] = sNew;
      const r = 1 - sNew / m;
      const rm2 = r <= 0 ? 0 : m === 3.5 ? r * Math.sqrt(r) : Math.pow(r, m - 2);
      const after = r <= 0 ? 1 : 1 - rm2 * r * r;
      this.t1[pk] = rm2 * r;
      this.t2[pk] = (-(m - 1) / (2 * m)) * rm2;
      const dt = after - before;
      const w = weight ? weight[p] : 1;
      const e0 = res[p * 3] ** 2 + res[p * 3 + 1] ** 2 + res[p * 3 + 2] ** 2;
      res[p * 3] -= dt * A0;
      res[p * 3 + 1] -= dt * A1;
      res[p * 3 + 2] -= dt * A2c;
      const e1 = res[p * 3] ** 2 + res[p * 3 + 1] ** 2 + res[p * 3 + 2] ** 2;
      error += w * (e1 - e0);
      this.setLin(p);
    }
    this.error = error;
  }
}

function toneAt(s: number, m: number): number {
  const r = 1 - s / m;
  if (r <= 0) return 1;
  return m === 3.5 ? 1 - r * r * r * Math.sqrt(r) : 1 - Math.pow(r, m);
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
    this.cache = new LineCache(xs, ys, width, height, threadPx);
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
