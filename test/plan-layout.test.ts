import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hookInsetMm } from '../host/plan/frame';
import { defaultMarginMm, defaultMinGap, layoutHooks, type Board } from '../host/plan/layout';

const boardArb = fc.record({
  widthMm: fc.double({ min: 50, max: 5000, noNaN: true }),
  heightMm: fc.double({ min: 50, max: 5000, noNaN: true }),
  frame: fc.constantFrom<Board['frame']>('circle', 'rect'),
});

describe('hook layout', () => {
  it('places `count` distinct hooks inside the board, inset by the margin', () => {
    fc.assert(
      fc.property(boardArb, fc.integer({ min: 3, max: 2000 }), (board, count) => {
        const { nails, sides } = layoutHooks(board, count);
        const m = defaultMarginMm(board);
        expect(nails).toHaveLength(count);
        expect(sides).toHaveLength(count);
        const eps = 1e-6;
        for (const [x, y] of nails) {
          expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
          expect(x).toBeGreaterThanOrEqual(m - eps);
          expect(y).toBeGreaterThanOrEqual(m - eps);
          expect(x).toBeLessThanOrEqual(board.widthMm - m + eps);
          expect(y).toBeLessThanOrEqual(board.heightMm - m + eps);
        }
        const keys = new Set(nails.map(([x, y]) => `${x.toFixed(6)},${y.toFixed(6)}`));
        expect(keys.size).toBe(count);
        expect(hookInsetMm(board, nails)).toBeCloseTo(m, 6);
      }),
      { numRuns: 100 },
    );
  });

  it('circle: every hook on one circle about the centre, evenly spaced, hook 0 at the top, clockwise', () => {
    fc.assert(
      fc.property(fc.double({ min: 50, max: 5000, noNaN: true }), fc.integer({ min: 3, max: 2000 }), (d, count) => {
        const board: Board = { widthMm: d, heightMm: d, frame: 'circle' };
        const { nails } = layoutHooks(board, count);
        const r = d / 2 - defaultMarginMm(board);
        for (const [x, y] of nails) expect(Math.hypot(x - d / 2, y - d / 2)).toBeCloseTo(r, 6);
        const chord = 2 * r * Math.sin(Math.PI / count);
        for (let i = 0; i < count; i++) {
          const [ax, ay] = nails[i];
          const [bx, by] = nails[(i + 1) % count];
          expect(Math.hypot(bx - ax, by - ay)).toBeCloseTo(chord, 6);
        }
        expect(nails[0][0]).toBeCloseTo(d / 2, 6);
        expect(nails[0][1]).toBeLessThan(d / 2);
        if (count >= 4) expect(nails[1][0]).toBeGreaterThan(nails[0][0]); // clockwise on screen (y down)
      }),
    );
  });

  it('rect: hooks on the inset perimeter, equal spacing along it, sides in clockwise order', () => {
    fc.assert(
      fc.property(boardArb.map((b) => ({ ...b, frame: 'rect' as const })), fc.integer({ min: 4, max: 2000 }), (board, count) => {
        const { nails, sides } = layoutHooks(board, count);
        const m = defaultMarginMm(board);
        nails.forEach(([x, y], i) => {
          const onEdge = [Math.abs(y - m), Math.abs(x - (board.widthMm - m)), Math.abs(y - (board.heightMm - m)), Math.abs(x - m)];
          expect(onEdge[sides[i]]).toBeLessThan(1e-6);
          if (i > 0) expect(sides[i]).toBeGreaterThanOrEqual(sides[i - 1]);
        });
      }),
    );
  });

  it('min gap: ~5 % of the ring, at least 1, leaves other hooks to go to', () => {
    expect(defaultMinGap(160)).toBe(8);
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 2000 }), (n) => {
        const g = defaultMinGap(n);
        expect(g).toBeGreaterThanOrEqual(1);
        expect(g).toBeLessThanOrEqual(Math.floor((n - 1) / 2));
      }),
    );
  });
});
