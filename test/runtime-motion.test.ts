import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Profile } from '../shared/motion/profile';
import { PLANNER_BLOCKS, Planner } from '../shared/motion/planner';
import { refGantry } from './helpers/rig';

const m = refGantry();

describe('motion: block profile', () => {
  it('starts at v0, ends at v1, never exceeds the cruise speed or the acceleration; timeAt is exact and monotone', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 500, noNaN: true }),
        fc.double({ min: 1, max: 300, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 50, max: 5000, noNaN: true }),
        (len, cruise, f0, f1, a) => {
          // Entry and exit speeds the planner could give: reachable from each other over len.
          const v0 = cruise * f0;
          const v1 = Math.min(cruise * f1, Math.sqrt(v0 * v0 + 2 * a * len));
          const v0ok = Math.min(v0, Math.sqrt(v1 * v1 + 2 * a * len));
          const p = new Profile();
          p.plan(len, v0ok, cruise, v1, a);
          expect(p.peak).toBeLessThanOrEqual(cruise * (1 + 1e-9) + 1e-9);
          expect(p.timeAt(len)).toBeCloseTo(p.totalTime, 7);
          let prevT = 0;
          let prevPrevT = 0;
          let prevV = v0ok;
          const n = 200;
          for (let i = 1; i <= n; i++) {
            const s = (len * i) / n;
            const t = p.timeAt(s);
            expect(t).toBeGreaterThanOrEqual(prevT);
            const v = (len / n) / (t - prevT);
            // Mean speed over a slice never above the peak; speed changes within a·dt (+ rounding).
            expect(v).toBeLessThanOrEqual(p.peak * (1 + 1e-6) + 1e-6);
            // Mean speeds of neighbouring slices differ by at most a × the distance of their midpoints.
            if (i > 1) expect(Math.abs(v - prevV)).toBeLessThanOrEqual((a * (t - prevPrevT)) / 2 * (1 + 1e-6) + 1e-6);
            prevPrevT = prevT;
            prevT = t;
            prevV = v;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('motion: look-ahead planner', () => {
  const point = fc.tuple(fc.integer({ min: 100, max: 13000 }), fc.integer({ min: 100, max: 13000 }), fc.integer({ min: 0, max: 8000 }));

  it('plans entry speeds that respect the junctions, reach each other within each block, and stop at the end of the queue', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: PLANNER_BLOCKS }), fc.boolean(), (pts, lookAhead) => {
        const pl = new Planner(m);
        pl.lookAhead = lookAhead;
        pl.reset(5000, 5000, 4000);
        for (const [x, y, z] of pts) pl.add(x, y, z, 0, 0, -1);
        const n = pl.count;
        for (let i = 0; i < n; i++) {
          const k = (pl.head + i) % PLANNER_BLOCKS;
          const e = pl.vEntry[k];
          const exit = i + 1 < n ? pl.vEntry[(k + 1) % PLANNER_BLOCKS] : 0;
          expect(e).toBeLessThanOrEqual(pl.vMax[k] + 1e-9);
          if (!lookAhead) expect(e).toBe(0);
          expect(e).toBeLessThanOrEqual(pl.vNom[k] + 1e-9);
          // Reachable: |exit² − entry²| ≤ 2·a·len.
          expect(Math.abs(exit * exit - e * e)).toBeLessThanOrEqual(2 * pl.acc[k] * pl.len[k] * (1 + 1e-9) + 1e-9);
        }
        expect(pl.vEntry[pl.head]).toBe(0); // from rest
      }),
      { numRuns: 300 },
    );
  });

  it('caps junction speeds so that no axis changes speed by more than its jerk', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 2, maxLength: PLANNER_BLOCKS }), (pts) => {
        const pl = new Planner(m);
        pl.reset(5000, 5000, 4000);
        for (const [x, y, z] of pts) pl.add(x, y, z, 0, 0, -1);
        const spm = [m.axes.x.stepsPerMm, m.axes.y.stepsPerMm, m.axes.z.stepsPerMm];
        const jerk = [m.axes.x.jerkMmS, m.axes.y.jerkMmS, m.axes.z.jerkMmS];
        for (let i = 1; i < pl.count; i++) {
          const k0 = (pl.head + i - 1) % PLANNER_BLOCKS;
          const k = (pl.head + i) % PLANNER_BLOCKS;
          const d0 = [pl.dx[k0], pl.dy[k0], pl.dz[k0]];
          const d1 = [pl.dx[k], pl.dy[k], pl.dz[k]];
          for (let a = 0; a < 3; a++) {
            const u0 = d0[a] / spm[a] / pl.len[k0];
            const u1 = d1[a] / spm[a] / pl.len[k];
            expect(Math.abs(u1 - u0) * pl.vEntry[k]).toBeLessThanOrEqual(jerk[a] * (1 + 1e-9));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the executing block\'s exit speed: the next block\'s entry is pinned once the head is taken', () => {
    const pl = new Planner(m);
    pl.reset(0, 0, 0);
    pl.add(2000, 0, 0, 0, 0, -1);
    pl.add(4000, 100, 0, 0, 0, -1);
    const exit = pl.headExit();
    pl.pop();
    for (let i = 1; i < 10; i++) pl.add(4000 + 2000 * i, 100 + 50 * i, 0, 0, 0, -1);
    expect(pl.vEntry[pl.head]).toBe(exit);
  });
});
