import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wrapDirection, wrapPath, wrapPointCount } from '../shared/geometry/wrap';
import { hookXMm, hookYMm } from '../shared/machine';
import { layoutHooks } from '../host/plan/layout';
import { refGantry } from './helpers/rig';

const m = refGantry();
const hook = fc.integer({ min: 0, max: m.hooks.count - 1 });
const dir = fc.constantFrom(1, -1);

/** Winding angle of a polyline around (cx, cy), densely sampled between its points. */
function winding(pts: number[][], cx: number, cy: number): number {
  let total = 0;
  let prev = Math.atan2(pts[0][1] - cy, pts[0][0] - cx);
  for (let i = 1; i < pts.length; i++) {
    for (let s = 1; s <= 20; s++) {
      const x = pts[i - 1][0] + ((pts[i][0] - pts[i - 1][0]) * s) / 20;
      const y = pts[i - 1][1] + ((pts[i][1] - pts[i - 1][1]) * s) / 20;
      const a = Math.atan2(y - cy, x - cx);
      let d = a - prev;
      if (d > Math.PI) d -= 2 * Math.PI;
      if (d <= -Math.PI) d += 2 * Math.PI;
      total += d;
      prev = a;
    }
  }
  return total / (2 * Math.PI);
}

function distToSegment(px: number, py: number, a: number[], b: number[]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / l2));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

function path(h: number, d: number): number[][] {
  const out: number[] = [];
  const n = wrapPath(m, h, d, out);
  expect(n).toBe(wrapPointCount(m));
  const pts: number[][] = [];
  for (let i = 0; i < n; i++) pts.push([out[i * 3], out[i * 3 + 1], out[i * 3 + 2]]);
  return pts;
}

describe('geometry: the wrap path', () => {
  it('winds exactly once around its hook, in the asked direction, while below the hook head', () => {
    fc.assert(
      fc.property(hook, dir, (h, d) => {
        const pts = path(h, d);
        const low = pts.filter((p) => p[2] < m.hooks.headHeightMm);
        expect(low.length).toBeGreaterThan(m.wrap.segments);
        // The low part is one contiguous run.
        const first = pts.findIndex((p) => p[2] < m.hooks.headHeightMm);
        expect(pts.slice(first, first + low.length).every((p) => p[2] < m.hooks.headHeightMm)).toBe(true);
        expect(winding(low, hookXMm(m, h), hookYMm(m, h))).toBeCloseTo(d, 9);
      }),
    );
  });

  it('stays within the travel, starts and ends inside the circle at travel height', () => {
    fc.assert(
      fc.property(hook, dir, (h, d) => {
        const pts = path(h, d);
        for (const [x, y, z] of pts) {
          const mx = x + m.board.originMm[0];
          const my = y + m.board.originMm[1];
          expect(mx).toBeGreaterThanOrEqual(m.axes.x.travelMinMm);
          expect(mx).toBeLessThanOrEqual(m.axes.x.travelMaxMm);
          expect(my).toBeGreaterThanOrEqual(m.axes.y.travelMinMm);
          expect(my).toBeLessThanOrEqual(m.axes.y.travelMaxMm);
          expect(z).toBeGreaterThanOrEqual(m.axes.z.travelMinMm);
          expect(z).toBeLessThanOrEqual(m.axes.z.travelMaxMm);
        }
        const r = m.hooks.diameterMm / 2;
        for (const p of [pts[0], pts[pts.length - 1]]) {
          expect(p[2]).toBe(m.wrap.travelHeightMm);
          expect(Math.hypot(p[0] - m.hooks.centerMm[0], p[1] - m.hooks.centerMm[1])).toBeLessThan(r);
        }
        // The drop happens outside the circle.
        const drop = pts.find((p) => p[2] === m.wrap.wrapHeightMm)!;
        expect(Math.hypot(drop[0] - m.hooks.centerMm[0], drop[1] - m.hooks.centerMm[1])).toBeGreaterThan(r);
      }),
    );
  });

  it('keeps the nozzle clear of every hook while low (its own and the neighbours)', () => {
    const clear = (m.hooks.hookDiameterMm + m.wrap.nozzleDiameterMm) / 2;
    fc.assert(
      fc.property(hook, dir, (h, d) => {
        const pts = path(h, d);
        for (let i = 1; i < pts.length; i++) {
          if (pts[i - 1][2] >= m.hooks.headHeightMm || pts[i][2] >= m.hooks.headHeightMm) continue;
          for (let k = h - 2; k <= h + 2; k++) {
            const j = (k + m.hooks.count) % m.hooks.count;
            expect(distToSegment(hookXMm(m, j), hookYMm(m, j), pts[i - 1], pts[i])).toBeGreaterThan(clear);
          }
        }
      }),
    );
  });

  it('winds the way the thread turns; reversing the path reverses every direction', () => {
    fc.assert(
      fc.property(hook, hook, hook, (a, h, b) => {
        fc.pre(a !== h && b !== h && a !== b);
        const d = wrapDirection(m, a, h, b);
        expect(Math.abs(d)).toBe(1);
        expect(wrapDirection(m, b, h, a)).toBe(-d);
        // Turning: sign of the cross product of the incoming and outgoing directions.
        const cross = (hookXMm(m, h) - hookXMm(m, a)) * (hookYMm(m, b) - hookYMm(m, h)) - (hookYMm(m, h) - hookYMm(m, a)) * (hookXMm(m, b) - hookXMm(m, h));
        expect(d).toBe(cross > 0 ? 1 : -1);
      }),
    );
  });
});

describe('geometry: hook layout', () => {
  it('the profile\'s hooks are exactly the planner\'s hooks (plan.json nails)', () => {
    const nails = layoutHooks({ widthMm: m.board.widthMm, heightMm: m.board.heightMm, frame: 'circle' }, m.hooks.count).nails;
    for (let i = 0; i < m.hooks.count; i++) {
      expect(hookXMm(m, i)).toBeCloseTo(nails[i][0], 9);
      expect(hookYMm(m, i)).toBeCloseTo(nails[i][1], 9);
    }
  });
});
