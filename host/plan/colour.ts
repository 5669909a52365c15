import sharp from 'sharp';
import { UserError } from '../errors';
import { seededRandom } from '../rng';
import { frameMask } from './frame';
import { DEFAULT_PAIR_SHORTLIST, DEFAULT_SHORTLIST } from './greedy';
import { halve } from './residual';
import { MAX_INPUT_PIXELS } from './image';
import { defaultMinGap, flankNails, type Board } from './layout';
import { DEFAULT_HOOK_MM, boardSetup, type PlanOptions } from './make';
import { UnderModel } from './colour-model';
import { Shortlist } from './shortlist';
import type { Plan } from './types';

/** A few CSS colour names accepted wherever a colour is given (besides #rgb and #rrggbb). */
const NAMED: Record<string, string> = {
  black: '#000000', white: '#ffffff', red: '#ff0000', green: '#008000', blue: '#0000ff',
  yellow: '#ffff00', orange: '#ffa500', grey: '#808080', gray: '#808080', brown: '#a52a2a',
  navy: '#000080', cyan: '#00ffff', magenta: '#ff00ff', purple: '#800080', pink: '#ffc0cb',
};

/** "#rgb", "#rrggbb" or a colour name → "#rrggbb" (lower case); a one-line UserError otherwise. */
export function parseColour(raw: string, flag: string): string {
  const s = raw.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(s)) return s;
  if (/^#[0-9a-f]{3}$/.test(s)) return `#${s[1]}${s[1]}${s[2]}${s[2]}${s[3]}${s[3]}`;
  if (NAMED[s]) return NAMED[s];
  throw new UserError(`--${flag}: '${raw.trim()}' is not a colour; give #rrggbb (e.g. #d0803c) or a name like black, white, orange`);
}

export function hexToRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

function rgbToHex(r: number, g: number, b: number): string {
  const c = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255).toString(16).padStart(2, '0');
  return `#${c(r)}${c(g)}${c(b)}`;
}

