import { Residual } from './residual';
import { seededRandom } from '../rng';
import { DEFAULT_OVERLAP, AUTO_LINE_CAP, planGreedy, type GreedyInput, type GreedyResult } from './greedy';
import { threadTrail } from './trail';

/** Rounds of remove-and-refill after the first fill (see planChordSet). */
export const DEFAULT_ROUNDS = 2;

export interface ChordSetInput extends GreedyInput {
  /** Remove-and-refill rounds after the first fill. Default DEFAULT_ROUNDS. */
  rounds?: number;
  /** Called with the chords chosen so far (nail pairs, in the order found), for showing the picture forming. */
  onChords?: (a: Int32Array, b: Int32Array, count: number) => void;
}

/**
 * Max-heap of (score, id) over a fixed id range, for lazy greedy selection: scores are upper
 * bounds that are refreshed when an id reaches the top.
 */
class MaxHeap {
  size = 0;
  private readonly s: Float64Array;
  private readonly id: Int32Array;
  constructor(capacity: number) {
    this.s = new Float64Array(capacity);
    this.id = new Int32Array(capacity);
  }
  clear(): void {
    this.size = 0;
  }
  get topScore(): number {
    return this.size > 0 ? this.s[0] : -Infinity;
  }
  push(score: number, id: number): void {
    const s = this.s;
    const ids = this.id;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (s[p] >= score) break;
      s[i] = s[p];
      ids[i] = ids[p];
      i = p;
    }
    s[i] = score;
    ids[i] = id;
  }
  /** Removes the top and returns its id. */
  pop(): number {
    const s = this.s;
    const ids = this.id;
    const top = ids[0];
    const n = --this.size;
    if (n > 0) {
      const score = s[n];
      const last = ids[n];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && s[c + 1] > s[c]) c++;
        if (s[c] <= score) break;
        s[i] = s[c];
        ids[i] = ids[c];
        i = c;
      }
      s[i] = score;
      ids[i] = last;
    }
    return top;
  }
}

/**
 * Chord-set planner: choose the set of chords first, free of the path, then string it as one thread.
 *
 * The picture of a mono plan does not depend on the order of its lines, only on which chords are
 * strung; the single thread asks only that the chords form one trail in which the thread arrives
 * at a hook on one flank and leaves from the other. So:
 *
 * 1. Fill: lazy greedy over every allowed chord (a max-heap of gains that only ever fall as
 *    thread is added, refreshed when a chord reaches the top): the chord that lowers the modelled
 *    error most, anywhere on the board, until `lines` are chosen.
 * 2. Rounds (Birsak et al. 2018): take out every chord whose removal lowers the error, then fill
 *    again. Measured on the bench images, no single removal helps (the filled set is a local
 *    optimum for it), so this costs one pass; swapping out the weakest 10 % each round gained
 *    0.1 % at 5× the time and is not done (docs/plan-format.md, "Planning methods").
 * 3. Trail (see threadTrail): nudge chord ends between neighbouring hooks and flanks, at the
 *    least cost in error, until every hook but the two ends is entered as often on one flank as on
 *    the other; pair entries with exits at each hook and splice the cycles into one thread.
 *
 * Same inputs and model as planGreedy (the Residual), same result shape.
 */
