import { createCanvas, ImageData } from '@napi-rs/canvas';
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
  const width = widthPx;
  const height = rasterHeight(spec.board, width);
  const k = superFactor(spec, width, height, 1);
  const hw = width * k;
  const hh = height * k;
  const hi = new Uint8Array(hw * hh); // 255 = fully covered
  eachLine(spec, lines, hw, hh, (_c, { idx, cov }, n) => {
    for (let q = 0; q < n; q++) {
      const i = idx[q];
      const v = hi[i] + ((cov[q] * 255 + 0.5) | 0);
      hi[i] = v < 255 ? v : 255;
    }
  });
  return { data: boxDown(hi, hw, hh, k, 1), width, height, channels: 1 };
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
  const rgb = renderRgb(spec, lines, opts.widthPx ?? 512);
  const { width, height } = rgb;
  const mask = opts.frame === false ? null : frameMask(spec.board, width, height);
  const img = new ImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    const shade = mask && !mask[p] ? 0.85 : 1;
    for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = Math.round(rgb.data[p * 3 + ch] * shade * 255);
    img.data[p * 4 + 3] = 255;
  }
  const canvas = createCanvas(width, height);
  canvas.getContext('2d').putImageData(img, 0, 0);
  return canvas.encodeSync('png');
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