/** Rec. 709 luminance of a colour (gamma-encoded values), for "dark on top". */
export function lum(hex: string): number {
  const [r, g, b] = hexToRgb(hex);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export interface RgbImage { data: Float32Array; width: number; height: number }

/** `file`'s `crop` as sRGB 0..1, outW×outH, 3 floats a pixel (transparency flattened onto white). */
export async function loadRgb(file: string, crop: [number, number, number, number], outW: number, outH: number): Promise<RgbImage> {
  const [cx, cy, cw, ch] = crop;
  try {
    const out = await sharp(file, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .extract({ left: cx, top: cy, width: cw, height: ch })
      .resize(outW, outH, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const chn = out.info.channels;
    const data = new Float32Array(outW * outH * 3);
    for (let p = 0; p < outW * outH; p++) {
      for (let k = 0; k < 3; k++) data[p * 3 + k] = out.data[p * chn + (chn >= 3 ? k : 0)] / 255;
    }
    return { data, width: outW, height: outH };
  } catch (e) {
    throw new UserError(`cannot read image ${file}: ${String((e as Error)?.message ?? e).split('\n')[0].trim()}`);
  }
}

// ---- CIELAB and k-means (--colors K) ----

function lin(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}
function unlin(v: number): number {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

/** sRGB 0..1 → CIELAB (D65). */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const R = lin(r), G = lin(g), B = lin(b);
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f(x), fy = f(y), fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

export function labToRgb(L: number, a: number, bb: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - bb / 200;
  const inv = (t: number) => (t * t * t > 216 / 24389 ? t * t * t : (116 * t - 16) / (24389 / 27));
  const x = inv(fx) * 0.95047, y = inv(fy), z = inv(fz) * 1.08883;
  const R = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const G = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const B = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  return [unlin(Math.min(1, Math.max(0, R))), unlin(Math.min(1, Math.max(0, G))), unlin(Math.min(1, Math.max(0, B)))];
}

/**
 * K thread colours from the image: k-means (k-means++ seeding from `seed`, 20 Lloyd iterations)
 * in CIELAB over the pixels inside `mask`, excluding pixels near the background (the board shows
 * those without thread). Sorted dark to light. Deterministic for a seed.
 */
export function kmeansPalette(img: RgbImage, mask: Uint8Array, k: number, background: string, seed: number): string[] {
  const bgLab = rgbToLab(...hexToRgb(background));
  const pts: number[] = [];
  for (let p = 0; p < img.width * img.height; p += 2) { // every other pixel: plenty, half the time
    if (!mask[p]) continue;
    const lab = rgbToLab(img.data[p * 3], img.data[p * 3 + 1], img.data[p * 3 + 2]);
    if (dist2(lab, bgLab) < 100) continue; // ΔE < 10: board colour
    pts.push(lab[0], lab[1], lab[2]);
  }
  const n = pts.length / 3;
  if (n < k) throw new UserError(`--colors ${k}: the image has too few pixels that differ from the background; give a smaller --colors or a --palette`);
  const rand = seededRandom(seed);
  const cent: number[][] = [];
  const d = new Float64Array(n).fill(Infinity);
  const first = Math.floor(rand() * n);
  cent.push([pts[first * 3], pts[first * 3 + 1], pts[first * 3 + 2]]);
  while (cent.length < k) {
    const c = cent[cent.length - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const e = (pts[i * 3] - c[0]) ** 2 + (pts[i * 3 + 1] - c[1]) ** 2 + (pts[i * 3 + 2] - c[2]) ** 2;
      if (e < d[i]) d[i] = e;
      total += d[i];
    }
    let r = rand() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d[i];
      if (r <= 0) { pick = i; break; }
    }
    cent.push([pts[pick * 3], pts[pick * 3 + 1], pts[pick * 3 + 2]]);
  }
  const sums = new Float64Array(k * 4);
  for (let it = 0; it < 20; it++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0, bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const e = (pts[i * 3] - cent[j][0]) ** 2 + (pts[i * 3 + 1] - cent[j][1]) ** 2 + (pts[i * 3 + 2] - cent[j][2]) ** 2;
        if (e < bestD) { bestD = e; best = j; }
      }
      sums[best * 4] += pts[i * 3];
      sums[best * 4 + 1] += pts[i * 3 + 1];
      sums[best * 4 + 2] += pts[i * 3 + 2];
      sums[best * 4 + 3]++;
    }
    for (let j = 0; j < k; j++) {
      const c = sums[j * 4 + 3];
      if (c > 0) cent[j] = [sums[j * 4] / c, sums[j * 4 + 1] / c, sums[j * 4 + 2] / c];
    }
  }
  const hexes = cent.map((c) => rgbToHex(...labToRgb(c[0], c[1], c[2])));
  return [...new Set(hexes)].sort((a, b) => lum(a) - lum(b));
}

function dist2(a: number[], b: number[]): number {
  return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
}

// ---- decomposition ----

/**
 * Per-colour targets: Floyd–Steinberg error diffusion (serpentine, in sRGB 0..1, the metric's
 * space) of the image onto palette + background, then each colour's indicator box-blurred
 * (radius `blur`) into the fraction of each pixel that should show that colour.
 */
export function ditherTargets(img: RgbImage, palette: string[], background: string, blur = 1): Float32Array[] {
  const { width: w, height: h } = img;
  const which = ditherIndex(img, palette, background);
  return palette.map((_, c) => {
    const ind = new Float32Array(w * h);
    for (let p = 0; p < w * h; p++) ind[p] = which[p] === c ? 1 : 0;
    return boxBlur(ind, w, h, blur);
  });
}

function ditherIndex(img: RgbImage, palette: string[], background: string): Uint8Array {
  const { width: w, height: h } = img;
  const cols = [...palette, background].map(hexToRgb);
  const work = Float32Array.from(img.data);
  const which = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const ltr = (y & 1) === 0;
    for (let i = 0; i < w; i++) {
      const x = ltr ? i : w - 1 - i;
      const p = y * w + x;
      const r = work[p * 3], g = work[p * 3 + 1], b = work[p * 3 + 2];
      let best = 0, bestD = Infinity;
      for (let j = 0; j < cols.length; j++) {
        const e = (r - cols[j][0]) ** 2 + (g - cols[j][1]) ** 2 + (b - cols[j][2]) ** 2;
        if (e < bestD) { bestD = e; best = j; }
      }
      which[p] = best;
      const er = r - cols[best][0], eg = g - cols[best][1], eb = b - cols[best][2];
      const dx = ltr ? 1 : -1;
      const spread = (xx: number, yy: number, f: number) => {
        if (xx < 0 || xx >= w || yy >= h) return;
        const q = (yy * w + xx) * 3;
        work[q] += er * f;
        work[q + 1] += eg * f;
        work[q + 2] += eb * f;
      };
      spread(x + dx, y, 7 / 16);
      spread(x - dx, y + 1, 3 / 16);
      spread(x, y + 1, 5 / 16);
      spread(x + dx, y + 1, 1 / 16);
    }
  }
  return which;
}

