import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../host/errors';
import { centreCrop, loadGrey, probeImage } from '../host/plan/image';
import { makeMonoPlan, threadLengthMm, type MonoOptions } from '../host/plan/make';
import { loadMetricTarget, scorePlan } from '../host/plan/score';
import { frameMask } from '../host/plan/frame';
import { renderCoverage } from '../host/plan/render';
import { planPath } from '../host/plan/types';
import { planToJson } from '../host/plan/write';
import { checkPlan } from './plan-helpers';

const base: MonoOptions = { image: 'examples/coffee.png', hooks: 160, lines: 300, boardMm: 600, threadMm: 0.12, frame: 'circle', seed: 1 };

describe('makeMonoPlan', () => {
  it('plans the example: valid, deterministic, better than an empty board', async () => {
    const { plan } = await makeMonoPlan(base);
    checkPlan(plan);
    expect(plan.nails).toHaveLength(320);
    expect(plan.lines).toHaveLength(300);
    expect(plan.board).toEqual({ widthMm: 600, heightMm: 600, frame: 'circle' });
    expect(plan.source).toEqual({ file: 'examples/coffee.png', crop: [0, 0, 512, 512] });
    expect(planPath(plan)).toHaveLength(301);
    expect(threadLengthMm(plan)).toBeGreaterThan(300 * 100);

    const again = await makeMonoPlan(base);
    expect(planToJson(again.plan)).toBe(planToJson(plan));
    const other = await makeMonoPlan({ ...base, seed: 2 });
    expect(other.plan.lines).not.toEqual(plan.lines);

    const target = await loadMetricTarget(plan);
    const empty = scorePlan({ ...plan, lines: [] }, target);
    const got = scorePlan(plan, target);
    expect(got.rmse).toBeLessThan(empty.rmse);
  });

  it('works for 3, 7, 500 and 1999 hooks', async () => {
    for (const [hooks, lines] of [[3, 10], [7, 15], [500, 40], [1999, 12]] as const) {
      // 3 hooks on their centres: exactly three chords exist.
      const flanks = hooks === 3 ? 1 : 2;
      // 1999 hooks on 600 mm are 0.94 mm apart: 0.5 mm pins (2 mm hooks would overlap).
      const { plan, stoppedEarly } = await makeMonoPlan({ ...base, hooks, lines, flanks, ...(hooks === 1999 ? { hookMm: 0.5 } : {}) });
      checkPlan(plan);
      expect(plan.nails).toHaveLength(hooks * flanks);
      expect(plan.lines.length).toBeGreaterThan(0);
      if (hooks === 3) {
        expect(plan.lines.length).toBe(3); // every chord of a triangle, then no line is left
        expect(stoppedEarly).toBe(true);
      } else {
        expect(plan.lines).toHaveLength(lines);
      }
    }
  }); // the suite-wide limit (vitest.config.ts: a hang, not speed)

  it('--importance moves thread where the mask is white', async () => {
    const mask = join(tmpdir(), `hookline-mask-${process.pid}.png`);
    const raw = Buffer.alloc(64 * 64, 0);
    for (let y = 0; y < 64; y++) raw.fill(255, y * 64, y * 64 + 32); // left half white
    await sharp(raw, { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(mask);
    try {
      const left = (plan: Awaited<ReturnType<typeof makeMonoPlan>>['plan']) =>
        plan.lines.filter(([, a, b]) => plan.nails[a][0] + plan.nails[b][0] < 600).length;
      const plain = await makeMonoPlan({ ...base, lines: 200 });
      const weighted = await makeMonoPlan({ ...base, lines: 200, importance: mask });
      expect(left(weighted.plan)).toBeGreaterThan(left(plain.plan) + 20);
      expect(weighted.plan.planner).toMatchObject({ importance: mask });
    } finally {
      rmSync(mask, { force: true });
    }
  });

  it('--contrast and --gamma change the target: a lighter target takes less thread', async () => {
    const plain = await makeMonoPlan({ ...base, lines: 'auto' });
    const lighter = await makeMonoPlan({ ...base, lines: 'auto', gamma: 0.5 });
    expect(lighter.plan.lines.length).toBeLessThan(plain.plan.lines.length);
    expect(lighter.plan.planner).toMatchObject({ gamma: 0.5 });
    const flat = await makeMonoPlan({ ...base, lines: 'auto', contrast: 0 }); // all mid-grey
    expect(flat.plan.planner).toMatchObject({ contrast: 0 });
    expect(flat.plan.lines.length).toBeGreaterThan(0);
  }); // the suite-wide limit (vitest.config.ts: a hang, not speed)

  it('the preview raster models the metric render closely', async () => {
    const { plan, darkness } = await makeMonoPlan({ ...base, lines: 1000 });
    const cov = renderCoverage(plan, plan.lines, darkness.width);
    const mask = frameMask(plan.board, darkness.width, darkness.height);
    let sum = 0;
    let bias = 0;
    let n = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const d = cov.data[i] - darkness.data[i];
      sum += d * d;
      bias += d;
      n++;
    }
    expect(Math.sqrt(sum / n)).toBeLessThan(0.05);
    expect(Math.abs(bias / n)).toBeLessThan(0.01);
  });

  it('rect frames and odd sizes give valid plans too', async () => {
    const { plan } = await makeMonoPlan({ ...base, frame: 'rect', hooks: 7, lines: 50, boardMm: 50, threadMm: 0.5 });
    checkPlan(plan);
    expect(plan.nails).toHaveLength(14);
    expect(plan.lines.length).toBeGreaterThan(0);
  });

  it('flanks: each hook has two nails on its sides, tangent to the frame, and lines never join one hook to itself', async () => {
    const { plan } = await makeMonoPlan({ ...base, lines: 200 });
    const one = await makeMonoPlan({ ...base, lines: 200, flanks: 1 });
    expect(one.plan.version).toBe(1);
    expect(one.plan.flanks).toBeUndefined();
    const r = 2 / 2 + 0.12 / 2;
    for (let h = 0; h < 160; h++) {
      const [cx, cy] = one.plan.nails[h];
      const a = plan.nails[2 * h];
      const b = plan.nails[2 * h + 1];
      // Midpoint is the hook centre (to the 3 decimals plan.json keeps), flanks r away.
      expect(Math.hypot((a[0] + b[0]) / 2 - cx, (a[1] + b[1]) / 2 - cy)).toBeLessThan(2e-3);
      expect(Math.hypot(a[0] - cx, a[1] - cy)).toBeCloseTo(r, 2);
      // Tangent to the circle: perpendicular to the radius; flank 1 is clockwise of flank 0.
      const rx = cx - 300;
      const ry = cy - 300;
      expect(Math.abs((b[0] - a[0]) * rx + (b[1] - a[1]) * ry)).toBeLessThan(0.01 * Math.hypot(rx, ry));
      expect(rx * (b[1] - a[1]) - ry * (b[0] - a[0])).toBeGreaterThan(0);
    }
    for (const [, a, b] of plan.lines) expect(a >> 1).not.toBe(b >> 1);
    // Both flanks get used, and the two-sided model fits the picture better at equal thread count.
    const flanksUsed = new Set(planPath(plan).map((v) => v & 1));
    expect(flanksUsed.size).toBe(2);
    const target = await loadMetricTarget(plan);
    expect(scorePlan(plan, target).rmse).toBeLessThan(scorePlan(one.plan, target).rmse);
  });
});

describe('image loading', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-img-'));
    // 40×20 stored, EXIF orientation 6 (rotate 90° clockwise to view) → 20×40 upright; left half black.
    const raw = Buffer.alloc(40 * 20 * 3, 255);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) raw.fill(0, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toFile(join(dir, 'rot.jpg'));
    await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(join(dir, 'clear.png'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('centreCrop takes the largest centred rectangle of the aspect', () => {
    expect(centreCrop(400, 300, 1)).toEqual([50, 0, 300, 300]);
    expect(centreCrop(300, 400, 1)).toEqual([0, 50, 300, 300]);
    expect(centreCrop(400, 300, 2)).toEqual([0, 50, 400, 200]);
    expect(centreCrop(512, 512, 1)).toEqual([0, 0, 512, 512]);
  });

  it('auto-orients by EXIF before cropping', async () => {
    const f = join(dir, 'rot.jpg');
    expect(await probeImage(f)).toEqual({ width: 20, height: 40 });
    const g = await loadGrey(f, [0, 0, 20, 40], 10, 20);
    // After rotating 90° clockwise the black left half of the stored image is the top half.
    expect(g.data[2 * 10 + 5]).toBeLessThan(0.2);
    expect(g.data[17 * 10 + 5]).toBeGreaterThan(0.8);
  });

  it('flattens transparency onto white', async () => {
    const g = await loadGrey(join(dir, 'clear.png'), [0, 0, 32, 32], 8, 8);
    expect(Math.min(...g.data)).toBeGreaterThan(0.99);
  });

  it('a missing file is a UserError naming it', async () => {
    await expect(probeImage(join(dir, 'nope.png'))).rejects.toThrow(UserError);
    await expect(probeImage(join(dir, 'nope.png'))).rejects.toThrow(/nope\.png: no such file/);
    await expect(probeImage(dir)).rejects.toThrow(/is a directory/);
  });
});
