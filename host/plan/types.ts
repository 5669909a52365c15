/**
 * plan.json: the planner's output and every later stage's input. Specified in docs/plan-format.md.
 * Coordinates in millimetres, origin at the board's top-left corner, y pointing down.
 */
export interface Plan {
  format: 'hookline-plan';
  /** 1: nails are hook centres; 2: nails are hook flanks (`flanks: 2`). */
  version: 1 | 2;
  board: { widthMm: number; heightMm: number; frame: 'circle' | 'rect' };
  /**
   * Every point a thread line starts or ends at. Version 1: each nail is one hook's centre.
   * Version 2 (flanks: 2): nails 2h and 2h+1 are the counter-clockwise and clockwise flanks of
   * hook h (its centre is their midpoint). A line ends on the flank the thread arrives on; the
   * thread winds round the hook and the next line leaves from the other flank (nail ^ 1).
   */
  nails: [number, number][];
  /** 2 when the nails are hook flanks (version 2); absent for hook centres. */
  flanks?: 2;
  /** Version 2: the hook diameter the flanks were placed for, mm. */
  hookDiameterMm?: number;
  threadWidthMm: number;
  background: string;
  colors: string[];
  /** [colorIndex, fromNail, toNail] in placement order, bottom first. Consecutive lines share a nail (flanked: fromNail = previous toNail ^ 1). */
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

/**
 * The ordered nail path the thread follows: the first line's start, then every line's end. For a
 * flanked plan, the flanks the thread *arrives* on (it leaves each hook from the other flank): the
 * start is the first line's start flank ^ 1. This is what the stream carries.
 */
export function planPath(plan: Plan): number[] {
  if (plan.lines.length === 0) return [];
  const path = [plan.flanks === 2 ? plan.lines[0][1] ^ 1 : plan.lines[0][1]];
  for (const l of plan.lines) path.push(l[2]);
  return path;
}

/** Nails per hook: 2 for a flanked plan (version 2), else 1. */
export function nailsPerHook(plan: Pick<Plan, 'flanks'>): 1 | 2 {
  return plan.flanks === 2 ? 2 : 1;
}

/** The physical hooks: their count and centres (a flanked plan's hook centre is its flanks' midpoint). */
export function planHooks(plan: Pick<Plan, 'flanks' | 'nails'>): [number, number][] {
  if (plan.flanks !== 2) return plan.nails;
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < plan.nails.length; i += 2) {
    const a = plan.nails[i];
    const b = plan.nails[i + 1];
    out.push([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
  }
  return out;
}