export function planChordSet(input: ChordSetInput): GreedyResult {
  const { target, width, height, hooks, threadPx, minGap, seed } = input;
  const n = hooks.length;
  const auto = input.lines === 'auto';
  const maxLines = auto ? AUTO_LINE_CAP : (input.lines as number);
  const sides = input.sides ?? new Int8Array(n).fill(-1);
  const xs = Float64Array.from(hooks, (h) => h[0]);
  const ys = Float64Array.from(hooks, (h) => h[1]);
  const rand = seededRandom(seed);
  const progress = input.onProgress ?? (() => {});
  const m = Math.max(2, input.overlap ?? DEFAULT_OVERLAP);
  const pairs = input.flankPairs === true && n % 2 === 0;
  const hookShift = pairs ? 1 : 0;
  const ringHooks = n >> hookShift;
  const fine = new Residual(target, input.weight, width, height, xs, ys, threadPx, m);
  const errorBefore = fine.error;
  const apply = (u: number, v: number, sign: number) => {
    fine.apply(u, v, sign);
  };

  // Every allowed chord a < b: hooks at least minGap apart around the ring, not on one rect side.
  const allowed = (a: number, b: number): boolean => {
    if (a === b) return false;
    const ring = Math.abs((a >> hookShift) - (b >> hookShift));
    if (Math.min(ring, ringHooks - ring) < minGap) return false;
    return !(sides[a] >= 0 && sides[a] === sides[b]);
  };
  const chordOf = new Int32Array(n * n).fill(-1);
  let count = 0;
  for (let b = 1; b < n; b++) for (let a = 0; a < b; a++) if (allowed(a, b)) count++;
  const ca = new Int32Array(count);
  const cb = new Int32Array(count);
  count = 0;
  for (let b = 1; b < n; b++) {
    for (let a = 0; a < b; a++) {
      if (!allowed(a, b)) continue;
      ca[count] = a;
      cb[count] = b;
      chordOf[a * n + b] = chordOf[b * n + a] = count;
      count++;
    }
  }
  const inSet = new Uint8Array(count);
  const chosen: number[] = [];
  const heap = new MaxHeap(count + 1);
  const onChords = input.onChords;
  const shownA = new Int32Array(maxLines);
  const shownB = new Int32Array(maxLines);
  let shown = 0;

  const fillHeap = () => {
    heap.clear();
    for (let c = 0; c < count; c++) if (!inSet[c]) heap.push(fine.gain(ca[c], cb[c]), c);
  };
  /** Lazy greedy: add the best chord until `want` are in the set or none lowers the error. */
  const fill = (want: number, report: boolean) => {
    while (chosen.length < want && heap.size > 0) {
      const c = heap.pop();
      const g = fine.gain(ca[c], cb[c]);
      if (heap.size > 0 && g < heap.topScore) {
        heap.push(g, c);
        continue;
      }
      if (g <= 0) break;
      apply(ca[c], cb[c], 1);
      inSet[c] = 1;
      chosen.push(c);
      if (report) {
        if ((chosen.length & 63) === 0) progress((0.6 * chosen.length) / maxLines);
        if (onChords && shown < maxLines) {
          shownA[shown] = ca[c];
          shownB[shown] = cb[c];
          shown++;
          if ((shown & 7) === 0) onChords(shownA, shownB, shown);
        }
      }
    }
  };

  fillHeap();
  fill(maxLines, true);
  const errorGreedy = fine.error;
  const wanted = chosen.length;

  // 2. Remove-and-refill rounds.
  const rounds = input.rounds ?? DEFAULT_ROUNDS;
  let replaced = 0;
  for (let round = 0; round < rounds; round++) {
    progress(0.6 + (0.3 * round) / Math.max(1, rounds));
    // Random order: which of two overlapping chords goes first is not biased by when it was found.
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = chosen[i];
      chosen[i] = chosen[j];
      chosen[j] = t;
    }
    const kept: number[] = [];
    let removed = 0;
    for (const c of chosen) {
      const before = fine.error;
      apply(ca[c], cb[c], -1);
      if (fine.error < before - 1e-12) {
        inSet[c] = 0;
        removed++;
      } else {
        apply(ca[c], cb[c], 1);
        kept.push(c);
      }
    }
    chosen.length = 0;
    chosen.push(...kept);
    if (removed === 0) break;
    replaced += removed;
    fillHeap();
    fill(wanted, false);
  }
  progress(0.9);

  // 3. One thread through the chosen chords.
  const a = Int32Array.from(chosen, (c) => ca[c]);
  const b = Int32Array.from(chosen, (c) => cb[c]);
  let path: number[];
  try {
    path = threadTrail({
    a, b, nails: n, pairs, residual: fine, allowed, rand,
    used: (u, v) => {
      const c = chordOf[u * n + v];
      return c >= 0 && inSet[c] === 1;
    },
    mark: (u, v, on) => {
      const c = chordOf[u * n + v];
      if (c >= 0) inSet[c] = on ? 1 : 0;
    },
  });
  } catch (e) {
    // A few lines on many hooks can fall apart into groups with no hook in common: no one thread
    // strings them. Plan along the thread instead.
    return { ...planGreedy(input), note: `--method set: ${(e as Error).message}; planned along the thread instead` };
  }
  progress(1);
  return {
    path,
    stoppedEarly: !auto && path.length - 1 < maxLines,
    errorBefore,
    errorGreedy,
    errorAfter: fine.error,
    replaced,
    darkness: fine.darkness(),
  };
}
