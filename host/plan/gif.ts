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

/** The grid a forming GIF is drawn on, with scratch buffers for tracing one line. */
export interface GifGrid {
  w: number;
  h: number;
  sx: number;
  sy: number;
  threadPx: number;
  idx: Int32Array;
  len: Float32Array;
}

/**
 * The frame loop every forming GIF shares: ≤ MAX_GIF_FRAMES frames at evenly spaced line counts
 * (the last held 2 s), GIF_WIDTH px across the board. `painter` gets the grid and returns `draw`
 * (add one line to its raster) and `level` (pixel i's index in `palette`). Pixels outside the frame
 * are light grey; later frames keep unchanged pixels transparent over the previous one, which
 * makes the files far smaller.
 */
export function formingGif(
  spec: Drawable,
  lines: readonly Line[],
  palette: number[][],
  painter: (g: GifGrid) => { draw(line: Line): void; level(i: number): number },
): Uint8Array {
  const w = GIF_WIDTH;
  const h = rasterHeight(spec.board, w);
  const sx = w / spec.board.widthMm;
  const sy = h / spec.board.heightMm;
  const grid: GifGrid = { w, h, sx, sy, threadPx: (spec.threadWidthMm * (sx + sy)) / 2, idx: new Int32Array(w + h + 4), len: new Float32Array(w + h + 4) };
  const { draw, level } = painter(grid);
  const frames = Math.max(1, Math.min(MAX_GIF_FRAMES, lines.length));
  const mask = frameMask(spec.board, w, h);
  const outside = palette.length;
  const keep = outside + 1;
  const full = [...palette, [217, 217, 217], [255, 0, 255]];
  const prev = new Uint8Array(w * h);
  const index = new Uint8Array(w * h);
  const enc = gifEncoder();
  let drawn = 0;
  for (let f = 0; f < frames; f++) {
    const until = Math.round((lines.length * (f + 1)) / frames);
    for (; drawn < until; drawn++) draw(lines[drawn]);
    for (let i = 0; i < w * h; i++) {
      const v = mask[i] ? level(i) : outside;
      index[i] = f > 0 && v === prev[i] ? keep : v;
      prev[i] = v;
    }
    enc.writeFrame(index, w, h, {
      palette: f === 0 ? full : undefined, delay: f === frames - 1 ? 2000 : 80,
      transparent: f > 0, transparentIndex: keep, dispose: 1,
    });
  }
  enc.finish();
  return enc.bytes();
}

/**
 * forming.gif of a one-colour plan in 16 grey levels. Frames use the planner's calibrated overlap
 * model on the GIF's own grid (exact chord lengths per pixel) rather than the metric's high-res
 * render: the same look at a fraction of the cost.
 */
export function renderFormingGif(spec: Drawable, lines: readonly Line[]): Uint8Array {
  const levels = 16;
  const palette: number[][] = [];
  for (let i = 0; i < levels; i++) {
    const v = Math.round((255 * i) / (levels - 1));
    palette.push([v, v, v]);
  }
  // Grey level by summed coverage, tabulated (1/256 steps) so frames cost no Math.pow.
  const lutStep = 256;
  const lut = new Uint8Array(Math.ceil(DEFAULT_OVERLAP * lutStep) + 2);
  for (let i = 0; i < lut.length; i++) lut[i] = Math.round((1 - toneOf(i / lutStep, DEFAULT_OVERLAP)) * (levels - 1));
  const lutMax = lut.length - 1;
  return formingGif(spec, lines, palette, (g) => {
    const cover = new Float32Array(g.w * g.h);
    return {
      draw([, a, b]) {
        const p = spec.nails[a];
        const q = spec.nails[b];
        const c = traceSegment(p[0] * g.sx, p[1] * g.sy, q[0] * g.sx, q[1] * g.sy, g.w, g.h, g.idx, g.len);
        for (let i = 0; i < c; i++) cover[g.idx[i]] += g.len[i] * g.threadPx;
      },
      level(i) {
        const li = (cover[i] * lutStep + 0.5) | 0;
        return lut[li < lutMax ? li : lutMax];
      },
    };
  });
}

/** gifenc's GIFEncoder whether the module loader hands us its CommonJS exports or its ESM build. */
function gifEncoder(): ReturnType<typeof gifenc.GIFEncoder> {
  const mod = gifenc as unknown as { GIFEncoder?: typeof gifenc.GIFEncoder; default?: { GIFEncoder?: typeof gifenc.GIFEncoder } };
  const make = mod.GIFEncoder ?? mod.default?.GIFEncoder;
  if (!make) throw new Error('gifenc: GIFEncoder not found');
  return make();
}
