import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { frameMask } from '../host/plan/frame';
import { traceSegment } from '../host/plan/grid';
import { layoutHooks } from '../host/plan/layout';
import {
  linesFromPath, renderCoverage, renderLinesPng, renderPathPng, renderPreviewPng, renderRgb, type Drawable,
} from '../host/plan/render';
import { rmse, scoreGrey, scorePlan, ssim } from '../host/plan/score';
import { newFootprint, traceThickLine } from '../host/plan/thick-line';
import type { Plan } from '../host/plan/types';
import { planToJson } from '../host/plan/write';

const coord = fc.double({ min: 0, max: 64, noNaN: true });

function spec(over: Partial<Drawable> = {}): Drawable {
  const board = { widthMm: 100, heightMm: 100, frame: 'circle' as const };
  return { board, nails: layoutHooks(board, 40).nails, threadWidthMm: 0.2, background: '#ffffff', colors: ['#000000'], ...over };
}

function plan(lines: [number, number, number][]): Plan {
  return { format: 'hookline-plan', version: 1, ...spec(), lines, source: { file: 'x.png', crop: [0, 0, 10, 10] } };
}

describe('rasterising lines', () => {
  it('traceSegment: the lengths in the cells sum to the segment length', () => {
    const idx = new Int32Array(200);
    const len = new Float32Array(200);
    fc.assert(
      fc.property(coord, coord, coord, coord, (x0, y0, x1, y1) => {
        const n = traceSegment(x0, y0, x1, y1, 64, 64, idx, len);
        let sum = 0;
        for (let i = 0; i < n; i++) {
          expect(idx[i]).toBeGreaterThanOrEqual(0);
          expect(idx[i]).toBeLessThan(64 * 64);
          sum += len[i];
        }
        // Cells outside the grid (a coordinate exactly 64) are dropped; otherwise nothing is lost.
        if (Math.max(x0, y0, x1, y1) < 64) expect(sum).toBeCloseTo(Math.hypot(x1 - x0, y1 - y0), 3);
      }),
    );
  });

  it('traceThickLine: coverages sum to width × length (away from the edges)', () => {
    const fp = newFootprint(16);
    const inner = fc.double({ min: 4, max: 60, noNaN: true });
    fc.assert(
      fc.property(inner, inner, inner, inner, fc.double({ min: 0.2, max: 3, noNaN: true }), (x0, y0, x1, y1, w) => {
        const n = traceThickLine(x0, y0, x1, y1, w, 64, 64, fp);
        let sum = 0;
        for (let i = 0; i < n; i++) {
          expect(fp.cov[i]).toBeGreaterThan(0);
          expect(fp.cov[i]).toBeLessThanOrEqual(1 + 1e-6);
          sum += fp.cov[i];
        }
        const len = Math.hypot(x1 - x0, y1 - y0);
        // Exact along the major axis; the ends are cut square to it.
        expect(sum).toBeCloseTo(w * len, 2);
      }),
    );
  });
});

