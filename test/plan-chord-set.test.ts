import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import './fast-check-seed';
import { planChordSet } from '../host/plan/chord-set';
import { planGreedy, type GreedyInput } from '../host/plan/greedy';
import { Residual } from '../host/plan/residual';
import { threadTrail } from '../host/plan/trail';
import { defaultMinGap, flankNails, layoutHooks } from '../host/plan/layout';
import { seededRandom } from '../host/rng';

const SIZE = 96;

/** Hooks (or flank nails) on a circle filling a SIZE px board. */
function nailsOn(hooks: number, flanks: boolean): [number, number][] {
  const board = { widthMm: SIZE, heightMm: SIZE, frame: 'circle' as const };
  const centres = layoutHooks(board, hooks).nails;
  return flanks ? flankNails(centres, board, undefined, 1) : centres;
}

/**
 * The thread the path strings: every line joins hooks ≥ minGap apart, no nail pair twice, and
 * (flanked) each line leaves from the flank opposite to the one the last arrived on.
 */
function linesOf(path: number[], flanks: boolean, hooks: number, minGap: number): string[] {
  const shift = flanks ? 1 : 0;
  const seen: string[] = [];
  for (let i = 1; i < path.length; i++) {
    const from = flanks ? path[i - 1] ^ 1 : path[i - 1];
    const to = path[i];
    const ring = Math.abs((from >> shift) - (to >> shift));
    expect(Math.min(ring, hooks - ring)).toBeGreaterThanOrEqual(minGap);
    seen.push(from < to ? `${from}-${to}` : `${to}-${from}`);
  }
  expect(new Set(seen).size).toBe(seen.length);
  return seen;
}

describe('threadTrail: one thread through any set of chords', () => {
  it('strings exactly the (adjusted) chords, each once, with flanks alternating', () => {
    let runs = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 12, max: 40 }), fc.boolean(), fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 160 }),
        (hooks, flanks, seed, want) => {
          const nails = nailsOn(hooks, flanks);
          const n = nails.length;
          const shift = flanks ? 1 : 0;
          const minGap = Math.max(1, Math.floor(hooks / 8));
          const allowed = (u: number, v: number) => {
            const ring = Math.abs((u >> shift) - (v >> shift));
            return u !== v && Math.min(ring, hooks - ring) >= minGap;
          };
          // A random set of distinct allowed chords.
          const rand = seededRandom(seed);
          const used = new Set<string>();
          const key = (u: number, v: number) => (u < v ? `${u}-${v}` : `${v}-${u}`);
          const a: number[] = [];
          const b: number[] = [];
          for (let tries = 0; a.length < want && tries < want * 20; tries++) {
            const u = Math.floor(rand() * n);
            const v = Math.floor(rand() * n);
            if (!allowed(u, v) || used.has(key(u, v))) continue;
            used.add(key(u, v));
            a.push(u);
            b.push(v);
          }
          const target = new Float32Array(SIZE * SIZE).fill(0.3);
          const xs = Float64Array.from(nails, (p) => p[0]);
          const ys = Float64Array.from(nails, (p) => p[1]);
          const residual = new Residual(target, undefined, SIZE, SIZE, xs, ys, 0.3, 3.5);
          for (let i = 0; i < a.length; i++) residual.apply(a[i], b[i], 1);
          const A = Int32Array.from(a);
          const B = Int32Array.from(b);
          let path: number[];
          runs++;
          try {
            path = threadTrail({
              a: A, b: B, nails: n, pairs: flanks, residual, allowed, rand,
              used: (u, v) => used.has(key(u, v)),
              mark: (u, v, on) => (on ? used.add(key(u, v)) : used.delete(key(u, v))),
            });
          } catch (e) {
            // Only a set whose hooks fall apart into groups may be refused, never a connected one.
            expect((e as Error).message).toMatch(/share no hook|cannot|no chord end/);
            refused++;
            return;
          }
          const strung = linesOf(path, flanks, hooks, minGap).sort();
          const moved = Array.from(A, (u, i) => key(u, B[i])).sort();
          expect(strung).toEqual(moved);
          expect(new Set(moved)).toEqual(used);
        },
      ),
      { numRuns: 150 },
    );
    // Refusals come from sparse sets on many hooks only: most sets are threaded.
    expect(refused).toBeLessThan(runs / 4);
  });

  it('threads a connected set without refusing it', () => {
    // A star of chords through hook 0 and a ring of chords: connected, every hook odd or even.
    const hooks = 24;
    const nails = nailsOn(hooks, true);
    const allowed = (u: number, v: number) => {
      const ring = Math.abs((u >> 1) - (v >> 1));
      return Math.min(ring, hooks - ring) >= 3;
    };
    const a: number[] = [];
    const b: number[] = [];
    for (let h = 3; h <= 21; h += 2) {
      a.push(0);
      b.push(2 * h);
    }
    for (let h = 0; h < hooks; h++) {
      a.push(2 * h + 1);
      b.push(2 * ((h + 5) % hooks));
    }
    const used = new Set(a.map((u, i) => `${Math.min(u, b[i])}-${Math.max(u, b[i])}`));
    const residual = new Residual(new Float32Array(SIZE * SIZE).fill(0.5), undefined, SIZE, SIZE,
      Float64Array.from(nails, (p) => p[0]), Float64Array.from(nails, (p) => p[1]), 0.3, 3.5);
    for (let i = 0; i < a.length; i++) residual.apply(a[i], b[i], 1);
    const key = (u: number, v: number) => `${Math.min(u, v)}-${Math.max(u, v)}`;
    const path = threadTrail({
      a: Int32Array.from(a), b: Int32Array.from(b), nails: nails.length, pairs: true, residual, allowed, rand: seededRandom(3),
      used: (u, v) => used.has(key(u, v)), mark: (u, v, on) => (on ? used.add(key(u, v)) : used.delete(key(u, v))),
    });
    expect(path.length - 1).toBe(a.length);
    linesOf(path, true, hooks, 3);
  });
});

describe('planChordSet', () => {
  function input(over: Partial<GreedyInput> = {}): GreedyInput {
    const t = new Float32Array(SIZE * SIZE);
    // A dark disc left of centre on light grey: structure a path greedy can miss.
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) t[y * SIZE + x] = Math.hypot(x - 36, y - 48) < 18 ? 0.95 : 0.45;
    const hooks = nailsOn(48, true);
    return { target: t, width: SIZE, height: SIZE, hooks, threadPx: 0.35, lines: 150, minGap: defaultMinGap(48), flankPairs: true, seed: 1, ...over };
  }

  it('gives one valid thread of the lines asked for, deterministically, at no more error than the path greedy', () => {
    const set = planChordSet(input());
    expect(set.path.length - 1).toBe(150);
    linesOf(set.path, true, 48, defaultMinGap(48));
    expect(planChordSet(input()).path).toEqual(set.path);
    const greedy = planGreedy(input());
    expect(set.errorAfter).toBeLessThan(set.errorBefore);
    expect(set.errorAfter).toBeLessThanOrEqual(greedy.errorAfter * 1.01);
  });

  it('reports the picture forming', () => {
    let last = 0;
    planChordSet({ ...input({ lines: 64 }), onChords: (_a, _b, count) => (last = count) });
    expect(last).toBe(64);
  });
});
