import { frameMask, hookInsetMm, rasterHeight } from './frame';
import { formingGif } from './gif';
import { traceSegment } from './grid';
import sharp from 'sharp';
import { hexRgb, renderRgb, type Drawable, type Line } from './render';
import { loadRgb } from './colour';
import { METRIC_WIDTH, type ScoreRegion } from './score';
import type { Plan } from './types';

/**
 * Colour forming.gif: the piece forming in placement order, every line composited opaque over what
 * lies below it by the fraction of the pixel it covers (true occlusion order), colours quantised
 * to a 6×6×6 cube.
 */
export function renderFormingGifRgb(spec: Drawable, lines: readonly Line[]): Uint8Array {
  const palette: number[][] = [];
  for (let r = 0; r < 6; r++) for (let g = 0; g < 6; g++) for (let b = 0; b < 6; b++) palette.push([r * 51, g * 51, b * 51]);
  const cols = spec.colors.map(hexRgb);
  const bg = hexRgb(spec.background);
  return formingGif(spec, lines, palette, (g) => {
    const px = new Float32Array(g.w * g.h * 3);
    for (let p = 0; p < g.w * g.h; p++) px.set(bg, p * 3);
    return {
      draw([c, a, b]) {
        overLine(px, spec.nails[a], spec.nails[b], cols[c], g.sx, g.sy, g.w, g.h, g.threadPx, g.idx, g.len);
      },
      level(i) {
        return Math.round(px[i * 3] * 5) * 36 + Math.round(px[i * 3 + 1] * 5) * 6 + Math.round(px[i * 3 + 2] * 5);
      },
    };
  });
}

/**
 * Quick composite for previews: each line, in placement order, moves every pixel it crosses toward
 * its colour by the fraction of the pixel it covers (exact chord length × thread width), directly
 * on the output grid: true occlusion order at a fraction of renderRgb's high-resolution cost
 * (`hookline score` gives the exact metric).
 */
export function compositeRgb(spec: Drawable, lines: readonly Line[], width: number): { data: Float32Array; width: number; height: number } {
  const h = rasterHeight(spec.board, width);
  const sx = width / spec.board.widthMm;
  const sy = h / spec.board.heightMm;
  const threadPx = (spec.threadWidthMm * (sx + sy)) / 2;
  const cols = spec.colors.map(hexRgb);
  const bg = hexRgb(spec.background);
  const px = new Float32Array(width * h * 3);
  for (let p = 0; p < width * h; p++) px.set(bg, p * 3);
  const idx = new Int32Array(width + h + 4);
  const len = new Float32Array(width + h + 4);
  for (const [c, a, b] of lines) {
    overLine(px, spec.nails[a], spec.nails[b], cols[c], sx, sy, width, h, threadPx, idx, len);
  }
  return { data: px, width, height: h };
}

async function rgbToPng(spec: Drawable, img: { data: Float32Array; width: number; height: number }): Promise<Buffer> {
  const { width, height } = img;
  const mask = frameMask(spec.board, width, height);
  const out = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const shade = mask[p] ? 1 : 0.85;
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round(Math.min(1, Math.max(0, img.data[p * 3 + k])) * shade * 255);
  }
  return sharp(out, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** preview.png (all lines, placement order) and one PNG per colour layer (that colour's lines alone). */
export async function colourPreviews(plan: Plan, widthPx = 512): Promise<{ preview: Buffer; layers: Buffer[] }> {
  const all = rgbToPng(plan, compositeRgb(plan, plan.lines, widthPx));
  const layers = Promise.all(plan.colors.map((_, c) => rgbToPng(plan, compositeRgb(plan, plan.lines.filter((l) => l[0] === c), widthPx))));
  return { preview: await all, layers: await layers };
}

/**
 * Colour quality: RMSE over RGB 0..1 (all three channels) inside the frame (or the hook ring,
 * region 'hooks'), threads composited opaque in placement order (renderRgb), 512 px across.
 */
export async function scoreColourPlan(plan: Plan, image: string, region: ScoreRegion = 'hooks'): Promise<{ rmse: number }> {
  const h = rasterHeight(plan.board, METRIC_WIDTH);
  const target = await loadRgb(image, plan.source.crop, METRIC_WIDTH, h);
  const got = renderRgb(plan, plan.lines, METRIC_WIDTH);
  const inset = region === 'hooks' ? hookInsetMm(plan.board, plan.nails) : 0;
  const mask = frameMask(plan.board, METRIC_WIDTH, h, inset);
  let sum = 0;
  let count = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let k = 0; k < 3; k++) {
      const d = got.data[p * 3 + k] - target.data[p * 3 + k];
      sum += d * d;
    }
    count += 3;
  }
  return { rmse: count ? Math.sqrt(sum / count) : 0 };
}

/** Lay one thread of colour `col` from p to q (board mm) over the RGB raster `px`, each crossed pixel
 * moving toward the colour by the fraction the thread covers (chord length × width, at most 1).
 * `idx`/`len` are scratch buffers for the traced pixels. */
function overLine(
  px: Float32Array, p: [number, number], q: [number, number], col: ArrayLike<number>, sx: number, sy: number,
  w: number, h: number, threadPx: number, idx: Int32Array, len: Float32Array,
): void {
  const n = traceSegment(p[0] * sx, p[1] * sy, q[0] * sx, q[1] * sy, w, h, idx, len);
  for (let i = 0; i < n; i++) {
    const al = Math.min(1, len[i] * threadPx);
    const o = idx[i] * 3;
    px[o] += (col[0] - px[o]) * al;
    px[o + 1] += (col[1] - px[o + 1]) * al;
    px[o + 2] += (col[2] - px[o + 2]) * al;
  }
}
