import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ImageInfo } from '../host/studio/protocol';
import { repoRoot } from './helpers/cli';
import { POST, planEvents, startStudio, type RunningStudio } from './studio-helpers';

// The photo's framing (crop, zoom, turn: host/studio/crop.ts, web/photo-crop.tsx) over HTTP and in
// headless Chromium, and a reload (or a restarted server) that finds the photo, its framing and
// the options again (web/photo-store.ts). Screenshots: test-artifacts/studio/photo-*.png.
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, localStorage: any;
const shots = join(repoRoot, 'test-artifacts/studio');

/** A white w×h JPEG with black rectangles [left, top, width, height]. */
async function drawn(w: number, h: number, rects: [number, number, number, number][]): Promise<Buffer> {
  const raw = Buffer.alloc(w * h, 255);
  for (const [l, t, rw, rh] of rects) for (let y = t; y < t + rh; y++) raw.fill(0, y * w + l, y * w + l + rw);
  return sharp(raw, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

async function upload(base: string, body: Buffer): Promise<ImageInfo> {
  const res = await fetch(new URL('api/image', base), { method: 'POST', headers: { ...POST, 'content-type': 'image/png' }, body });
  expect(res.status).toBe(200);
  return (await res.json()) as ImageInfo;
}

/** The planner's view (its target, grey) of a plan request: a sampler of mean brightness 0..1 over a square of fractions. */
async function plannerView(base: string, body: unknown) {
  const r = await planEvents(base, body, undefined, true);
  expect(r.error).toBeUndefined();
  const v = r.events.find((e) => e.type === 'view');
  if (!v || v.type !== 'view') throw new Error('no view event');
  const { data, info } = await sharp(Buffer.from(v.view, 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
  const mean = (fx: number, fy: number, half = 0.03) => {
    let s = 0;
    let n = 0;
    for (let y = Math.floor((fy - half) * info.height); y < (fy + half) * info.height; y++) {
      for (let x = Math.floor((fx - half) * info.width); x < (fx + half) * info.width; x++) {
        s += data[y * info.width + x] / 255;
        n++;
      }
    }
    return s / n;
  };
  return { mean, done: r.events.find((e) => e.type === 'done') };
}

describe('hookline studio: framing the photo', () => {
  let studio: RunningStudio;
  let base: string;
  beforeAll(async () => {
    studio = await startStudio();
    base = studio.url;
  });
  afterAll(async () => {
    expect(await studio.stop()).toBe(0);
  });

  it('the planner plans for exactly the crop window: zoomed onto a square, turned 90°; bad numbers get one line', async () => {
    // 400×300, a black 60×60 square centred at (330, 70): the centre crop (300×300 at x 50..350) cuts it.
    const square = await upload(base, await drawn(400, 300, [[300, 40, 60, 60]]));
    const zoomed = await plannerView(base, { image: square.id, flags: { lines: '200' }, crop: { rotate: 0, zoom: 4, x: 330 / 400, y: 70 / 300 } });
    // The window is 300/4 = 75 px across: the square fills its middle 80 %, white beyond (inside the circle).
    expect(zoomed.mean(0.5, 0.5, 0.2)).toBeLessThan(0.05);
    for (const [fx, fy] of [[0.06, 0.5], [0.94, 0.5], [0.5, 0.06], [0.5, 0.94]]) expect(zoomed.mean(fx, fy, 0.02)).toBeGreaterThan(0.95);
    expect(zoomed.done?.type).toBe('done');

    // A square photo dark in its top-left quarter: turned 90° clockwise the dark quarter is top-right.
    const quarter = await upload(base, await drawn(300, 300, [[0, 0, 150, 150]]));
    const plain = await plannerView(base, { image: quarter.id, flags: { lines: '200' } });
    const turned = await plannerView(base, { image: quarter.id, flags: { lines: '200' }, crop: { rotate: 90, zoom: 1, x: 0.5, y: 0.5 } });
    expect(plain.mean(0.3, 0.3, 0.1)).toBeLessThan(0.1);
    expect(plain.mean(0.7, 0.3, 0.1)).toBeGreaterThan(0.9);
    expect(turned.mean(0.7, 0.3, 0.1)).toBeLessThan(0.1);
    expect(turned.mean(0.3, 0.3, 0.1)).toBeGreaterThan(0.9);
    expect(turned.mean(0.3, 0.7, 0.1)).toBeGreaterThan(0.9);
    // −270° is the same turn; a centre off the photo is clamped onto it (the window stays on the picture's edge).
    const same = await plannerView(base, { image: quarter.id, flags: { lines: '200' }, crop: { rotate: -270, zoom: 1, x: 0.5, y: 0.5 } });
    expect(same.mean(0.7, 0.3, 0.1)).toBeLessThan(0.1);
    const edge = await plannerView(base, { image: quarter.id, flags: { lines: '200' }, crop: { rotate: 0, zoom: 2, x: -5, y: -5 } });
    // Centred on the photo's top-left corner: its bottom-right quarter is the dark corner, the rest is white margin.
    expect(edge.mean(0.7, 0.7, 0.1)).toBeLessThan(0.1);
    expect(edge.mean(0.3, 0.3, 0.1)).toBeGreaterThan(0.9);

    for (const [crop, msg] of [
      [{ rotate: 'x', zoom: 1, x: 0.5, y: 0.5 }, /^crop\.rotate must be a finite number, not "x"/],
      [{ rotate: 0, zoom: null, x: 0.5, y: 0.5 }, /^crop\.zoom must be a finite number, not null/],
      [{ rotate: 0, zoom: 1, x: 0.5 }, /^crop\.y must be a finite number, not undefined/],
      [{ rotate: 0, zoom: 1, x: 0.5, y: 0.5, file: '/etc/passwd' }, /^crop: unknown field 'file'/],
      ['/etc/passwd', /^crop must be an object/],
      [{ rotate: 1e9, zoom: 1, x: 0.5, y: 0.5 }, /^crop\.rotate 1000000000 is not an angle/],
    ] as const) {
      const r = await planEvents(base, { image: quarter.id, flags: {}, crop });
      expect(r.status).toBe(400);
      expect(r.error).toMatch(msg);
    }
    expect((await fetch(new URL('api/machines', base))).status).toBe(200); // still serving
  });
});

// ---- in the browser ----

/** Grey 24×24 samples (0..255) of the planner's view and of the crop view's frame, read in the page. */
function samples(page: Page, what: 'planner' | 'crop') {
  return page.evaluate(async (which: string) => {
    const N = 24;
    const c = document.createElement('canvas');
    c.width = N;
    c.height = N;
    const g = c.getContext('2d');
    g.imageSmoothingQuality = 'high';
    if (which === 'planner') {
      const img = document.querySelector('[data-testid=planner-view]');
      await img.decode();
      g.drawImage(img, 0, 0, N, N);
    } else {
      const v = document.querySelector('[data-testid=crop-view]');
      const f = 0.72; // the frame's share of the view (web/photo-crop.tsx)
      const s = v.width * f;
      g.drawImage(v, (v.width - s) / 2, (v.height - s) / 2, s, s, 0, 0, N, N);
    }
    const d = g.getImageData(0, 0, N, N).data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i += 4) out.push((d[i] + d[i + 1] + d[i + 2]) / 3);
    return out;
  }, what);
}

/** Pearson correlation of two samplings inside the frame's circle (radius 0.42: the planner's view is blank outside). */
function correlation(a: number[], b: number[]): number {
  const N = 24;
  const idx = a.map((_, i) => i).filter((i) => Math.hypot((i % N) + 0.5 - N / 2, Math.floor(i / N) + 0.5 - N / 2) < 0.42 * N);
  const ma = idx.reduce((s, i) => s + a[i], 0) / idx.length;
  const mb = idx.reduce((s, i) => s + b[i], 0) / idx.length;
  let sab = 0, saa = 0, sbb = 0;
  for (const i of idx) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const job = (page: Page) => page.locator('[data-testid=numbers]').getAttribute('data-job');
const waitDone = (page: Page, lines: number, before: string | null = null) => page.waitForFunction(([n, old]) => {
  const numbers = document.querySelector('[data-testid=numbers]');
  return numbers.dataset.done === '1' && numbers.dataset.job !== old && document.querySelector('[data-testid=lines]')?.textContent === String(n);
}, [lines, before] as const, { timeout: 120_000 });
const cropOf = async (page: Page) => JSON.parse((await page.locator('[data-testid=crop-view]').getAttribute('data-crop'))!) as { rotate: number; zoom: number; x: number; y: number };

/** The centroid (fractions of the overlay) of the brush overlay's warm ("more detail") pixels. */
function paintedAt(page: Page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid=brush]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sx = 0, sy = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 40 && d[i] > 200 && d[i + 2] < 100) {
        const p = i / 4;
        sx += p % c.width;
        sy += Math.floor(p / c.width);
        n++;
      }
    }
    return { x: sx / n / c.width, y: sy / n / c.height, n };
  });
}

