import { halve, Residual } from './residual';
import { Shortlist } from './shortlist';
import { seededRandom } from '../rng';

export interface GreedyInput {
  /** Wanted darkness 0..1 per working pixel, row-major width×height. */
  target: Float32Array;
  width: number;
  height: number;
  /** Hook centres in working-pixel units (x, y). */
  hooks: [number, number][];
  /** Thread width in working pixels: darkness a chord adds to a pixel per pixel of length inside it. */
  threadPx: number;
  /** At most this many lines; 'auto' = until another line no longer lowers the error. */
  lines: number | 'auto';
  /** Lines join hooks at least this far apart in index order around the ring (in hooks, also with flankPairs). */
  minGap: number;
  /**
   * Nails 2h and 2h+1 are the two flanks of hook h (plan flanks = 2): the quick ranking first ranks
   * one flank per hook, then both flanks of the best `pairShortlist` hooks, then the shortlist is
   * scored exactly (flanks of one hook lie ~2 px apart: neighbours in score, not equals).
   */
  flankPairs?: boolean;
  /** With flankPairs: how many hooks get both flanks ranked (default DEFAULT_PAIR_SHORTLIST). */
  pairShortlist?: number;
  /** Optional side of each hook (rect frames): chords between hooks on one side are skipped. -1 = none. */
  sides?: Int8Array;
  /** Optional weight ≥ 0 per working pixel (importance mask); the error is Σ weight · (target − tone)². */
  weight?: Float32Array;
  seed: number;
  /** Steps without a new lowest error before giving up (the path is cut back to the best). Default 32. */
  patience?: number;
  /**
   * Overlap model: a pixel with summed coverage s looks 1 − (1 − s/m)^m dark (m ≥ 2; m → ∞ is
   * 1 − e^−s). Threads are opaque, so crossings inside one pixel do not add up linearly; this
   * curve fits the quality metric's render (thread-width pixels, min(1, Σ) each, box-filtered).
   */
  overlap?: number;
  /** Improvement passes over the finished path (hook replacement, see planGreedy). Default 1. */
  passes?: number;
  /** Candidates ranked on a half-resolution raster; this many best are scored exactly (0 = all exactly). */
  shortlist?: number;
  /**
   * Where candidates are ranked: 'coarse' on a half-resolution copy of the model (default:
   * fastest), 'fine' on the working raster (~0.2 % lower error, ~25 % slower).
   */
  ranking?: 'fine' | 'coarse';
  /** Called now and then with the fraction done, 0..1. */
  onProgress?: (fraction: number) => void;
  /**
   * Called every few greedy steps with the path so far (read it, do not keep it: it grows and is
   * cut back at the end when the last lines did not help); for showing the picture as it forms.
   */
  onPath?: (path: readonly number[]) => void;
}

export const DEFAULT_OVERLAP = 3.5;
/** Hook-replacement passes by default: none (measured: they move < 1 % of hooks, see docs). */
export const DEFAULT_PASSES = 0;
/** Candidates scored exactly per step after the half-resolution ranking. */
export const DEFAULT_SHORTLIST = 8;
/** Ranking raster by default (see GreedyInput.ranking). */
export const DEFAULT_RANKING: 'fine' | 'coarse' = 'coarse';
/** Flank pairs: hooks whose two flanks are both ranked after the one-flank-per-hook pre-ranking. */
export const DEFAULT_PAIR_SHORTLIST = 16;
/** --lines auto never plans more than this. */
export const AUTO_LINE_CAP = 20_000;

export interface GreedyResult {
  /**
   * Hook sequence: path[0] is the start, each next entry ends one line. With flankPairs the
   * entries are the flanks the thread arrives on; line i runs from path[i−1] ^ 1 to path[i].
   */
  path: number[];
  /** True when it returned fewer than `lines` lines because more would not lower the error. */
  stoppedEarly: boolean;
  /** Weighted sum of squared darkness error over the working pixels: before, after greedy, after the passes. */
  errorBefore: number;
  errorGreedy: number;
  errorAfter: number;
  /** Hooks the improvement passes moved. */
  replaced: number;
  /** Modelled darkness of the result per working pixel (the preview, without a second render). */
  darkness: Float32Array;
  /** Set when the planner had to do something other than asked (a one-line warning for the user). */
  note?: string;
}

