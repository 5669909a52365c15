import { LineCache } from './line-cache';

/**
 * The planner's picture model on one raster: per pixel the summed thread coverage s and, for the
 * squared error against the target, the residual and tone's derivatives (see planGreedy).
 */
export class Residual {
  readonly cache: LineCache;
  /** Σ weight · (target − tone)² over the raster, kept exact as chords come and go. */
  error = 0;
  private readonly cur: Float32Array;
  /** Interleaved for locality: [3p] = √w(target − tone), [3p+1] = √w·tone′, [3p+2] = √w·tone″/2. */
  private readonly st: Float32Array;
  private readonly sw: Float32Array;
  /** 2·residual·tone′ (weighted): the gain per unit of coverage, for quick ranking. */
  private readonly lin: Float32Array;

  constructor(
    private readonly target: Float32Array,
    weight: Float32Array | undefined,
    width: number, height: number,
    xs: Float64Array, ys: Float64Array,
    threadPx: number,
    private readonly m: number,
  ) {
    const size = width * height;
    this.cache = new LineCache(xs, ys, width, height, threadPx);
    this.cur = new Float32Array(size);
    this.st = new Float32Array(size * 3);
    this.sw = new Float32Array(size);
    this.lin = new Float32Array(size);
    for (let p = 0; p < size; p++) this.sw[p] = weight ? Math.sqrt(Math.max(0, weight[p])) : 1;
    for (let p = 0; p < size; p++) {
      this.setTone(p);
      this.error += this.st[3 * p] * this.st[3 * p];
    }
  }

  /** tone(s) = 1 − (1 − s/m)^m and its derivatives at pixel p. */
  private setTone(p: number): void {
    const m = this.m;
    const r = 1 - this.cur[p] / m;
    // r^(m−2); m = 3.5 (the default) without Math.pow, which dominates otherwise.
    const rm2 = r <= 0 ? 0 : m === 3.5 ? r * Math.sqrt(r) : Math.pow(r, m - 2);
    const w = this.sw[p];
    const st = this.st;
    st[3 * p] = w * (this.target[p] - (1 - rm2 * r * r));
    st[3 * p + 1] = w * rm2 * r;
    st[3 * p + 2] = w * (-(m - 1) / (2 * m)) * rm2;
    this.lin[p] = 2 * st[3 * p] * st[3 * p + 1];
  }

  /** First-order gain of adding chord a–b (Σ coverage · 2·residual·tone′): cheap, for ranking. */
  rank(a: number, b: number): number {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const lin = this.lin;
    const o = cache.offset(key);
    const end = o + cache.count(key);
    let gain = 0;
    for (let q = o; q < end; q++) gain += amt[q] * lin[idx[q]];
    return gain;
  }

  /** The modelled darkness tone(s) of every pixel: what the quality metric's render should show. */
  darkness(): Float32Array {
    const out = new Float32Array(this.cur.length);
    for (let p = 0; p < out.length; p++) out[p] = toneOf(this.cur[p], this.m);
    return out;
  }

  /** Error decrease if chord a–b were added (2nd-order Taylor step per pixel). */
  gain(a: number, b: number): number {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const st = this.st;
    const o = cache.offset(key);
    const end = o + cache.count(key);
    let gain = 0;
    for (let q = o; q < end; q++) {
      const p = 3 * idx[q];
      const x = amt[q];
      let delta = x * (st[p + 1] + x * st[p + 2]);
      if (delta < 0) delta = 0;
      gain += delta * (2 * st[p] - delta);
    }
    return gain;
  }

  /** Add (sign 1) or remove (sign −1) chord a–b. */
  apply(a: number, b: number, sign: number): void {
    const cache = this.cache;
    const key = cache.key(a, b);
    const idx = cache.idx(key);
    const amt = cache.amt(key);
    const st = this.st;
    const cur = this.cur;
    const o = cache.offset(key);
    const end = o + cache.count(key);
    let error = this.error;
    for (let q = o; q < end; q++) {
      const p = idx[q];
      const before = st[3 * p];
      const c = cur[p] + sign * amt[q];
      cur[p] = c > 0 ? c : 0;
      this.setTone(p);
      const after = st[3 * p];
      error += after * after - before * before;
    }
    this.error = error;
  }
}

/** Box-filter a raster by 2 (odd edges dropped into the last cell). */
export function halve(src: Float32Array, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const w = Math.max(1, width >> 1);
  const h = Math.max(1, height >> 1);
  const data = new Float32Array(w * h);
  const count = new Float32Array(w * h);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(h - 1, y >> 1);
    for (let x = 0; x < width; x++) {
      const c = cy * w + Math.min(w - 1, x >> 1);
      data[c] += src[y * width + x];
      count[c]++;
    }
  }
  for (let i = 0; i < data.length; i++) data[i] /= count[i];
  return { data, width: w, height: h };
}

/** The overlap model: summed coverage s looks 1 − (1 − s/m)^m dark (1 from s = m on). */
export function toneOf(s: number, m: number): number {
  const r = 1 - s / m;
  if (r <= 0) return 1;
  return m === 3.5 ? 1 - r * r * r * Math.sqrt(r) : 1 - Math.pow(r, m);
}