describe.skipIf(!existsSync(CHROMIUM))('hookline studio in headless Chromium: framing the photo, reload', () => {
  let studio: RunningStudio;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    studio = await startStudio();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    expect(await studio?.stop()).toBe(0);
  });

  it('crop, zoom and turn under the frame; the planner sees what the frame holds; the brush moves with the photo', async () => {
    await page.goto(studio.url);
    await expect.poll(() => page.locator('[data-testid=machine] option').count()).toBeGreaterThan(3);
    await page.locator('[data-flag=lines]').fill('600');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await waitDone(page, 600);

    // Paint "more detail" right of the centre, before framing.
    await page.selectOption('[data-testid=brush-mode]', 'more');
    const box = (await page.locator('[data-testid=brush]').boundingBox())!;
    let before = await job(page);
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.62, box.y + box.height * 0.5, { steps: 3 });
    await page.mouse.up();
    await waitDone(page, 600, before);
    const dot = await paintedAt(page);
    expect(dot.x).toBeCloseTo(0.61, 1);
    expect(dot.y).toBeCloseTo(0.5, 1);
    await page.selectOption('[data-testid=brush-mode]', 'off');

    // The crop view: the photo under the frame; at first the planner's view is what the frame holds.
    await page.click('[data-testid=crop-open]');
    await page.waitForSelector('[data-testid=crop-view][data-loaded="1"]'); // the photo drawn under the frame
    const view0 = await samples(page, 'crop');
    await page.click('[data-testid=crop-open]'); // back to the planner's view
    expect(correlation(view0, await samples(page, 'planner'))).toBeGreaterThan(0.9);
    await page.click('[data-testid=crop-open]');

    // Zoom with the wheel over the photo, then drag it: each ends in one new plan for the new window.
    const cv = (await page.locator('[data-testid=crop-view]').boundingBox())!;
    before = await job(page);
    await page.mouse.move(cv.x + cv.width / 2, cv.y + cv.height / 2);
    await page.mouse.wheel(0, -300);
    await waitDone(page, 600, before);
    const zoomed = await cropOf(page);
    expect(zoomed.zoom).toBeGreaterThan(1.3);
    before = await job(page);
    await page.mouse.move(cv.x + cv.width / 2, cv.y + cv.height / 2);
    await page.mouse.down();
    await page.mouse.move(cv.x + cv.width / 2 + 60, cv.y + cv.height / 2 + 30, { steps: 6 });
    await page.mouse.up();
    await waitDone(page, 600, before);
    const dragged = await cropOf(page);
    expect(dragged.x).toBeLessThan(0.5); // dragged right: the frame shows more of the photo's left
    expect(dragged.y).toBeLessThan(0.5);
    // Turn 90° and a little more with the fine slider.
    before = await job(page);
    await page.click('[data-testid=rotate-right]');
    await waitDone(page, 600, before);
    before = await job(page);
    await page.locator('[data-testid=rotate-fine]').fill('12');
    await waitDone(page, 600, before);
    const turned = await cropOf(page);
    expect(turned).toEqual({ ...dragged, rotate: 102 });
    await page.screenshot({ path: join(shots, 'photo-1-crop.png') });
    const framed = await samples(page, 'crop');
    await page.click('[data-testid=crop-open]');
    const planned = await samples(page, 'planner');
    // The planner's picture comes from the window the frame shows (and not from the uncut photo).
    expect(correlation(framed, planned)).toBeGreaterThan(0.9);
    expect(correlation(view0, planned)).toBeLessThan(0.6);
    await page.screenshot({ path: join(shots, 'photo-2-planned.png') });

    // The painted dot stays on the same part of the photo: mask → photo under the first framing → mask under the last.
    const [w, h] = (await page.locator('.thumb').getAttribute('title'))!.split(/[×\s]/).map(Number);
    const side = (c: { zoom: number }) => Math.min(w, h) / c.zoom;
    const px = w / 2 + (dot.x - 0.5) * side({ zoom: 1 });
    const py = h / 2 + (dot.y - 0.5) * side({ zoom: 1 });
    const t = (turned.rotate * Math.PI) / 180;
    const dx = px - turned.x * w;
    const dy = py - turned.y * h;
    const want = { x: 0.5 + (dx * Math.cos(t) - dy * Math.sin(t)) / side(turned), y: 0.5 + (dx * Math.sin(t) + dy * Math.cos(t)) / side(turned) };
    expect(Math.hypot(want.x - 0.5, want.y - 0.5)).toBeLessThan(0.45); // (the test keeps it inside the frame)
    const moved = await paintedAt(page);
    expect(moved.n).toBeGreaterThan(0);
    expect(Math.hypot(moved.x - want.x, moved.y - want.y)).toBeLessThan(0.02);
    expect(Math.hypot(moved.x - dot.x, moved.y - dot.y)).toBeGreaterThan(0.1);
    expect(errors).toEqual([]);
    state = { crop: turned, view: planned, dot: moved, job: (await job(page))! };
  });

  let state: { crop: { rotate: number }; view: number[]; dot: { x: number; y: number }; job: string };
  it('a reload keeps the photo, its framing, the options and the brush; so does a restarted server that lost them', async () => {
    // A setting besides the framing.
    await page.locator('[data-flag=contrast]').fill('1.5');
    await waitDone(page, 600, state.job);
    const planned = await samples(page, 'planner');
    // The downloads' choices too.
    await page.selectOption('.gcode select', 'marlin');
    await page.selectOption('[data-testid=lift]', 'servo');
    await page.locator('[data-testid=servo-up]').fill('40');
    const thumb = await page.locator('.thumb').getAttribute('src');

    const again = async () => {
      await waitDone(page, 600);
      expect(await page.locator('[data-flag=contrast]').inputValue()).toBe('1.5');
      expect(await page.locator('[data-flag=lines]').inputValue()).toBe('600');
      expect(await page.locator('.gcode select').first().inputValue()).toBe('marlin');
      expect(await page.locator('[data-testid=servo-up]').inputValue()).toBe('40');
      expect(correlation(await samples(page, 'planner'), planned)).toBeGreaterThan(0.98);
      const dot = await paintedAt(page);
      expect(Math.hypot(dot.x - state.dot.x, dot.y - state.dot.y)).toBeLessThan(0.01);
      await page.click('[data-testid=crop-open]');
      expect(await cropOf(page)).toEqual(state.crop);
      await page.click('[data-testid=crop-open]');
      expect(await page.locator('[data-testid=plan-error]').count()).toBe(0);
    };
    // The page keeps its settings in an effect after each change: wait for the last one to be kept
    // (a reload straight after typing can come first on a busy machine).
    await expect.poll(() => page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? '{}').lift?.up, 'hookline.studio.settings')).toBe('40'); // web/photo-store.ts
    await page.reload();
    await again();
    expect(await page.locator('.thumb').getAttribute('src')).toBe(thumb); // the server still had it

    // A new server knows neither the photo nor the mask: the page sends them again from IndexedDB.
    const port = new URL(studio.url).port;
    expect(await studio.stop()).toBe(0);
    studio = await startStudio(['--port', port]);
    await page.reload();
    await again();
    expect(await page.locator('.thumb').getAttribute('src')).not.toBe(thumb);
    await page.screenshot({ path: join(shots, 'photo-3-reloaded.png') });
    expect(errors).toEqual([]);
  });
});