function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  if (r <= 0) return src;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, c = 0;
      for (let i = Math.max(0, x - r); i <= Math.min(w - 1, x + r); i++) { s += src[y * w + i]; c++; }
      tmp[y * w + x] = s / c;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, c = 0;
      for (let j = Math.max(0, y - r); j <= Math.min(h - 1, y + r); j++) { s += tmp[j * w + x]; c++; }
      out[y * w + x] = s / c;
    }
  }
  return out;
}

// ---- layering ----

/**
 * Group sizes taper from the top (first found) group down (groupSchedule). Measured at the bench
 * settings (4 cycles), chelsea / coffee RGB RMSE: even split 0.1765 / 0.2867, taper 0.45 0.1756 /
 * 0.2854, 0.75 0.1751 / 0.2844, 0.9 0.1748 / 0.2839, 0.99 0.1746 / 0.2835; reversed (−0.45) 0.1780 / 0.2894.
 */
export const GROUP_TAPER = 0.9;

/**
 * The groups in the order they are found (the reverse of placement): [colour, lines][].
 * Default: `groups` cycles, each cycle the colours darkest first (so, reversed, dark ends on top
 * and light lowest). With `order` (0-based colour indices, found order) instead. A colour's budget
 * is split over its occurrences tapering linearly from 1 + taper (found first, on top) to
 * 1 − taper (found last, lowest): top groups are seen whole, lower ones partly hidden.
 */
export function groupSchedule(palette: string[], budgets: number[], groups: number, order?: number[], taper = GROUP_TAPER): [number, number][] {
  let seq: number[];
  if (order) {
    seq = order;
  } else {
    const byDark = palette.map((_, i) => i).sort((a, b) => lum(palette[a]) - lum(palette[b]) || a - b);
    seq = [];
    for (let g = 0; g < groups; g++) seq.push(...byDark);
  }
  const occ = palette.map((_, c) => seq.filter((s) => s === c).length);
  const seen = palette.map(() => 0);
  return seq.map((c) => {
    const k = seen[c]++;
    const half = (occ[c] - 1) / 2;
    const wt = (i: number) => (half > 0 ? 1 - taper * ((i - half) / half) : 1);
    let before = 0, total = 0;
    for (let i = 0; i < occ[c]; i++) { total += wt(i); if (i < k) before += wt(i); }
    const lines = Math.floor((budgets[c] * (before + wt(k))) / total) - Math.floor((budgets[c] * before) / total);
    return [c, lines] as [number, number];
  }).filter(([, n]) => n > 0);
}

/**
 * `total` split by `shares` (summing to 1) into whole numbers that add up to exactly `total`:
 * floors, then the largest remainders get one more (Math.round of each share drifted: 2400 lines
 * in 12 colours gave 2401).
 */
export function splitExact(total: number, shares: number[]): number[] {
  const exact = shares.map((s) => total * s);
  const out = exact.map((v) => Math.floor(v));
  let left = total - out.reduce((s, v) => s + v, 0);
  const byRemainder = exact.map((v, i) => i).sort((a, b) => (exact[b] - out[b]) - (exact[a] - out[a]) || a - b);
  for (let k = 0; left > 0 && k < byRemainder.length; k++, left--) out[byRemainder[k]]++;
  return out;
}

