/**
 * plan.json: the planner's output and every later stage's input. Specified in docs/plan-format.md.
 * Coordinates in millimetres, origin at the board's top-left corner, y pointing down.
 */
export interface Plan {
  format: 'hookline-plan';
  version: 1;
  board: { widthMm: number; heightMm: number; frame: 'circle' | 'rect' };
  /** Every point a thread line starts or ends at. In version 1 each nail is one hook's centre. */
  nails: [number, number][];
  threadWidthMm: number;
  background: string;
  colors: string[];
  /** [colorIndex, fromNail, toNail] in placement order, bottom first. Consecutive lines share a nail. */
  lines: [number, number, number][];
  source: { file: string; crop: [number, number, number, number] };
  /**
   * Optional, colour plans: the pause events, one per run of one colour (derived from `lines`):
   * before lines[line] load colour `color`, tied on at nail `hook` (where the previous run ended).
   */
  colorChanges?: { line: number; color: number; hook: number }[];
  /** How the plan was made (planner name, options, seed); informational. */
  planner?: Record<string, unknown>;
}

/** The ordered nail path the thread follows: the first line's start, then every line's end. */
export function planPath(plan: Plan): number[] {
  if (plan.lines.length === 0) return [];
  const path = [plan.lines[0][1]];
  for (const l of plan.lines) path.push(l[2]);
  return path;
}
