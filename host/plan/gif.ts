import * as gifenc from 'gifenc';
import { frameMask, rasterHeight } from './frame';
import { traceSegment } from './grid';
import { DEFAULT_OVERLAP } from './greedy';
import type { Drawable, Line } from './render';
import { toneOf } from './residual';

/** At most this many frames in forming.gif. */
export const MAX_GIF_FRAMES = 60;
/** forming.gif width in px. */
export const GIF_WIDTH = 200;

/**
 * forming.gif: the piece forming, ≤ 60 frames (evenly spaced line counts, the last held 2 s),
 * GIF_WIDTH px across the board in 16 grey levels. Frames use the planner's calibrated overlap
 * model on the GIF's own grid (exact chord lengths per pixel) rather than the metric's high-res
 * render: the same look at a fraction of the cost.
 */
export function renderFormingGif(spec: Drawable, lines: readonly Line[]): Uint8Array {
  const w = GIF_WIDTH;
  const h = rasterHeight(spec.board, w);
  const sx = w / spec.board.widthMm;
  const sy = h / spec.board.heightMm;
  const threadPx = (spec.threadWidthMm * (sx + sy)) / 2;
  const frames = Math.max(1, Math.min(MAX_GIF_FRAMES, lines.length));
  const mask = frameMask(spec.board, w, h);
  const levels = 16;
  const palette: number[][] = [];
  for (let i = 0; i < levels; i++) {
    const v = Math.round((255 * i) / (levels - 1));
    palette.push([v, v, v]);
  }
  palette.push([217, 217, 217]); // outside the frame
  palette.push([255, 0, 255]); // unchanged since the last frame (transparent)
  const keep = levels + 1;
  const prev = new Uint8Array(w * h);
  const enc = gifEncoder();
  const cover = new Float32Array(w * h);
  const idx = new Int32Array(w + h + 4);
  const len = new Float32Array(w + h + 4);
  const index = new Uint8Array(w * h);
  // Grey level by summed coverage, tabulated (1/256 steps) so frames cost no Math.pow.
  const lutStep = 256;
  const lut = new Uint8Array(Math.ceil(DEFAULT_OVERLAP * lutStep) + 2);
  for (let i = 0; i < lut.length; i++) lut[i] = Math.round((1 - toneOf(i / lutStep, DEFAULT_OVERLAP)) * (levels - 1));
  const lutMax = lut.length - 1;
  let drawn = 0;
  for (let f = 0; f < frames; f++) {
    const until = Math.round((lines.length * (f + 1)) / frames);
    for (; drawn < until; drawn++) {
      const [, a, b] = lines[drawn];
      const p = spec.nails[a];
      const q = spec.nails[b];
      const c = traceSegment(p[0] * sx, p[1] * sy, q[0] * sx, q[1] * sy, w, h, idx, len);
      for (let i = 0; i < c; i++) cover[idx[i]] += len[i] * threadPx;
    }
    // Later frames keep unchanged pixels transparent over the previous frame: far smaller files.
    for (let i = 0; i < w * h; i++) {
      const li = (cover[i] * lutStep + 0.5) | 0;
      const v = mask[i] ? lut[li < lutMax ? li : lutMax] : levels;
      index[i] = f > 0 && v === prev[i] ? keep : v;
      prev[i] = v;
    }
    enc.writeFrame(index, w, h, {
      palette: f === 0 ? palette : undefined, delay: f === frames - 1 ? 2000 : 80,
      transparent: f > 0, transparentIndex: keep, dispose: 1,
    });
  }
  enc.finish();
  return enc.bytes();
}

/** gifenc's GIFEncoder whether the module loader hands us its CommonJS exports or its ESM build. */
function gifEncoder(): ReturnType<typeof gifenc.GIFEncoder> {
  const mod = gifenc as unknown as { GIFEncoder?: typeof gifenc.GIFEncoder; default?: { GIFEncoder?: typeof gifenc.GIFEncoder } };
  const make = mod.GIFEncoder ?? mod.default?.GIFEncoder;
  if (!make) throw new Error('gifenc: GIFEncoder not found');
  return make();
}
