import { readFileSync } from 'node:fs';
import { UserError, fsErrorText } from '../errors';
import { rasterHeight } from './frame';
import { planChordSet } from './chord-set';
import { planGreedy, DEFAULT_PASSES, DEFAULT_SHORTLIST } from './greedy';
import { centreCrop, loadGrey, probeImage } from './image';
import { checkCustomLayout, defaultMinGap, flankNails, hookFitProblem, layoutHooks, type Board } from './layout';
import type { Plan } from './types';

/** What every planner is asked for: the picture, the board and its hooks, the thread, the seed. */
export interface PlanOptions {
  image: string;
  hooks: number;
  boardMm: number;
  threadMm: number;
  frame: Board['frame'];
  seed: number;
  /** hooks.json with custom hook positions (replaces `hooks`, and the board when it names one). */
  layout?: string;
  /** Smallest ring distance (in hook indices) a line may join; default ~5 % of the hooks. */
  minGap?: number;
  /** Nails per hook: 2 = the thread touches each hook on a chosen flank (default), 1 = hook centres. */
  flanks?: 1 | 2;
  /** Hook diameter in mm (the flanks are its radius plus half the thread from the centre); default 2. */
  hookMm?: number;
  /** Planner raster width in px across the board; 512 = the quality metric's grid. */
  workingPx?: number;
  onProgress?: (fraction: number) => void;
  /** One-line warnings about the result (host/warnings.ts); default: none. */
  onWarning?: (text: string) => void;
}

export interface MonoOptions extends PlanOptions {
  /** A line count, or 'auto': until another line no longer improves the picture. */
  lines: number | 'auto';
  /** Greyscale mask (any size, centre-cropped like the image): white = detail matters (weight 3), black = weight 0.1. */
  importance?: string;
  /** Target preprocessing: grey' = clamp(0.5 + contrast·(grey − 0.5)) ^ gamma. Defaults 1, 1. */
  contrast?: number;
  gamma?: number;
  passes?: number;
  shortlist?: number;
  overlap?: number;
  ranking?: 'fine' | 'coarse';
  /** 'set': choose the chords, then thread them (planChordSet); 'path': greedy along the thread (planGreedy). */
  method?: 'path' | 'set';
  /** Before planning: the board, the plan's nails (mm) and the planner's target darkness (0..1, working raster). */
  onSetup?: (s: { board: Board; nails: [number, number][]; target: Float32Array; width: number; height: number }) => void;
  /** While planning, now and then: lines chosen so far, as plan lines (lines[from..] are new since the last call). */
  onLines?: (lines: [number, number, number][], from: number) => void;
}

export interface MonoResult {
  plan: Plan;
  stoppedEarly: boolean;
  /** The planner's modelled darkness, working raster (workingPx across the board). */
  darkness: { data: Float32Array; width: number; height: number };
}

export const MONO_PLANNER = 'greedy-mono';
/** planner.name of `--method set` plans (planChordSet). */
export const CHORD_SET_PLANNER = 'chord-set-mono';
/** Hook diameter when --hook-mm is not given: the reference machines' 2 mm hooks. */
export const DEFAULT_HOOK_MM = 2;
/** Below this share of the image's area kept by the centre crop, `plan` warns (16:9 on a square keeps 56 %). */
export const MIN_CROP_SHARE = 0.5;

/** What every planner starts from: the board, its hooks (laid out or from --layout; rect frames
 * also say which side each hook is on), the source crop and the working raster size. */
export async function boardSetup(o: PlanOptions) {
  let board: Board = { widthMm: o.boardMm, heightMm: o.boardMm, frame: o.frame };
  let nails: [number, number][];
  let sides: Int8Array | undefined;
  if (o.layout) {
    const custom = loadLayout(o.layout, board);
    board = custom.board;
    nails = custom.nails;
  } else {
    const layout = layoutHooks(board, o.hooks);
    nails = layout.nails;
    if (board.frame === 'rect') sides = layout.sides;
  }
  // Physically possible: hooks that do not overlap, with room for the thread between them.
  const hookMm = (o.flanks ?? 2) === 2 || o.hookMm !== undefined ? (o.hookMm ?? DEFAULT_HOOK_MM) : 0;
  const fit = hookFitProblem(nails, hookMm, o.threadMm);
  if (fit) {
    const where = o.layout ? `layout ${o.layout}` : `${nails.length} hooks on a ${board.widthMm} mm ${board.frame} board`;
    throw new UserError(`${where}: ${fit}; use fewer hooks, a bigger board, a smaller --hook-mm or a thinner --thread-mm`);
  }
  const src = await probeImage(o.image);
  const crop = centreCrop(src.width, src.height, board.widthMm / board.heightMm);
  const kept = (crop[2] * crop[3]) / (src.width * src.height);
  if (kept < MIN_CROP_SHARE) {
    o.onWarning?.(`${o.image} is ${src.width}×${src.height} px; the ${board.widthMm}×${board.heightMm} mm board shows only its centre ${Math.round(crop[2])}×${Math.round(crop[3])} px (${Math.round(kept * 100)} % of the image): crop the image to the board's shape first`);
  }
  const width = o.workingPx ?? 512;
  return { board, nails, sides, crop, width, height: rasterHeight(board, width) };
}

