import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dda3 } from '../shared/motion/dda';
import { MoveLimits } from '../shared/motion/limits';
import { Trapezoid } from '../shared/motion/trapezoid';
import { refGantry } from './helpers/rig';

describe('motion: DDA', () => {
  it('issues exactly |d| steps per axis over max(|d|) ticks, evenly', () => {
    fc.assert(
      fc.property(fc.nat(3000), fc.nat(3000), fc.nat(3000), (ax, ay, az) => {
        const d = new Dda3();
        d.begin(ax, ay, az);
        const n = Math.max(ax, ay, az);
        const counts = [0, 0, 0];
        let ticks = 0;
        let worst = 0;
        // After t ticks an axis with d steps has taken within one step of t·d/n.
        while (d.next()) {
          ticks++;
          counts[0] += d.sx;
          counts[1] += d.sy;
          counts[2] += d.sz;
          worst = Math.max(worst, Math.abs(counts[0] - (ticks * ax) / n), Math.abs(counts[1] - (ticks * ay) / n), Math.abs(counts[2] - (ticks * az) / n));
        }
        expect(worst).toBeLessThanOrEqual(1);
        expect(ticks).toBe(n);
        expect(counts).toEqual([ax, ay, az]);
        expect(d.next()).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('motion: trapezoid', () => {
  it('reaches n at totalTime, never faster than the rate, never accelerating harder than allowed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 50, max: 20000, noNaN: true }),
        fc.double({ min: 500, max: 200000, noNaN: true }),
        (n, rate, accel) => {
          const t = new Trapezoid();
          t.plan(n, rate, accel);
          expect(t.timeAt(0)).toBe(0);
          expect(t.timeAt(n)).toBeCloseTo(t.totalTime, 9);
          let prev = 0;
          let prevV = 0;
          let bad = '';
          for (let k = 1; k <= n && !bad; k++) {
            const tk = t.timeAt(k);
            const dt = tk - prev;
            const v = 1 / dt;
            if (!(dt > 0)) bad = `step ${k} not after step ${k - 1}`;
            // Mean speed over one step ≤ the cruise rate.
            else if (v > rate * (1 + 1e-9)) bad = `step ${k} at ${v} steps/s`;
            // Mean speeds of consecutive steps differ by at most accel × the time between them.
            else if (k > 1 && Math.abs(v - prevV) > accel * (tk - t.timeAt(k - 2)) * 1.01 + 1e-6) bad = `step ${k} accelerates too hard`;
            prev = tk;
            prevV = v;
          }
          expect(bad).toBe('');
          // A trapezoid is the fastest such profile: no slower than needed.
          const ideal = n / rate + rate / accel;
          expect(t.totalTime).toBeLessThanOrEqual(Math.max(ideal, 2 * Math.sqrt(n / accel)) * (1 + 1e-9));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('motion: limits', () => {
  const m = refGantry();
  it('keeps every axis within its own speed and acceleration', () => {
    fc.assert(
      fc.property(fc.integer({ min: -14000, max: 14000 }), fc.integer({ min: -14000, max: 14000 }), fc.integer({ min: -12000, max: 12000 }), (dx, dy, dz) => {
        const l = new MoveLimits();
        const moving = l.compute(m, dx, dy, dz);
        expect(moving).toBe(dx !== 0 || dy !== 0 || dz !== 0);
        if (!moving) return;
        const d = [dx, dy, dz].map(Math.abs);
        const axes = [m.axes.x, m.axes.y, m.axes.z];
        for (let i = 0; i < 3; i++) {
          // axis rate = dominant rate × d_i / n, in mm/s
          const vi = (l.rate * d[i]) / l.n / axes[i].stepsPerMm;
          const ai = (l.accel * d[i]) / l.n / axes[i].stepsPerMm;
          expect(vi).toBeLessThanOrEqual(axes[i].maxSpeedMmS * (1 + 1e-9));
          expect(ai).toBeLessThanOrEqual(axes[i].accelMmS2 * (1 + 1e-9));
        }
        // ... and at least one axis is at its limit (no needless slowness).
        const ratios = [0, 1, 2].filter((i) => d[i] > 0).map((i) => (l.rate * d[i]) / l.n / axes[i].stepsPerMm / axes[i].maxSpeedMmS);
        expect(Math.max(...ratios)).toBeGreaterThan(0.999);
      }),
    );
  });
});
