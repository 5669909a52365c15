import { rasterHeight } from './frame';
import { planGreedy } from './greedy';
import { centreCrop, loadGrey, probeImage } from './image';
import { defaultMinGap, layoutHooks, type Board } from './layout';
import type { Plan } from './types';

export interface MonoOptions {
  image: string;
  hooks: number;
  lines: number;
  boardMm: number;
  threadMm: number;
  frame: Board['frame'];
  seed: number;
  /** Planner raster width in px across the board; 512 = the quality metric's grid. */
  workingPx?: number;
}

export interface MonoResult {
  plan: Plan;
  stoppedEarly: boolean;
}

export const MONO_PLANNER = 'greedy-mono';

/** Everything `hookline plan` does short of writing files: load, lay out hooks, plan, assemble. */
export async function makeMonoPlan(o: MonoOptions): Promise<MonoResult> {
  const board: Board = { widthMm: o.boardMm, heightMm: o.boardMm, frame: o.frame };
  const src = await probeImage(o.image);
  const crop = centreCrop(src.width, src.height, board.widthMm / board.heightMm);
  const width = o.workingPx ?? 512;
  const height = rasterHeight(board, width);
  const grey = await loadGrey(o.image, crop, width, height);
  const target = new Float32Array(grey.data.length);
  for (let i = 0; i < target.length; i++) target[i] = 1 - grey.data[i]; // black thread on white
  const layout = layoutHooks(board, o.hooks);
  const sx = width / board.widthMm;
  const sy = height / board.heightMm;
  const minGap = defaultMinGap(o.hooks);
  const result = planGreedy({
    target, width, height,
    hooks: layout.nails.map(([x, y]) => [x * sx, y * sy]),
    threadPx: o.threadMm * (sx + sy) / 2,
    lines: o.lines,
    minGap,
    sides: board.frame === 'rect' ? layout.sides : undefined,
    seed: o.seed,
  });
  const lines: [number, number, number][] = [];
  for (let i = 1; i < result.path.length; i++) lines.push([0, result.path[i - 1], result.path[i]]);
  const plan: Plan = {
    format: 'hookline-plan',
    version: 1,
    board,
    nails: layout.nails.map(([x, y]) => [round3(x), round3(y)]),
    threadWidthMm: o.threadMm,
    background: '#ffffff',
    colors: ['#000000'],
    lines,
    source: { file: o.image, crop },
    planner: {
      name: MONO_PLANNER,
      hooks: o.hooks,
      linesRequested: o.lines,
      seed: o.seed,
      minGap,
      workingPx: width,
      stoppedEarly: result.stoppedEarly,
    },
  };
  return { plan, stoppedEarly: result.stoppedEarly };
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
