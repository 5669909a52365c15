import { PNG } from 'pngjs';
import sharp from 'sharp';
import { frameMask, rasterHeight } from './frame';
import { newFootprint, traceThickLine, type Footprint } from './thick-line';
import type { Plan } from './types';

/** What drawing needs from a plan: board, nails, thread width and colours (lines come separately). */
export type Drawable = Pick<Plan, 'board' | 'nails' | 'threadWidthMm' | 'background' | 'colors'>;
/** [colorIndex, fromNail, toNail], as in plan.json. */
export type Line = [number, number, number];

export interface Raster {
  /** Row-major, `channels` floats per pixel. */
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/** Largest high-resolution buffer a render allocates, in pixels (one byte each per channel). */
const MAX_HIRES_PIXELS = 40_000_000;

/** Lines for a hook sequence strung in one colour: path [a, b, c] → [[c, a, b], [c, b, c]]. */
export function linesFromPath(path: readonly number[], colorIndex = 0): Line[] {
  const lines: Line[] = [];
  for (let i = 1; i < path.length; i++) lines.push([colorIndex, path[i - 1], path[i]]);
  return lines;
}

/**
 * Supersampling factor: high-res pixels per output pixel so that one high-res pixel is about one
 * thread width (the quality metric's rule), capped by MAX_HIRES_PIXELS / channels.
 */
function superFactor(spec: Drawable, width: number, height: number, channels: number): number {
  const want = Math.max(1, Math.round(spec.board.widthMm / width / spec.threadWidthMm));
  const cap = Math.max(1, Math.floor(Math.sqrt(MAX_HIRES_PIXELS / channels / (width * height))));
  return Math.min(want, cap);
}

/** Calls `draw(colorIndex, footprint, count)` with each line's high-res coverage, in order. */
function eachLine(
  spec: Drawable, lines: readonly Line[], hw: number, hh: number,
  draw: (color: number, fp: Footprint, count: number) => void,
): void {
  const sx = hw / spec.board.widthMm;
  const sy = hh / spec.board.heightMm;
  const wPx = (spec.threadWidthMm * (sx + sy)) / 2;
  const fp = newFootprint();
  for (const [c, a, b] of lines) {
    const p = spec.nails[a];
    const q = spec.nails[b];
    const n = traceThickLine(p[0] * sx, p[1] * sy, q[0] * sx, q[1] * sy, wPx, hw, hh, fp);
    draw(c, fp, n);
  }
}

/**
 * Thread darkness 0..1 per pixel, rendered like the quality metric: every thread opaque at a
 * resolution where a pixel is about one thread width, darkness = min(1, Σ coverage), then
 * box-filtered down to `widthPx` across the board (height from the board's aspect).
 */
export function renderCoverage(spec: Drawable, lines: readonly Line[], widthPx = 512): Raster {
  return renderCoverageFrames(spec, lines, widthPx, []).final;
}

/**
 * renderCoverage, plus snapshots of the box-filtered darkness after the first `at[i]` lines
 * (ascending) — the piece forming. One pass: each high-res write also updates its output pixel's
 * running sum, so no separate box filter is needed and snapshots are cheap.
 */
export function renderCoverageFrames(
  spec: Drawable, lines: readonly Line[], widthPx: number, at: readonly number[],
): { final: Raster; frames: Float32Array[] } {
  const width = widthPx;
  const height = rasterHeight(spec.board, width);
  const k = superFactor(spec, width, height, 1);
  const hw = width * k;
  const hh = height * k;
  const hi = new Uint8Array(hw * hh); // 255 = fully covered
  const sums = new Uint32Array(width * height);
  const sx = hw / spec.board.widthMm;
  const sy = hh / spec.board.heightMm;
  const wPx = (spec.threadWidthMm * (sx + sy)) / 2;
  const norm = 1 / (k * k * 255);
  const snapshot = () => {
    const f = new Float32Array(sums.length);
    for (let i = 0; i < f.length; i++) f[i] = sums[i] * norm;
    return f;
  };
  const frames: Float32Array[] = [];
  let next = 0;
  while (next < at.length && at[next] <= 0) {
    frames.push(snapshot());
    next++;
  }
  // Darkness is order-free (min(255, Σ)), so between snapshots lines are drawn band by band of
  // high-res rows: each band's slice of the buffer stays in cache.
  const band = 64;
  const bounds = [...at.slice(next).map((v) => Math.min(v, lines.length)), lines.length];
  let done = 0;
  for (const until of bounds) {
    if (until > done) {
      for (let r = 0; r < hh; r += band) {
        for (let l = done; l < until; l++) {
          const [, a, b] = lines[l];
          const p = spec.nails[a];
          const q = spec.nails[b];
          drawThick(p[0] * sx, p[1] * sy, q[0] * sx, q[1] * sy, wPx, hw, hh, k, width, hi, sums, r, Math.min(hh, r + band));
        }
      }
      done = until;
    }
    while (next < at.length && at[next] <= done) {
      frames.push(snapshot());
      next++;
    }
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = sums[i] * norm;
  return { final: { data, width, height, channels: 1 }, frames };
}

/**
 * traceThickLine's coverage model drawn straight into `hi` (min(255, Σ)), keeping `sums` (the
 * output pixel k×k blocks' totals) in step.
 */
function drawThick(
  x0: number, y0: number, x1: number, y1: number, widthPx: number,
  width: number, height: number, k: number, outW: number, hi: Uint8Array, sums: Uint32Array,
  rowLo: number, rowHi: number,
): void {
  const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
  let u0 = steep ? y0 : x0, v0 = steep ? x0 : y0, u1 = steep ? y1 : x1, v1 = steep ? x1 : y1;
  if (u0 > u1) {
    const tu = u0;
    u0 = u1;
    u1 = tu;
    const tv = v0;
    v0 = v1;
    v1 = tv;
  }
  const du = u1 - u0;
  if (du === 0) return;
  const slope = (v1 - v0) / du;
  const half = (widthPx * Math.sqrt(1 + slope * slope)) / 2;
  const uSize = steep ? height : width;
  const vSize = steep ? width : height;
  const uStride = steep ? width : 1;
  const vStride = steep ? 1 : width;
  const uBlock = steep ? outW : 1;
  const vBlock = steep ? 1 : outW;
  let first = Math.max(0, Math.floor(u0));
  let last = Math.min(uSize - 1, Math.floor(u1));
  // Only rows rowLo..rowHi−1: along u for a steep line, across it otherwise.
  let vLo = 0;
  let vHi = vSize - 1;
  if (steep) {
    first = Math.max(first, rowLo);
    last = Math.min(last, rowHi - 1);
  } else {
    vLo = rowLo;
    vHi = rowHi - 1;
    if (slope !== 0) {
      const ua = u0 + (rowLo - half - 1 - v0) / slope;
      const ub = u0 + (rowHi + half + 1 - v0) / slope;
      first = Math.max(first, Math.floor(Math.min(ua, ub)));
      last = Math.min(last, Math.ceil(Math.max(ua, ub)));
    } else if (v0 + half < rowLo - 1 || v0 - half > rowHi + 1) {
      return;
    }
  }
  for (let i = first; i <= last; i++) {
    const lo = i > u0 ? i : u0;
    const hiU = i + 1 < u1 ? i + 1 : u1;
    const frac = hiU - lo;
    if (frac <= 0) continue;
    const v = v0 + ((lo + hiU) / 2 - u0) * slope;
    const a = v - half;
    const b = v + half;
    const jFirst = Math.max(vLo, Math.floor(a));
    const jLast = Math.min(vHi, Math.floor(b));
    const rowBase = i * uStride;
    const blockBase = ((i / k) | 0) * uBlock;
    const scale = frac * 255;
    for (let j = jFirst; j <= jLast; j++) {
      const overlap = (j + 1 < b ? j + 1 : b) - (j > a ? j : a);
      if (overlap <= 0) continue;
      const add = (overlap * scale + 0.5) | 0;
      if (add === 0) continue;
      const idx = rowBase + j * vStride;
      const old = hi[idx];
      if (old === 255) continue;
      const nv = old + add < 255 ? old + add : 255;
      hi[idx] = nv;
      sums[blockBase + ((j / k) | 0) * vBlock] += nv - old;
    }
  }
}

/**
 * Colour render: RGB 0..1, threads composited opaque over the background in placement order
 * (each high-res pixel moves toward the thread colour by its coverage), then box-filtered.
 * A one-colour plan gives the same picture as renderCoverage blended between background and thread.
 */
export function renderRgb(spec: Drawable, lines: readonly Line[], widthPx = 512): Raster {
  const width = widthPx;
  const height = rasterHeight(spec.board, width);
  if (spec.colors.length === 1) {
    const cov = renderCoverage(spec, lines, widthPx);
    const bg = hexRgb(spec.background);
    const fg = hexRgb(spec.colors[0]);
    const data = new Float32Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      const d = cov.data[p];
      for (let ch = 0; ch < 3; ch++) data[p * 3 + ch] = bg[ch] + (fg[ch] - bg[ch]) * d;
    }
    return { data, width, height, channels: 3 };
  }
  const k = superFactor(spec, width, height, 3);
  const hw = width * k;
  const hh = height * k;
  const hi = new Uint8ClampedArray(hw * hh * 3);
  const bg = hexRgb(spec.background).map((v) => Math.round(v * 255));
  for (let p = 0; p < hw * hh; p++) hi.set(bg, p * 3);
  const cols = spec.colors.map((hex) => hexRgb(hex).map((v) => v * 255));
  eachLine(spec, lines, hw, hh, (c, { idx, cov }, n) => {
    const col = cols[c];
    for (let q = 0; q < n; q++) {
      const a = cov[q] < 1 ? cov[q] : 1;
      const o = idx[q] * 3;
      hi[o] += (col[0] - hi[o]) * a; // Uint8Clamped: rounds to nearest
      hi[o + 1] += (col[1] - hi[o + 1]) * a;
      hi[o + 2] += (col[2] - hi[o + 2]) * a;
    }
  });
  return { data: boxDown(hi, hw, hh, k, 3), width, height, channels: 3 };
}

/**
 * PNG of what `lines` look like strung on the board: threads as renderRgb draws them; with
 * `frame` (default true) the area outside a circular frame is shaded so the board shape shows.
 * The simulator uses this for "what was actually strung": pass linesFromPath(hooks).
 */
export function renderLinesPng(
  spec: Drawable, lines: readonly Line[], opts: { widthPx?: number; frame?: boolean } = {},
): Buffer {
  return rgbPng(spec, renderRgb(spec, lines, opts.widthPx ?? 512), opts.frame !== false);
}

/**
 * PNG of a one-colour plan from its already rendered darkness (renderCoverage's data), outside
 * a circular frame shaded as renderLinesPng does. Encoded by sharp (off the main thread).
 */
export async function coveragePng(spec: Drawable, darkness: Float32Array, width: number, height: number): Promise<Buffer> {
  const bg = hexRgb(spec.background);
  const fg = hexRgb(spec.colors[0]);
  const mask = frameMask(spec.board, width, height);
  const px = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const d = darkness[p];
    const shade = mask[p] ? 255 : 0.85 * 255;
    for (let ch = 0; ch < 3; ch++) px[p * 3 + ch] = Math.round((bg[ch] + (fg[ch] - bg[ch]) * d) * shade);
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

function rgbPng(spec: Drawable, rgb: Raster, frame: boolean): Buffer {
  const { width, height } = rgb;
  const mask = frame ? frameMask(spec.board, width, height) : null;
  // pngjs (pure JS, synchronous): a native canvas here cost every command that imports this ~0.1 s to load.
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const shade = mask && !mask[p] ? 0.85 : 1;
    for (let ch = 0; ch < 3; ch++) data[p * 4 + ch] = Math.round(rgb.data[p * 3 + ch] * shade * 255);
    data[p * 4 + 3] = 255;
  }
  return PNG.sync.write({ width, height, data } as PNG); // RGBA, as the canvas wrote it
}

/** renderLinesPng for a hook sequence strung in one colour (colour 0 unless told). */
export function renderPathPng(
  spec: Drawable, path: readonly number[], opts: { widthPx?: number; frame?: boolean; colorIndex?: number } = {},
): Buffer {
  return renderLinesPng(spec, linesFromPath(path, opts.colorIndex ?? 0), opts);
}

/** The preview written next to plan.json: the whole plan, 512 px wide unless told. */
export function renderPreviewPng(plan: Plan, widthPx = 512): Buffer {
  return renderLinesPng(plan, plan.lines, { widthPx });
}

/** "#rrggbb" → [r, g, b] in 0..1. */
export function hexRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

function boxDown(hi: Uint8Array | Uint8ClampedArray, hw: number, hh: number, k: number, channels: number): Float32Array {
  const w = hw / k;
  const h = hh / k;
  const out = new Float32Array(w * h * channels);
  const sums = new Float64Array(w * channels);
  const norm = 1 / (k * k * 255);
  for (let y = 0; y < h; y++) {
    sums.fill(0);
    for (let r = y * k; r < (y + 1) * k; r++) {
      let src = r * hw * channels;
      for (let x = 0; x < w; x++) {
        for (let s = 0; s < k; s++) {
          for (let ch = 0; ch < channels; ch++) sums[x * channels + ch] += hi[src++];
        }
      }
    }
    for (let i = 0; i < w * channels; i++) out[y * w * channels + i] = sums[i] * norm;
  }
  return out;
}