// ---- planner ----

export interface ColourOptions extends PlanOptions {
  /** Thread colours "#rrggbb"; or chosen from the image with `colors`. */
  palette?: string[];
  colors?: number;
  background: string;
  /** Lines per colour; default: a 4500-line total split by each colour's share of the dithered image. */
  linesPerColor?: number[];
  /** Total for the automatic split (default DEFAULT_COLOUR_LINES). */
  totalLines?: number;
  groups: number;
  /** Explicit group order, 0-based colour indices, found order (first = on top). */
  order?: number[];
  /** Before planning: the board, the plan's nails (mm), the palette and the picture the planner matches (sRGB 0..1, working raster). */
  onColourSetup?: (s: { board: Board; nails: [number, number][]; palette: string[]; rgb: RgbImage }) => void;
  /**
   * While planning, now and then: the lines found so far as [colour, from, to], in the order found
   * (found[from..] are new since the last call). The plan places them reversed (the first found on top).
   */
  onFound?: (found: readonly [number, number, number][], from: number) => void;
}

export const COLOUR_PLANNER = 'greedy-colour';
export const DEFAULT_COLOUR_LINES = 4500;

export interface ColourResult {
  plan: Plan;
  /** Fewer lines than the budgets: no line left that improves the picture. */
  stoppedEarly: boolean;
}

/**
 * Colour plan: dithered per-colour targets, then one continuous path found greedily group by group
 * (each colour with its own picture model, as the monochrome greedy: coarse ranking, exact
 * shortlist), starting each group where the previous group ended; the found sequence is then
 * reversed into placement order, so the first-found (most important) lines lie on top.
 */
