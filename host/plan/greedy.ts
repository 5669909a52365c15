import { LineCache } from './line-cache';
import { seededRandom } from './rng';

export interface GreedyInput {
  /** Wanted darkness 0..1 per working pixel, row-major width×height. */
  target: Float32Array;
  width: number;
  height: number;
  /** Hook centres in working-pixel units (x, y). */
  hooks: [number, number][];
  /** Thread width in working pixels: darkness a chord adds to a pixel per pixel of length inside it. */
  threadPx: number;
  /** At most this many lines. */
  lines: number;
  /** Lines join hooks at least this far apart around the ring. */
  minGap: number;
  /** Optional side of each hook (rect frames): chords between hooks on one side are skipped. -1 = none. */
  sides?: Int8Array;
  seed: number;
  /** Steps without a new lowest error before giving up (the path is cut back to the best). Default 32. */
  patience?: number;
  /**
   * Overlap model: a pixel with summed coverage s looks 1 − (1 − s/m)^m dark (m ≥ 2; m → ∞ is
   * 1 − e^−s). Threads are opaque, so crossings inside one pixel do not add up linearly; 3.5 fits
   * the quality metric's render (thread-width pixels, min(1, Σ) each, box-filtered) closely.
   */
  overlap?: number;
}

export const DEFAULT_OVERLAP = 3.5;

export interface GreedyResult {
  /** Hook sequence: path[0] is the start, each next entry ends one line. */
  path: number[];
  /** True when it returned fewer than `lines` lines because more would not lower the error. */
  stoppedEarly: boolean;
  /** Sum of squared darkness error over the working pixels, before and after. */
  errorBefore: number;
  errorAfter: number;
}

/**
 * Greedy continuous-path planner. The model: a chord adds threadPx × (its length inside a pixel) to
 * that pixel's summed coverage s, and the pixel looks tone(s) dark (see `overlap`), which is what
 * the quality metric's opaque render box-filters to. From the current hook it tries every allowed
 * chord and takes the one that lowers the summed squared error against the target the most, then
 * continues from that chord's far end. When no chord helps it keeps going for a few steps (the
 * thread must continue to reach better regions) and finally cuts the path back to the prefix with
 * the lowest error, so stopping early never costs quality. A chord is allowed when its hooks are
 * ≥ minGap apart, not on the same rect side, and it has not been strung before.
 * Deterministic: the seed picks the start hook and the order in which ties are met.
 */
export function planGreedy(input: GreedyInput): GreedyResult {
  const { target, width, height, hooks, threadPx, lines, minGap, seed } = input;
  const n = hooks.length;
  const sides = input.sides ?? new Int8Array(n).fill(-1);
  const xs = Float64Array.from(hooks, (h) => h[0]);
  const ys = Float64Array.from(hooks, (h) => h[1]);
  const cache = new LineCache(xs, ys, width, height);
  const cur = new Float32Array(width * height);
  const usedPair = new Uint8Array(n * n);
  const rand = seededRandom(seed);
  // Per pixel: summed coverage s, modelled darkness tone(s) and its 1st and ½·2nd derivatives.
  const m = Math.max(2, input.overlap ?? DEFAULT_OVERLAP);
  // Interleaved for locality: [3p] = target − tone (the residual), [3p+1] = slope, [3p+2] = curve.
  const st = new Float32Array(width * height * 3);
  const setTone = (p: number) => {
    const r = 1 - cur[p] / m;
    const rm2 = r > 0 ? Math.pow(r, m - 2) : 0;
    st[3 * p] = target[p] - (1 - rm2 * r * r);
    st[3 * p + 1] = rm2 * r;
    st[3 * p + 2] = (-(m - 1) / (2 * m)) * rm2;
  };
  for (let p = 0; p < width * height; p++) setTone(p);

  let errorBefore = 0;
  for (let p = 0; p < target.length; p++) errorBefore += target[p] * target[p];

  let at = Math.floor(rand() * n);
  const path = [at];
  let error = errorBefore;
  // Best prefix so far: a step that does not lower the error is still taken (the thread has to go
  // somewhere), but if `patience` steps pass without a new best the path is cut back to it.
  let bestError = error;
  let bestLength = 1;
  const patience = input.patience ?? 32;
  for (let step = 0; step < lines; step++) {
    const offset = Math.floor(rand() * n);
    let best = -1;
    let bestGain = -Infinity;
    for (let k = 0; k < n; k++) {
      const to = (offset + k) % n;
      const ring = Math.abs(to - at);
      if (Math.min(ring, n - ring) < minGap) continue;
      if (sides[at] >= 0 && sides[at] === sides[to]) continue;
      if (usedPair[at * n + to]) continue;
      const { idx, len, offset: o, count } = cache.get(at, to);
      let gain = 0;
      for (let q = o, end = o + count; q < end; q++) {
        const p = 3 * idx[q];
        const a = len[q] * threadPx;
        let delta = a * (st[p + 1] + a * st[p + 2]); // 2nd-order Taylor step of tone(s + a)
        if (delta < 0) delta = 0;
        gain += delta * (2 * st[p] - delta);
      }
      if (gain > bestGain) {
        bestGain = gain;
        best = to;
      }
    }
    if (best < 0) break; // every chord from here is used up
    const { idx, len, offset: o, count } = cache.get(at, best);
    for (let q = o, end = o + count; q < end; q++) {
      const p = idx[q];
      const before = st[3 * p];
      cur[p] += len[q] * threadPx;
      setTone(p);
      const after = st[3 * p];
      error += after * after - before * before;
    }
    usedPair[at * n + best] = 1;
    usedPair[best * n + at] = 1;
    path.push(best);
    at = best;
    if (error < bestError - 1e-9) {
      bestError = error;
      bestLength = path.length;
    } else if (path.length - bestLength >= patience) {
      break;
    }
  }
  const stoppedEarly = bestLength - 1 < lines;
  path.length = bestLength;
  return { path, stoppedEarly, errorBefore, errorAfter: bestError };
}
