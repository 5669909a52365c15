import { describe, expect, it } from 'vitest';
import { planGreedy, type GreedyInput } from '../host/plan/greedy';
import { defaultMinGap, layoutHooks } from '../host/plan/layout';

/** A 128 px board with hooks on a circle and a target given per pixel. */
function input(target: (x: number, y: number) => number, over: Partial<GreedyInput> = {}): GreedyInput {
  const width = 128;
  const height = 128;
  const t = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) t[y * width + x] = target(x + 0.5, y + 0.5);
  const hooks = layoutHooks({ widthMm: width, heightMm: height, frame: 'circle' }, 64).nails;
  return { target: t, width, height, hooks, threadPx: 0.3, lines: 200, minGap: defaultMinGap(64), seed: 1, ...over };
}

function checkPath(path: number[], n: number, minGap: number) {
  const seen = new Set<string>();
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1];
    const b = path[i];
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(n);
    expect(a).not.toBe(b);
    const ring = Math.abs(a - b);
    expect(Math.min(ring, n - ring)).toBeGreaterThanOrEqual(minGap);
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    expect(seen.has(key)).toBe(false); // no chord strung twice
    seen.add(key);
  }
}

describe('greedy planner', () => {
  const grey = () => 0.5;

  it('is deterministic for a seed', () => {
    const a = planGreedy(input(grey, { seed: 7 }));
    const b = planGreedy(input(grey, { seed: 7 }));
    expect(a.path).toEqual(b.path);
    const c = planGreedy(input(grey, { seed: 8 }));
    expect(c.path).not.toEqual(a.path);
  });

  it('keeps the path valid: hooks in range, far enough apart, no repeated chord', () => {
    for (const seed of [1, 2, 3]) {
      const inp = input((x, y) => (Math.hypot(x - 64, y - 64) < 30 ? 0.9 : 0.1), { seed, lines: 400 });
      const r = planGreedy(inp);
      expect(r.path.length).toBeGreaterThan(1);
      checkPath(r.path, inp.hooks.length, inp.minGap);
    }
  });

  it('lowers the error and stops early when lines stop helping', () => {
    const r = planGreedy(input(() => 0.25, { lines: 5000 }));
    expect(r.errorAfter).toBeLessThan(r.errorBefore);
    expect(r.stoppedEarly).toBe(true);
    expect(r.path.length - 1).toBeLessThan(5000);
  });

  it('plans no line for a white target', () => {
    const r = planGreedy(input(() => 0));
    expect(r.path).toHaveLength(1);
    expect(r.stoppedEarly).toBe(true);
  });

  it('puts thread where the target is dark', () => {
    // Dark left half, white right half: chords should mostly lie on the left.
    const inp = input((x) => (x < 64 ? 0.8 : 0), { lines: 150 });
    const r = planGreedy(inp);
    let left = 0;
    for (let i = 1; i < r.path.length; i++) {
      const mid = (inp.hooks[r.path[i - 1]][0] + inp.hooks[r.path[i]][0]) / 2;
      if (mid < 64) left++;
    }
    expect(left / (r.path.length - 1)).toBeGreaterThan(0.8);
  });

  it('skips chords along one side of a rect frame', () => {
    const width = 96;
    const layout = layoutHooks({ widthMm: width, heightMm: width, frame: 'rect' }, 48);
    const r = planGreedy({
      target: new Float32Array(width * width).fill(0.7), width, height: width,
      hooks: layout.nails, sides: layout.sides, threadPx: 0.3, lines: 300, minGap: 2, seed: 3,
    });
    for (let i = 1; i < r.path.length; i++) expect(layout.sides[r.path[i - 1]]).not.toBe(layout.sides[r.path[i]]);
  });

  it('hook-replacement passes keep the path valid, the line count and never raise the error', () => {
    const inp = input((x, y) => 0.2 + 0.6 * Math.exp(-((x - 50) ** 2 + (y - 70) ** 2) / 600), { lines: 300, seed: 4 });
    const plain = planGreedy({ ...inp, passes: 0 });
    const passed = planGreedy({ ...inp, passes: 2 });
    expect(passed.path.length).toBe(plain.path.length);
    checkPath(passed.path, inp.hooks.length, inp.minGap);
    expect(passed.errorGreedy).toBeCloseTo(plain.errorAfter, 6);
    expect(passed.errorAfter).toBeLessThanOrEqual(passed.errorGreedy + 1e-6);
  });

  it('the two-level shortlist plans nearly as well as scoring every candidate exactly', () => {
    const inp = input((x, y) => (Math.hypot(x - 64, y - 64) < 40 ? 0.7 : 0.2), { lines: 300 });
    const exact = planGreedy({ ...inp, shortlist: 0 });
    const fast = planGreedy({ ...inp, shortlist: 8 });
    checkPath(fast.path, inp.hooks.length, inp.minGap);
    expect(fast.errorAfter).toBeLessThan(exact.errorAfter * 1.03);
  });

  it('lines: auto plans until another line no longer helps', () => {
    const r = planGreedy(input(() => 0.3, { lines: 'auto' }));
    expect(r.stoppedEarly).toBe(false);
    expect(r.path.length).toBeGreaterThan(50);
    expect(r.errorAfter).toBeLessThan(r.errorBefore);
  });

  it('importance weights pull thread toward heavily weighted pixels', () => {
    const width = 128;
    const weight = new Float32Array(width * width);
    for (let y = 0; y < width; y++) for (let x = 0; x < width; x++) weight[y * width + x] = y < 64 ? 3 : 0.1;
    const inp = input(() => 0.5, { lines: 150 });
    const r = planGreedy({ ...inp, weight });
    let top = 0;
    for (let i = 1; i < r.path.length; i++) if (inp.hooks[r.path[i - 1]][1] + inp.hooks[r.path[i]][1] < 128) top++;
    expect(top / (r.path.length - 1)).toBeGreaterThan(0.7);
  });
});