export async function makeColourPlan(o: ColourOptions): Promise<ColourResult> {
  const { board, nails: hooks, sides: hookSides, crop, width, height } = await boardSetup(o);
  // Flanks (docs/plan-format.md): nails 2h, 2h+1 are hook h's sides; a line leaves the hook from the
  // flank opposite the one it arrived on.
  const flanks = o.flanks ?? 2;
  const pairs = flanks === 2;
  const nails = pairs ? flankNails(hooks, board, hookSides, (o.hookMm ?? DEFAULT_HOOK_MM) / 2 + o.threadMm / 2) : hooks;
  const sides = pairs && hookSides ? Int8Array.from(nails, (_, i) => hookSides[i >> 1]) : hookSides;
  const n = nails.length;
  const hookCount = hooks.length;
  const hookShift = pairs ? 1 : 0;
  const out = pairs ? (v: number) => v ^ 1 : (v: number) => v;
  const img = await loadRgb(o.image, crop, width, height);
  let palette = o.palette;
  if (!palette) {
    palette = kmeansPalette(img, frameMask(board, width, height), o.colors ?? 3, o.background, o.seed);
  }
  o.onColourSetup?.({ board, nails, palette, rgb: img });
  const sx = width / board.widthMm;
  const sy = height / board.heightMm;
  const xs = Float64Array.from(nails, (p) => p[0] * sx);
  const ys = Float64Array.from(nails, (p) => p[1] * sy);
  const threadPx = o.threadMm * (sx + sy) / 2;
  const maxGap = Math.floor((hookCount - 1) / 2);
  const minGap = o.minGap ?? defaultMinGap(hookCount);
  if (minGap > maxGap) throw new UserError(`--min-gap: ${minGap} leaves no allowed line with ${hookCount} hooks; give at most ${Math.max(1, maxGap)}`);
  let budgets = o.linesPerColor;
  if (!budgets) {
    const share = ditherTargets(img, palette, o.background, 0).map((t) => t.reduce((s, v) => s + v, 0) + 1e-9);
    const total = share.reduce((s, v) => s + v, 0);
    budgets = splitExact(o.totalLines ?? DEFAULT_COLOUR_LINES, share.map((s) => s / total));
  }
  const autoSplit = !o.linesPerColor;
  const schedule = groupSchedule(palette, budgets, o.groups, o.order);
  // One RGB model composited front to back in the true placement order: each line is chosen against
  // what the lines above it and the other colours leave (colour-model.ts). Two alternatives measured
  // worse and were removed (docs/plan-format.md, "Colour plans").
  const model = new UnderModel(img.data, width, height, xs, ys, threadPx, palette.map(hexToRgb), hexToRgb(o.background));
  // Candidates are ranked on a half-resolution copy of the model (a quarter of the pixels), as in
  // the monochrome planner; the shortlist is scored on the full raster.
  const half = halveRgb(img.data, width, height);
  const hs = half.width / width;
  const coarse = new UnderModel(half.data, half.width, half.height, xs.map((v) => v * hs), ys.map((v) => v * hs), threadPx * hs, palette.map(hexToRgb), hexToRgb(o.background));
  const used = palette.map(() => new Uint8Array(n * n));
  const side = sides ?? new Int8Array(n).fill(-1);
  const shortlist = DEFAULT_SHORTLIST;
  const top = new Shortlist(shortlist);
  const pairTop = new Shortlist(DEFAULT_PAIR_SHORTLIST);
  const rand = seededRandom(o.seed);
  const rough = new Float64Array(n);
  const cand = new Int32Array(n);
  const totalLines = schedule.reduce((s, [, k]) => s + k, 0);
  const progress = o.onProgress ?? (() => {});
  const start = Math.floor(rand() * n);
  let at = out(start);
  const at0 = at; // where the found path's first line starts
  const found: [number, number, number][] = []; // found order: [colour, from, to]
  let carry = 0;
  let sent = 0; // found lines handed to onLines
  for (let g = 0; g < schedule.length; g++) {
    const c = schedule[g][0];
    const count = schedule[g][1] + carry;
    carry = 0;
    const usedC = used[c];
    let step = 0;
    for (; step < count; step++) {
      if ((found.length & 63) === 0) progress(found.length / Math.max(1, totalLines));
      const offset = Math.floor(rand() * n);
      let k = 0;
      for (let i = 0; i < n; i++) {
        const to = offset + i < n ? offset + i : offset + i - n;
        if (to === at) continue;
        const ring = Math.abs((at >> hookShift) - (to >> hookShift));
        if (Math.min(ring, hookCount - ring) < minGap) continue;
        if (side[at] >= 0 && side[at] === side[to]) continue;
        if (usedC[at * n + to]) continue;
        cand[k++] = to;
      }
      if (k === 0) break;
      // Coarse first-order ranking (flanks: one flank per hook, then both flanks of the best
      // hooks, as the monochrome planner), then the `shortlist` best scored exactly.
      top.clear();
      if (pairs && k > 2 * DEFAULT_PAIR_SHORTLIST) {
        pairTop.clear();
        for (let i = 0; i < k; i++) {
          const to = cand[i];
          if ((to & 1) === 0 || usedC[at * n + (to ^ 1)] === 1) pairTop.offer(coarse.rank(c, at, to), to);
        }
        for (let j = 0; j < pairTop.size; j++) {
          const h = pairTop.ids[j] >> 1;
          for (let f = 2 * h; f <= 2 * h + 1; f++) if (!usedC[at * n + f]) top.offer(coarse.rank(c, at, f), f);
        }
      } else {
        for (let i = 0; i < k; i++) rough[cand[i]] = coarse.rank(c, at, cand[i]);
        for (let i = 0; i < k; i++) top.offer(rough[cand[i]], cand[i]);
      }
      let best = -1, bestGain = -Infinity;
      for (let t = 0; t < top.size; t++) {
        const to = top.ids[t];
        const g = model.gain(c, at, to);
        if (g > bestGain) { bestGain = g; best = to; }
      }
      if (bestGain <= 0) break; // this colour has nothing useful left from here
      model.apply(c, at, best);
      coarse.apply(c, at, best);
      usedC[at * n + best] = usedC[best * n + at] = 1;
      found.push([c, at, best]);
      at = out(best);
      if (o.onFound && (found.length & 7) === 0) {
        o.onFound(found, sent);
        sent = found.length;
      }
    }
    // A group that ran out of useful lines passes the rest on, so the totals stay exact: to the
    // colour's next group; after its last, with an automatic split, to the next group of any colour.
    const short = count - step;
    if (short > 0) {
      const next = schedule.findIndex(([cc], j) => j > g && cc === c);
      if (next >= 0) schedule[next][1] += short;
      else if (autoSplit) carry = short;
    }
  }
  progress(1);
  // Placement order: the found sequence reversed (each line reversed too, so the path stays continuous).
  const lines: [number, number, number][] = found.reverse().map(([c, a, b]) => [c, b, a]);
  const colorChanges: { line: number; color: number; hook: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (i === 0 || lines[i][0] !== lines[i - 1][0]) colorChanges.push({ line: i, color: lines[i][0], hook: lines[i][1] });
  }
  const plan: Plan = {
    format: 'hookline-plan',
    version: pairs ? 2 : 1,
    board,
    nails: nails.map(([x, y]) => [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000]),
    ...(pairs ? { flanks: 2 as const, hookDiameterMm: o.hookMm ?? DEFAULT_HOOK_MM } : {}),
    threadWidthMm: o.threadMm,
    background: o.background,
    colors: palette,
    lines,
    source: { file: o.image, crop },
    colorChanges,
    planner: {
      name: COLOUR_PLANNER,
      hooks: hookCount,
      linesPerColor: budgets,
      linesPlaced: palette.map((_, c) => lines.filter((l) => l[0] === c).length),
      groups: o.order ? o.order.length : o.groups,
      ...(o.order ? { order: o.order.map((c) => c + 1) } : {}),
      ...(o.colors && !o.palette ? { colorsChosen: o.colors } : {}),
      seed: o.seed,
      minGap,
      workingPx: width,
      foundStart: at0,
      ...(o.layout ? { layout: o.layout } : {}),
    },
  };
  const asked = budgets.reduce((s, v) => s + v, 0);
  colourWarnings(plan, autoSplit, o.onWarning);
  return { plan, stoppedEarly: lines.length < asked };
}

