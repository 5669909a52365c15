// The planner's incremental recalculation (shared/motion/planner.ts: both passes start at the first
// block whose reverse-pass speed changed) gives exactly the speeds of the full reverse and forward
// passes over the whole queue, after any sequence of moves, dwells and blocks taken for execution.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Planner, PLANNER_BLOCKS } from '../shared/motion/planner';
import { refGantry } from './helpers/rig';

/** The full passes, as the planner did them before: entry speeds of every queued block. */
function fullPasses(p: Planner, pinnedHeadEntry: number | null): number[] {
  const n = p.count;
  const v: number[] = [];
  for (let i = 0; i < n; i++) v.push(0);
  let next = 0;
  const first = pinnedHeadEntry !== null ? 1 : 0;
  if (pinnedHeadEntry !== null && n > 0) v[0] = pinnedHeadEntry;
  for (let i = n - 1; i >= first; i--) {
    const k = (p.head + i) % PLANNER_BLOCKS;
    let s = Math.sqrt(next * next + 2 * p.acc[k] * p.len[k]);
    if (s > p.vMax[k]) s = p.vMax[k];
    v[i] = s;
    next = s;
  }
  for (let i = 0; i + 1 < n; i++) {
    const k = (p.head + i) % PLANNER_BLOCKS;
    const s = Math.sqrt(v[i] * v[i] + 2 * p.acc[k] * p.len[k]);
    if (s < v[i + 1]) v[i + 1] = s;
  }
  return v;
}

const op = fc.oneof(
  // Long moves (cruise-limited) and short ones (acceleration-limited chains, as in a wrap's arc).
  fc.record({ kind: fc.constant('move' as const), dx: fc.integer({ min: -400, max: 400 }), dy: fc.integer({ min: -400, max: 400 }), dz: fc.integer({ min: -40, max: 40 }), vCap: fc.constantFrom(0, 5, 40), tag: fc.constantFrom(-1, 7) }),
  fc.record({ kind: fc.constant('move' as const), dx: fc.integer({ min: -8, max: 8 }), dy: fc.integer({ min: -8, max: 8 }), dz: fc.integer({ min: -2, max: 2 }), vCap: fc.constantFrom(0, 0, 40), tag: fc.constantFrom(-1, 7) }),
  fc.record({ kind: fc.constant('dwell' as const) }),
  fc.record({ kind: fc.constant('take' as const) }),
);

describe('planner: incremental passes', () => {
  it('match the full reverse and forward passes exactly, after every operation', () => {
    const m = refGantry();
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const p = new Planner(m);
        p.reset(7000, 7000, 4000);
        let x = 7000;
        let y = 7000;
        let z = 4000;
        let pinned: number | null = null;
        for (const o of ops) {
          if (o.kind === 'take') {
            if (p.count === 0) continue;
            const exit = p.headExit();
            p.pop();
            pinned = p.count > 0 ? exit : null;
          } else if (p.full()) continue;
          else if (o.kind === 'dwell') p.addDwell(1000, -1, 0, -1);
          else {
            x += o.dx;
            y += o.dy;
            z = Math.max(0, z + o.dz);
            p.add(x, y, z, o.vCap, 0, o.tag);
          }
          if (p.count === 0) pinned = null;
          const want = fullPasses(p, pinned);
          const got = want.map((_, i) => p.vEntry[(p.head + i) % PLANNER_BLOCKS]);
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