/**
 * Greedy continuous-path planner with hook-replacement passes.
 *
 * Model: a chord adds threadPx × (its length inside a pixel) to that pixel's summed coverage s,
 * and the pixel looks tone(s) dark (see `overlap`), which is what the quality metric's opaque
 * render box-filters to. Per pixel the planner keeps the residual target − tone(s) and tone's
 * first and half second derivative, scaled by √weight, so a candidate's gain (error decrease) is
 * a sum over its precomputed pixel list of δ(2r − δ) with δ = a(t′ + a·t″/2).
 *
 * 1. Greedy: from the current hook rank every allowed chord by its first-order gain on a
 *    half-resolution copy of the model (a quarter of the pixels, one float each), score the
 *    `shortlist` best exactly on the working raster and take the best; continue from its far end.
 *    When no chord helps it keeps going for `patience` steps and then cuts the path back to the
 *    best prefix, so stopping early never costs quality.
 * 2. Passes: for each inner hook B of the path …A→B→C…, take A–B and B–C out and put back the
 *    pair A–B′, B′–C with the largest gain over every allowed B′ (B itself included), so the
 *    thread stays continuous and the line count unchanged; the error never rises.
 *
 * Allowed chords: hooks ≥ minGap apart around the ring, not on one rect side, not strung before.
 * Deterministic: the seed picks the start hook and the order in which ties are met.
 */
