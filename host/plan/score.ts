import { frameMask, hookInsetMm, rasterHeight } from './frame';
import { loadGrey, type GreyImage } from './image';
import { hexRgb, renderCoverage } from './render';
import type { Plan } from './types';

/** Quality of a plan against its target (docs/plan-format.md, "Quality metric"). */
export interface Score {
  /** Root-mean-square grey error, 0..1, over pixels inside the frame. Lower is better. */
  rmse: number;
  /** Mean SSIM over pixels inside the frame, scikit-image's defaults: 7×7 uniform window, sample
   * covariance, data range 1, K1 0.01, K2 0.03. Higher is better. */
  ssim: number;
}

/** Metric raster width, px across the board. */
export const METRIC_WIDTH = 512;

/**
 * The rendered grey of a one-colour plan: threads rendered like the metric, blended from the
 * background's luminance to the thread colour's by darkness.
 */
export function renderGrey(plan: Plan, widthPx = METRIC_WIDTH): GreyImage {
  const cov = renderCoverage(plan, plan.lines, widthPx);
  const bg = luminance(plan.background);
  const fg = luminance(plan.colors[0]);
  const data = new Float32Array(cov.data.length);
  for (let i = 0; i < data.length; i++) data[i] = bg + (fg - bg) * cov.data[i];
  return { data, width: cov.width, height: cov.height };
}

/**
 * Which pixels count. 'hooks' (default): inside the frame shrunk to the hook ring, the area
 * thread can reach (for a board whose hooks sit on its edge this is the whole frame). 'board':
 * the whole frame, so an empty rim between the hooks and the board edge counts as error.
 */
export type ScoreRegion = 'hooks' | 'board';

/** Score a one-colour plan against a greyscale target of the metric size (target.width across). */
export function scorePlan(plan: Plan, target: GreyImage, region: ScoreRegion = 'hooks'): Score {
  const got = renderGrey(plan, target.width);
  const inset = region === 'hooks' ? hookInsetMm(plan.board, plan.nails) : 0;
  const mask = frameMask(plan.board, target.width, target.height, inset);
  return scoreGrey(got.data, target, mask);
}

/** Load the plan's own target (plan.source file and crop, greyscale, 512 px) and score against it. */
export async function scorePlanAgainstSource(plan: Plan, region: ScoreRegion = 'hooks'): Promise<Score> {
  return scorePlan(plan, await loadMetricTarget(plan), region);
}

/** The metric's target for a plan: its source file's crop, greyscale, 512 px across the board. */
export async function loadMetricTarget(plan: Pick<Plan, 'board' | 'source'>): Promise<GreyImage> {
  const h = rasterHeight(plan.board, METRIC_WIDTH);
  return loadGrey(plan.source.file, plan.source.crop, METRIC_WIDTH, h);
}

/** RMSE and SSIM of `got` vs `target` (same size, 0..1) over mask pixels. */
export function scoreGrey(got: Float32Array, target: GreyImage, mask: Uint8Array): Score {
  return { rmse: rmse(got, target.data, mask), ssim: ssim(got, target.data, target.width, target.height, mask) };
}

export function rmse(a: Float32Array, b: Float32Array, mask: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!mask[i]) continue;
    const d = a[i] - b[i];
    sum += d * d;
    n++;
  }
  return n ? Math.sqrt(sum / n) : 0;
}

/**
 * Mean SSIM over mask pixels. Outside the mask `a` is replaced by `b`, so the board's surroundings
 * neither help nor hurt windows that straddle the frame edge.
 */
export function ssim(a: Float32Array, b: Float32Array, width: number, height: number, mask: Uint8Array): number {
  const x = Float32Array.from(a, (v, i) => (mask[i] ? v : b[i]));
  const y = b;
  const n = width * height;
  const xx = new Float32Array(n);
  const yy = new Float32Array(n);
  const xy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const [mx, my, sxx, syy, sxy] = [x, y, xx, yy, xy].map((m) => boxMean(m, width, height, 3));
  const sample = 49 / 48; // sample covariance, as scikit-image does
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const vx = (sxx[i] - mx[i] * mx[i]) * sample;
    const vy = (syy[i] - my[i] * my[i]) * sample;
    const cv = (sxy[i] - mx[i] * my[i]) * sample;
    sum += ((2 * mx[i] * my[i] + c1) * (2 * cv + c2)) / ((mx[i] ** 2 + my[i] ** 2 + c1) * (vx + vy + c2));
    count++;
  }
  return count ? sum / count : 1;
}

/** Mean over a (2r+1)² window, separable, the window shrunk at the raster's edges. */
function boxMean(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width - 1, x + r);
      for (let i = x0; i <= x1; i++) s += src[y * width + i];
      tmp[y * width + x] = s / (x1 - x0 + 1);
    }
  }
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height - 1, y + r);
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = y0; j <= y1; j++) s += tmp[j * width + x];
      out[y * width + x] = s / (y1 - y0 + 1);
    }
  }
  return out;
}

/** Rec. 709 luminance of "#rrggbb", 0..1 (on the gamma-encoded values, like the greyscale target). */
export function luminance(hex: string): number {
  const [r, g, b] = hexRgb(hex);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
