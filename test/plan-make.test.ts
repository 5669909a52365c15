import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../host/errors';
import { centreCrop, loadGrey, probeImage } from '../host/plan/image';
import { makeMonoPlan, threadLengthMm, type MonoOptions } from '../host/plan/make';
import { loadMetricTarget, scorePlan } from '../host/plan/score';
import { planPath } from '../host/plan/types';
import { planToJson } from '../host/plan/write';
import { checkPlan } from './plan-helpers';

const base: MonoOptions = { image: 'examples/coffee.png', hooks: 160, lines: 300, boardMm: 600, threadMm: 0.12, frame: 'circle', seed: 1 };

describe('makeMonoPlan', () => {
  it('plans the example: valid, deterministic, better than an empty board', async () => {
    const { plan } = await makeMonoPlan(base);
    checkPlan(plan);
    expect(plan.nails).toHaveLength(160);
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

  it('rect frames and odd sizes give valid plans too', async () => {
    const { plan } = await makeMonoPlan({ ...base, frame: 'rect', hooks: 7, lines: 50, boardMm: 50, threadMm: 0.5 });
    checkPlan(plan);
    expect(plan.nails).toHaveLength(7);
    expect(plan.lines.length).toBeGreaterThan(0);
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
