import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tangentPoints, wrapDirection } from '../shared/geometry/wrap';
import { JobPath, PT_STRIDE } from '../shared/motion/job';
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

/** Points (board mm; z above the board) of JobPath pieces, from the centre through `hooks`. */
function jobPoints(hooks: number[]): { pts: number[][]; pieces: number[][][] } {
  const jp = new JobPath(m);
  const toMm = (i: number) => [
    jp.pts[i * PT_STRIDE] / m.axes.x.stepsPerMm - m.board.originMm[0],
    jp.pts[i * PT_STRIDE + 1] / m.axes.y.stepsPerMm - m.board.originMm[1],
    jp.pts[i * PT_STRIDE + 2] / m.axes.z.stepsPerMm,
  ];
  const pieces: number[][][] = [];
  let n = jp.start(m.hooks.centerMm[0], m.hooks.centerMm[1], m.wrap.travelHeightMm, m.wrap.wrapHeightMm);
  pieces.push(Array.from({ length: n }, (_, i) => toMm(i)));
  for (let i = 0; i < hooks.length; i++) {
    const prev = i > 0 ? hooks[i - 1] : -1;
    const next = i + 1 < hooks.length ? hooks[i + 1] : -1;
    const next2 = i + 2 < hooks.length ? hooks[i + 2] : -1;
    const d = wrapDirection(m, prev, hooks[i], next);
    const nd = next >= 0 ? wrapDirection(m, hooks[i], next, next2) : 0;
    n = jp.hook(hooks[i], d, next, nd, m.wrap.wrapHeightMm);
    pieces.push(Array.from({ length: n }, (_, k) => toMm(k)));
  }
  n = jp.finish(m.wrap.wrapHeightMm, m.wrap.travelHeightMm);
  pieces.push(Array.from({ length: n }, (_, i) => toMm(i)));
  return { pts: pieces.flat(), pieces };
}

const path3 = fc.tuple(hook, hook, hook, hook).filter(([a, b, c, d]) => a !== b && b !== c && c !== d);

describe('geometry: the job path (tangent lines and arcs)', () => {
  it('tangentPoints: the line leaves and touches both circles tangentially, turning each the asked way', () => {
    const r = m.wrap.radiusMm;
    fc.assert(
      fc.property(hook, hook, dir, dir, (a, b, s1, s2) => {
        fc.pre(a !== b);
        const t = [0, 0, 0, 0];
        const [ax, ay, bx, by] = [hookXMm(m, a), hookYMm(m, a), hookXMm(m, b), hookYMm(m, b)];
        tangentPoints(ax, ay, r, s1, bx, by, r, s2, t);
        const lx = t[2] - t[0];
        const ly = t[3] - t[1];
        // On the circles, perpendicular to the radii, and in the turning direction at both ends.
        expect(Math.hypot(t[0] - ax, t[1] - ay)).toBeCloseTo(r, 9);
        expect(Math.hypot(t[2] - bx, t[3] - by)).toBeCloseTo(r, 9);
        expect(((t[0] - ax) * lx + (t[1] - ay) * ly) / Math.hypot(lx, ly)).toBeCloseTo(0, 6);
        expect(((t[2] - bx) * lx + (t[3] - by) * ly) / Math.hypot(lx, ly)).toBeCloseTo(0, 6);
        expect(Math.sign((t[0] - ax) * ly - (t[1] - ay) * lx)).toBe(s1);
        expect(Math.sign((t[2] - bx) * ly - (t[3] - by) * lx)).toBe(s2);
      }),
    );
  });

  it('winds each hook at least once and less than twice, the way the thread turns, while below the heads', () => {
    fc.assert(
      fc.property(path3, (hooks) => {
        const { pieces } = jobPoints(hooks);
        for (let i = 0; i < hooks.length; i++) {
          // The hook's piece starts where the previous one ended.
          const prevEnd = pieces[i][pieces[i].length - 1];
          const piece = [prevEnd, ...pieces[i + 1]];
          const low = piece.filter((p) => p[2] < m.hooks.headHeightMm);
          const w = winding(low, hookXMm(m, hooks[i]), hookYMm(m, hooks[i]));
          const d = wrapDirection(m, i > 0 ? hooks[i - 1] : -1, hooks[i], i + 1 < hooks.length ? hooks[i + 1] : -1);
          expect(w * d).toBeGreaterThanOrEqual(1 - 1e-3);
          expect(w * d).toBeLessThan(2.5);
        }
      }),
    );
  });

  it('stays within the travel and keeps the nozzle clear of every hook while low', () => {
    const clear = (m.hooks.hookDiameterMm + m.wrap.nozzleDiameterMm) / 2;
    fc.assert(
      fc.property(path3, (hooks) => {
        const { pts } = jobPoints(hooks);
        for (const [x, y, z] of pts) {
          expect(x + m.board.originMm[0]).toBeGreaterThanOrEqual(m.axes.x.travelMinMm);
          expect(x + m.board.originMm[0]).toBeLessThanOrEqual(m.axes.x.travelMaxMm);
          expect(y + m.board.originMm[1]).toBeGreaterThanOrEqual(m.axes.y.travelMinMm);
          expect(y + m.board.originMm[1]).toBeLessThanOrEqual(m.axes.y.travelMaxMm);
          expect(z).toBeGreaterThanOrEqual(m.axes.z.travelMinMm);
          expect(z).toBeLessThanOrEqual(m.axes.z.travelMaxMm);
        }
        for (let i = 1; i < pts.length; i++) {
          if (pts[i - 1][2] >= m.hooks.headHeightMm || pts[i][2] >= m.hooks.headHeightMm) continue;
          for (let j = 0; j < m.hooks.count; j++) {
            expect(distToSegment(hookXMm(m, j), hookYMm(m, j), pts[i - 1], pts[i])).toBeGreaterThan(clear);
          }
        }
      }),
      { numRuns: 60 },
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
