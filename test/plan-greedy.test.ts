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
});
