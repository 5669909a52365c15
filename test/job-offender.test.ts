// shared/motion/job.ts segmentOffender: testing only the hooks within the segment's angular span
// finds exactly what testing every hook finds (the wrap path is the same, at a fraction of the cost).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { segmentOffender } from '../shared/motion/job';
import { refGantry } from './helpers/rig';

const m = refGantry();
const R = m.hooks.diameterMm / 2;
const [cx, cy] = m.hooks.centerMm;
/** A point near the ring (where wrap paths run: entries and exits within a few mm of the hooks), or anywhere inside. */
const point = fc.oneof(
  fc.tuple(fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), fc.double({ min: R - 8, max: R + 5, noNaN: true })),
  fc.tuple(fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), fc.double({ min: 0, max: R + 5, noNaN: true })),
).map(([a, r]) => [cx + r * Math.cos(a), cy + r * Math.sin(a)]);
/** A point within a few mm of hook h (a tangent point of its wrap circle). */
const nearHook = fc.tuple(fc.integer({ min: 0, max: m.hooks.count - 1 }), fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), fc.double({ min: 0, max: 4, noNaN: true }))
  .map(([h, a, r]) => {
    const ang = (m.hooks.startAngleDeg * Math.PI) / 180 + (2 * Math.PI * h) / m.hooks.count;
    return [cx + R * Math.cos(ang) + r * Math.cos(a), cy + R * Math.sin(ang) + r * Math.sin(a)];
  });

describe('segmentOffender', () => {
  it('the angular window finds exactly the hook the full scan finds', () => {
    fc.assert(
      fc.property(fc.oneof(point, nearHook), fc.oneof(point, nearHook), fc.integer({ min: -1, max: m.hooks.count - 1 }), fc.integer({ min: -1, max: m.hooks.count - 1 }),
        ([x0, y0], [x1, y1], target, prev) => {
          expect(segmentOffender(m, x0, y0, x1, y1, target, prev, false)).toBe(segmentOffender(m, x0, y0, x1, y1, target, prev, true));
        }),
      { numRuns: 20000 },
    );
  });
  it('finds offenders at all (the property above is not vacuous)', () => {
    let found = 0;
    for (let h = 0; h < m.hooks.count; h++) {
      const a = (m.hooks.startAngleDeg * Math.PI) / 180 + (2 * Math.PI * h) / m.hooks.count;
      // A chord from just inside hook h−3 to just inside hook h+3 grazes hooks h−2..h+2.
      const p = (k: number, r: number) => [cx + r * Math.cos(a + (2 * Math.PI * k) / m.hooks.count), cy + r * Math.sin(a + (2 * Math.PI * k) / m.hooks.count)];
      const [x0, y0] = p(-3, R - 0.5);
      const [x1, y1] = p(3, R - 0.5);
      const got = segmentOffender(m, x0, y0, x1, y1, -1, -1, false);
      if (got >= 0) found++;
      expect(got).toBe(segmentOffender(m, x0, y0, x1, y1, -1, -1, true));
    }
    expect(found).toBe(m.hooks.count);
  });
});