export function planGreedy(input: GreedyInput): GreedyResult {
  const { target, width, height, hooks, threadPx, minGap, seed } = input;
  const n = hooks.length;
  const auto = input.lines === 'auto';
  const maxLines = auto ? AUTO_LINE_CAP : (input.lines as number);
  const sides = input.sides ?? new Int8Array(n).fill(-1);
  const xs = Float64Array.from(hooks, (h) => h[0]);
  const ys = Float64Array.from(hooks, (h) => h[1]);
  const usedPair = new Uint8Array(n * n);
  const rand = seededRandom(seed);
  const progress = input.onProgress ?? (() => {});
  const passes = input.passes ?? DEFAULT_PASSES;
  const m = Math.max(2, input.overlap ?? DEFAULT_OVERLAP);
  const fine = new Residual(target, input.weight, width, height, xs, ys, threadPx, m);
  // Ranking: every candidate gets a first-order score (Σ coverage · 2·residual·tone′, one float
  // per pixel) on a half-resolution copy of the model (or on the working raster with
  // ranking: 'fine'); the `shortlist` best are scored exactly on the working raster.
  const shortlist = input.shortlist ?? DEFAULT_SHORTLIST;
  const twoLevel = shortlist > 0 && n > shortlist;
  let coarse: Residual | null = null;
  if (twoLevel && (input.ranking ?? DEFAULT_RANKING) === 'coarse' && width >= 64 && height >= 64) {
    const t = halve(target, width, height);
    const w = input.weight ? halve(input.weight, width, height).data : undefined;
    const cx = Float64Array.from(xs, (v) => (v * t.width) / width);
    const cy = Float64Array.from(ys, (v) => (v * t.height) / height);
    coarse = new Residual(t.data, w, t.width, t.height, cx, cy, (threadPx * t.width) / width, m);
  }
  const ranker = coarse ?? fine;
  // Flank pairs: rank one flank per hook first, then both flanks of the best `pairTop` hooks.
  const pairs = input.flankPairs === true && n % 2 === 0;
  const pairTop = new Shortlist(Math.max(1, (input.pairShortlist ?? DEFAULT_PAIR_SHORTLIST)));
  const errorBefore = fine.error;
  const add = (a: number, b: number, sign: number) => {
    fine.apply(a, b, sign);
    if (coarse) coarse.apply(a, b, sign);
    usedPair[a * n + b] = usedPair[b * n + a] = sign > 0 ? 1 : 0;
  };
  // Ring distance is counted in hooks (a flank pair is one hook).
  const hookShift = pairs ? 1 : 0;
  const ringHooks = n >> hookShift;
  const allowed = (a: number, b: number): boolean => {
    if (a === b) return false;
    const ring = Math.abs((a >> hookShift) - (b >> hookShift));
    if (Math.min(ring, ringHooks - ring) < minGap) return false;
    if (sides[a] >= 0 && sides[a] === sides[b]) return false;
    return usedPair[a * n + b] === 0;
  };
  // Candidate ranking scratch: coarse score per candidate, and the shortlist.
  const rough = new Float64Array(n);
  const order = new Int32Array(n);
  const top = new Shortlist(shortlist);
  /** The best of `count` candidates order[0..count) by exact fine score `exact(k)`, ties to the first. */
  const pick = (count: number, exact: (k: number) => number): number => {
    if (!twoLevel || count <= shortlist) {
      let best = -1;
      let bestScore = -Infinity;
      for (let i = 0; i < count; i++) {
        const s = exact(order[i]);
        if (s > bestScore) {
          bestScore = s;
          best = order[i];
        }
      }
      return best;
    }
    // The `shortlist` largest rough scores (insertion into a small sorted list), then exact
    // scores for those in candidate order, so ties go to the first as without a shortlist.
    top.clear();
    for (let i = 0; i < count; i++) top.offer(rough[order[i]], i);
    const size = top.size;
    const chosen = top.ids.subarray(0, size).sort();
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < size; c++) {
      const k = order[chosen[c]];
      const s = exact(k);
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
    }
    return best;
  };

  // 1. Greedy.
  // The nail a line leaves from after the thread arrived at nail v: with flank pairs the thread
  // goes round the hook and leaves from the other flank (docs/plan-format.md, "Flanks").
  const out = pairs ? (v: number) => v ^ 1 : (v: number) => v;
  const start = Math.floor(rand() * n);
  let at = out(start);
  const path = [start];
  let bestError = fine.error;
  let bestLength = 1;
  const patience = input.patience ?? 32;
  const greedyShare = passes > 0 ? 0.7 : 1;
  for (let step = 0; step < maxLines; step++) {
    if ((step & 63) === 0) progress((greedyShare * step) / maxLines); // auto: of the cap
    if (input.onPath && (step & 7) === 0 && step > 0) input.onPath(path);
    const offset = Math.floor(rand() * n);
    let count = 0;
    for (let k = 0; k < n; k++) {
      const to = offset + k < n ? offset + k : offset + k - n;
      if (allowed(at, to)) order[count++] = to;
    }
    if (twoLevel && count > shortlist) {
      if (pairs && count > pairTop.ids.length * 2) {
        // Stage 1: each hook by its flank 0 (flank 1 when 0 is used up): the same chords every
        // time, so fewer are traced; stage 2: both flanks of the best hooks.
        pairTop.clear();
        for (let i = 0; i < count; i++) {
          const k = order[i];
          rough[k] = -Infinity;
          if ((k & 1) === 0 || !allowed(at, k ^ 1)) pairTop.offer(ranker.rank(at, k), k);
        }
        for (let j = 0; j < pairTop.size; j++) {
          const h = pairTop.ids[j] >> 1;
          for (let f = 2 * h; f <= 2 * h + 1; f++) if (allowed(at, f)) rough[f] = ranker.rank(at, f);
        }
      } else {
        for (let i = 0; i < count; i++) rough[order[i]] = ranker.rank(at, order[i]);
      }
    }
    const from = at;
    const best = pick(count, (to) => fine.gain(from, to));
    if (best < 0) break; // every chord from here is used up
    add(at, best, 1);
    path.push(best);
    at = out(best);
    if (fine.error < bestError - 1e-9) {
      bestError = fine.error;
      bestLength = path.length;
    } else if (path.length - bestLength >= patience) {
      break;
    }
  }
  for (let i = path.length - 1; i >= bestLength; i--) add(out(path[i - 1]), path[i], -1);
  path.length = bestLength;
  const stoppedEarly = !auto && bestLength - 1 < maxLines;
  const errorGreedy = fine.error;

  // 2. Hook-replacement passes: A→B→C becomes A→B′→C when that lowers the error.
  let replaced = 0;
  const inner = path.length - 2;
  for (let pass = 0; pass < passes && inner > 0; pass++) {
    let moved = 0;
    for (let i = 1; i <= inner; i++) {
      if ((i & 63) === 0) progress(greedyShare + ((1 - greedyShare) * (pass + i / inner)) / passes);
      const a = out(path[i - 1]);
      const b = path[i];
      const c = path[i + 1];
      add(a, b, -1);
      add(out(b), c, -1);
      let count = 0;
      order[count++] = b;
      if (twoLevel) rough[b] = Infinity; // always re-scored: the current hook stays unless beaten
      for (let k = 0; k < n; k++) {
        if (k === b || !allowed(a, k) || !allowed(out(k), c)) continue;
        if (twoLevel) rough[k] = ranker.rank(a, k) + ranker.rank(out(k), c);
        order[count++] = k;
      }
      const best = pick(count, (k) => fine.gain(a, k) + fine.gain(out(k), c));
      add(a, best, 1);
      add(out(best), c, 1);
      if (best !== b) {
        path[i] = best;
        moved++;
      }
    }
    replaced += moved;
    if (moved === 0) break;
  }
  progress(1);
  return { path, stoppedEarly, errorBefore, errorGreedy, errorAfter: fine.error, replaced, darkness: fine.darkness() };
}