/** A colour with fewer lines than this share of the plan (and than MIN_COLOUR_LINES) hardly shows. */
export const MIN_COLOUR_SHARE = 0.02;
export const MIN_COLOUR_LINES = 20;
/**
 * Fewer lines than this per colour change: the changes by hand (cut, tie on, about a minute each)
 * take longer than the stringing between them (~2.5 s a line on the reference gantry).
 */
export const MIN_LINES_PER_CHANGE = 25;

/** Warnings about an automatic split: colours that hardly show, too many thread changes. */
export function colourWarnings(plan: Plan, autoSplit: boolean, warn?: (text: string) => void): void {
  if (!warn) return;
  const n = plan.lines.length;
  if (autoSplit) {
    const counts = plan.colors.map((_, c) => plan.lines.filter((l) => l[0] === c).length);
    const few = counts.map((k, c) => [k, c]).filter(([k]) => k < Math.min(MIN_COLOUR_LINES, MIN_COLOUR_SHARE * n) || k === 0);
    if (few.length) {
      warn(`${few.length} of ${plan.colors.length} colours get almost no lines (${few.map(([k, c]) => `${plan.colors[c]}: ${k}`).join(', ')} of ${n}); use fewer --colors, a --palette, or --lines-per-color`);
    }
  }
  const changes = Math.max(0, (plan.colorChanges?.length ?? 0) - 1);
  if (changes > 0 && n / changes < MIN_LINES_PER_CHANGE) {
    warn(`${n} lines with ${changes} colour changes (one every ${Math.round(n / changes)} lines), each a thread change by hand; use fewer --groups, fewer colours or more lines`);
  }
}

/** An interleaved RGB raster at half resolution (each channel box-filtered like `halve`). */
function halveRgb(rgb: Float32Array, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const P = width * height;
  const channels = [0, 1, 2].map((k) => halve(Float32Array.from({ length: P }, (_, p) => rgb[p * 3 + k]), width, height));
  const { width: w, height: h } = channels[0];
  const data = new Float32Array(w * h * 3);
  for (let p = 0; p < w * h; p++) for (let k = 0; k < 3; k++) data[p * 3 + k] = channels[k].data[p];
  return { data, width: w, height: h };
}