describe('render', () => {
  it('an empty plan is all background', () => {
    const r = renderCoverage(spec(), [], 64);
    expect(r.width).toBe(64);
    expect(r.height).toBe(64);
    expect(r.data.every((v) => v === 0)).toBe(true);
  });

  it('one thread darkens by its area: width × length / pixel area', () => {
    const s = spec({ nails: [[10, 50], [90, 50]] });
    const r = renderCoverage(s, [[0, 0, 1]], 100); // 1 mm pixels
    const total = r.data.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(0.2 * 80, 0);
    expect(Math.max(...r.data)).toBeLessThanOrEqual(1);
  });

  it('darkness saturates at 1 where threads pile up', () => {
    const s = spec({ nails: [[10, 50], [90, 50]], threadWidthMm: 1 });
    const lines = linesFromPath([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(lines).toHaveLength(7);
    const r = renderCoverage(s, lines, 100);
    expect(Math.max(...r.data)).toBeCloseTo(1, 2);
  });

  it('renderRgb: one colour blends background to thread colour by darkness', () => {
    const s = spec({ background: '#ffffff', colors: ['#ff0000'] });
    const lines = linesFromPath([0, 20, 5, 25]);
    const cov = renderCoverage(s, lines, 64);
    const rgb = renderRgb(s, lines, 64);
    for (let p = 0; p < 64 * 64; p++) {
      expect(rgb.data[p * 3]).toBeCloseTo(1, 5);
      expect(rgb.data[p * 3 + 1]).toBeCloseTo(1 - cov.data[p], 5);
    }
  });

  it('renderRgb: colours composite in placement order', () => {
    // 2 mm pixels, a 2 mm thread centred on pixel row 25.
    const s = spec({ nails: [[10, 51], [90, 51]], threadWidthMm: 2, colors: ['#ff0000', '#0000ff'] });
    const top = renderRgb(s, [[0, 0, 1], [1, 1, 0]], 50).data;
    const p = 25 * 50 + 25; // centre pixel, fully covered by both
    expect(top[p * 3 + 2]).toBeGreaterThan(0.9); // blue on top
    expect(top[p * 3]).toBeLessThan(0.1);
  });

  it('PNGs decode at the asked size, for plans and hook paths, rect boards keep their aspect', async () => {
    const p = plan(linesFromPath([0, 20, 3, 23]));
    const meta = await sharp(renderPreviewPng(p)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    const rect = spec({ board: { widthMm: 200, heightMm: 100, frame: 'rect' } });
    rect.nails = layoutHooks(rect.board, 30).nails;
    const m2 = await sharp(renderPathPng(rect, [0, 15, 2], { widthPx: 300 })).metadata();
    expect([m2.width, m2.height]).toEqual([300, 150]);
    const m3 = await sharp(renderLinesPng(rect, [], { widthPx: 64, frame: false })).metadata();
    expect([m3.width, m3.height]).toEqual([64, 32]);
  });
});

describe('score', () => {
  it('a perfect match scores RMSE 0 and SSIM 1; an inverted one is worse', () => {
    const w = 32;
    const data = Float32Array.from({ length: w * w }, (_, i) => ((i % w) / w + Math.floor(i / w) / w) / 2);
    const mask = new Uint8Array(w * w).fill(1);
    expect(rmse(data, data, mask)).toBe(0);
    expect(ssim(data, data, w, w, mask)).toBeCloseTo(1, 6);
    const inv = data.map((v) => 1 - v);
    const s = scoreGrey(inv, { data, width: w, height: w }, mask);
    expect(s.rmse).toBeGreaterThan(0.2);
    expect(s.ssim).toBeLessThan(0);
  });

  it('only pixels inside the frame count', () => {
    const board = { widthMm: 100, heightMm: 100, frame: 'circle' as const };
    const mask = frameMask(board, 64, 64);
    expect(mask[0]).toBe(0);
    expect(mask[32 * 64 + 32]).toBe(1);
    const inside = mask.reduce((a, b) => a + b, 0);
    expect(inside / (64 * 64)).toBeCloseTo(Math.PI / 4, 1);
    expect(frameMask({ ...board, frame: 'rect' }, 8, 8).every((v) => v === 1)).toBe(true);
    expect(frameMask({ ...board, frame: 'rect' }, 10, 10, 20).reduce((a, b) => a + b, 0)).toBe(36);
  });

  it('scorePlan: an empty plan against a white target is perfect', () => {
    const target = { data: new Float32Array(64 * 64).fill(1), width: 64, height: 64 };
    const s = scorePlan(plan([]), target);
    expect(s.rmse).toBe(0);
    expect(s.ssim).toBeCloseTo(1, 6);
  });
});

describe('plan.json text', () => {
  it('round-trips and keeps one nail / line per row', () => {
    const p = plan(linesFromPath([0, 20, 3]));
    const text = planToJson(p);
    expect(JSON.parse(text)).toEqual(p);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n').filter((l) => /^\s+\[\d+,\d+,\d+\],?$/.test(l))).toHaveLength(2);
  });
});