/** Everything `hookline plan` does short of writing files: load, lay out hooks, plan, assemble. */
export async function makeMonoPlan(o: MonoOptions): Promise<MonoResult> {
  const { board, nails: hooks, sides: hookSides, crop, width, height } = await boardSetup(o);
  const hookCount = hooks.length;
  const flanks = o.flanks ?? 2;
  const nails = flanks === 2 ? flankNails(hooks, board, hookSides, (o.hookMm ?? DEFAULT_HOOK_MM) / 2 + o.threadMm / 2) : hooks;
  const sides = flanks === 2 && hookSides ? Int8Array.from(nails, (_, i) => hookSides[i >> 1]) : hookSides;
  const grey = await loadGrey(o.image, crop, width, height);
  const contrast = o.contrast ?? 1;
  const gamma = o.gamma ?? 1;
  const target = new Float32Array(grey.data.length);
  for (let i = 0; i < target.length; i++) {
    let g = grey.data[i];
    if (contrast !== 1) g = Math.min(1, Math.max(0, 0.5 + contrast * (g - 0.5)));
    if (gamma !== 1) g = Math.pow(g, gamma);
    target[i] = 1 - g; // black thread on white
  }
  let weight: Float32Array | undefined;
  if (o.importance) {
    const m = await probeImage(o.importance);
    const mask = await loadGrey(o.importance, centreCrop(m.width, m.height, board.widthMm / board.heightMm), width, height);
    weight = Float32Array.from(mask.data, (v) => 0.1 + 2.9 * v);
  }
  const sx = width / board.widthMm;
  const sy = height / board.heightMm;
  const maxGap = Math.floor((hookCount - 1) / 2);
  const minGap = o.minGap ?? defaultMinGap(hookCount);
  if (minGap > maxGap) throw new UserError(`--min-gap: ${minGap} leaves no allowed line with ${hookCount} hooks; give at most ${Math.max(1, maxGap)}`);
  const passes = o.passes ?? DEFAULT_PASSES;
  const shortlist = o.shortlist ?? DEFAULT_SHORTLIST;
  // Flanked: the thread arrives on one flank and leaves from the other (docs/plan-format.md, "Flanks").
  const leave = flanks === 2 ? (v: number) => v ^ 1 : (v: number) => v;
  o.onSetup?.({ board, nails, target, width, height });
  const onLines = o.onLines;
  const partial: [number, number, number][] = [];
  const onPath = onLines && ((path: readonly number[]) => {
    const from = partial.length;
    for (let i = from + 1; i < path.length; i++) partial.push([0, leave(path[i - 1]), path[i]]);
    if (partial.length > from) onLines(partial, from);
  });
  const method = o.method ?? 'path';
  const onChords = onLines && ((a: Int32Array, b: Int32Array, count: number) => {
    const from = partial.length;
    for (let i = from; i < count; i++) partial.push([0, a[i], b[i]]);
    if (partial.length > from) onLines(partial, from);
  });
  const result = (method === 'set' ? planChordSet : planGreedy)({
    onChords,
    target, width, height, weight,
    hooks: nails.map(([x, y]) => [x * sx, y * sy]),
    threadPx: o.threadMm * (sx + sy) / 2,
    lines: o.lines,
    minGap,
    flankPairs: flanks === 2,
    sides,
    seed: o.seed,
    passes,
    shortlist,
    overlap: o.overlap,
    ranking: o.ranking,
    onProgress: o.onProgress,
    onPath,
  });
  if (result.note) o.onWarning?.(result.note);
  const lines: [number, number, number][] = [];
  for (let i = 1; i < result.path.length; i++) lines.push([0, leave(result.path[i - 1]), result.path[i]]);
  const plan: Plan = {
    format: 'hookline-plan',
    version: flanks === 2 ? 2 : 1,
    board,
    nails: nails.map(([x, y]) => [round3(x), round3(y)]),
    ...(flanks === 2 ? { flanks: 2 as const, hookDiameterMm: o.hookMm ?? DEFAULT_HOOK_MM } : {}),
    threadWidthMm: o.threadMm,
    background: '#ffffff',
    colors: ['#000000'],
    lines,
    source: { file: o.image, crop },
    planner: {
      name: method === 'set' ? CHORD_SET_PLANNER : MONO_PLANNER,
      hooks: hookCount,
      linesRequested: o.lines,
      seed: o.seed,
      minGap,
      workingPx: width,
      shortlist,
      ...(method === 'set' ? { chordsReplaced: result.replaced } : { passes, hooksMoved: result.replaced }),
      ...(o.layout ? { layout: o.layout } : {}),
      ...(o.importance ? { importance: o.importance } : {}),
      ...(contrast !== 1 ? { contrast } : {}),
      ...(gamma !== 1 ? { gamma } : {}),
      stoppedEarly: result.stoppedEarly,
    },
  };
  return { plan, stoppedEarly: result.stoppedEarly, darkness: { data: result.darkness, width, height } };
}

/** Read and check hooks.json (see checkCustomLayout); problems are one-line UserErrors. */
export function loadLayout(file: string, fallback: Board): { board: Board; nails: [number, number][] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read layout ${file}: ${fsErrorText(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`layout ${file} is not valid JSON (${(e as Error).message}); see docs/plan-format.md`);
  }
  try {
    return checkCustomLayout(json, fallback);
  } catch (e) {
    throw new UserError(`layout ${file}: ${(e as Error).message}; see docs/plan-format.md`);
  }
}

/** Total thread length of the lines, hook centre to hook centre, in mm. */
export function threadLengthMm(plan: Pick<Plan, 'nails' | 'lines'>): number {
  let sum = 0;
  for (const [, a, b] of plan.lines) {
    const p = plan.nails[a];
    const q = plan.nails[b];
    sum += Math.hypot(q[0] - p[0], q[1] - p[1]);
  }
  return sum;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
