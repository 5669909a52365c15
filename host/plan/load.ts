import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { UserError, fsErrorText } from '../errors';
import { MAX_BOARD_MM, hookFitProblem } from './layout';
import { type Plan, planHooks } from './types';

export { MAX_PLAN_LINES, MAX_PLAN_HOOKS, MAX_PLAN_BYTES, MAX_THREAD_MM } from './limits';
import { MAX_PLAN_LINES, MAX_PLAN_HOOKS, MAX_PLAN_BYTES, MAX_THREAD_MM } from './limits';
/** Closer than this to the board (mm), a hook centre counts as on it (plan.json has 3 decimals). */
const ON_BOARD_MM = 0.01;

const hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like "#1a2b3c"');
const finite = z.number().finite();

const planSchema = z.object({
  format: z.literal('hookline-plan'),
  version: z.union([z.literal(1), z.literal(2)]),
  board: z.object({ widthMm: finite.min(1).max(MAX_BOARD_MM), heightMm: finite.min(1).max(MAX_BOARD_MM), frame: z.enum(['circle', 'rect']) }),
  nails: z.array(z.tuple([finite, finite])).min(2),
  threadWidthMm: finite.positive().max(MAX_THREAD_MM),
  background: hex,
  colors: z.array(hex).min(1).max(16),
  lines: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()])),
  source: z.object({ file: z.string(), crop: z.tuple([finite, finite, finite, finite]) }),
  flanks: z.literal(2).optional(),
  hookDiameterMm: finite.positive().max(MAX_BOARD_MM).optional(),
  planner: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/**
 * A plan another planner wrote, in the judge's format (../shared/bench/judge/README.md: board,
 * nails, threadWidthMm, background, colors, lines; no `format`, optional source.crop): scored, never
 * strung, so its lines need not form one continuous path.
 */
const foreignPlanSchema = z.object({
  board: z.object({ widthMm: finite.min(1).max(MAX_BOARD_MM), heightMm: finite.min(1).max(MAX_BOARD_MM) }).passthrough(),
  nails: z.array(z.tuple([finite, finite])).min(2),
  threadWidthMm: finite.positive().max(MAX_THREAD_MM),
  background: hex.default('#ffffff'),
  colors: z.array(hex).min(1).max(16),
  lines: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()])),
  source: z.object({ crop: z.tuple([finite, finite, finite, finite]).optional() }).passthrough().optional(),
}).passthrough();

/** What `hookline score` reads: a hookline plan.json (checked in full) or another planner's plan in the judge's format. */
export type ScorablePlan = Pick<Plan, 'board' | 'nails' | 'threadWidthMm' | 'background' | 'colors' | 'lines'> & {
  source?: { crop?: [number, number, number, number] };
};

/** Read a plan to score: hookline's plan.json (loadPlan) or a converted one without `format`. */
export function loadScorablePlan(path: string): ScorablePlan {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_PLAN_BYTES) throw new UserError(`${path} is ${(size / 1024 / 1024).toFixed(0)} MB, larger than any plan of at most ${MAX_PLAN_LINES} lines; see docs/plan-format.md, Limits`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read plan ${path}: ${fsErrorText(e)}; give a plan.json`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not valid JSON (${(e as Error).message}); give a plan.json`);
  }
  if (json !== null && typeof json === 'object' && 'format' in json) return validatePlan(json, path);
  const raw = json as { lines?: unknown } | null;
  if (raw !== null && typeof raw === 'object' && Array.isArray(raw.lines) && raw.lines.length > MAX_PLAN_LINES) {
    throw new UserError(`${path}: field lines: ${raw.lines.length} lines, more than the ${MAX_PLAN_LINES} a plan may have; see docs/plan-format.md, Limits`);
  }
  const r = foreignPlanSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`${path}: field ${field}: ${issue.message}; give hookline's plan.json or a plan in the judge's format (docs/plan-format.md, "Quality metric")`);
  }
  const plan = r.data as unknown as ScorablePlan;
  const n = plan.nails.length;
  plan.lines.forEach(([c, a, b], i) => {
    if (c >= plan.colors.length) throw new UserError(`${path}: lines[${i}] uses colour ${c} but colors has ${plan.colors.length}; see docs/plan-format.md`);
    if (a >= n || b >= n) throw new UserError(`${path}: lines[${i}] names nail ${Math.max(a, b)} but there are ${n} nails; see docs/plan-format.md`);
  });
  return plan;
}

/** Read and validate plan.json; every problem is a one-line UserError naming the field. */
export function loadPlan(path: string): Plan {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_PLAN_BYTES) {
      throw new UserError(`${path} is ${(size / 1024 / 1024).toFixed(0)} MB, larger than any plan of at most ${MAX_PLAN_LINES} lines (${MAX_PLAN_BYTES / 1024 / 1024} MB); see docs/plan-format.md, Limits`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read plan ${path}: ${fsErrorText(e)}; give the plan.json written by 'hookline plan'`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not valid JSON (${(e as Error).message}); give the plan.json written by 'hookline plan'`);
  }
  return validatePlan(json, path);
}

export function validatePlan(json: unknown, where: string): Plan {
  // Before the schema (zod takes seconds over millions of lines): the size limits.
  const raw = json as { lines?: unknown; nails?: unknown } | null;
  if (raw !== null && typeof raw === 'object' && Array.isArray(raw.lines) && raw.lines.length > MAX_PLAN_LINES) {
    throw new UserError(`${where}: field lines: ${raw.lines.length} lines, more than the ${MAX_PLAN_LINES} a plan may have; see docs/plan-format.md, Limits`);
  }
  if (raw !== null && typeof raw === 'object' && Array.isArray(raw.nails) && raw.nails.length > 2 * MAX_PLAN_HOOKS) {
    throw new UserError(`${where}: field nails: ${raw.nails.length} nails, more than ${2 * MAX_PLAN_HOOKS} (${MAX_PLAN_HOOKS} hooks); see docs/plan-format.md, Limits`);
  }
  const r = planSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`${where}: field ${field}: ${issue.message}; see docs/plan-format.md`);
  }
  const plan = r.data as unknown as Plan;
  const n = plan.nails.length;
  const flanked = plan.flanks === 2;
  if (flanked !== (plan.version === 2)) {
    throw new UserError(`${where}: version ${plan.version} with ${flanked ? 'flanks: 2' : 'no flanks'}: version 2 plans (and only they) have flanks: 2; see docs/plan-format.md`);
  }
  if (flanked && n % 2 !== 0) throw new UserError(`${where}: flanks: 2 needs two nails per hook but there are ${n} nails; see docs/plan-format.md`);
  if (plan.lines.length === 0) throw new UserError(`${where}: field lines: the plan has no lines, so there is nothing to string; plan again with a darker image or more --lines`);
  checkGeometry(plan, where);
  plan.lines.forEach((l, i) => {
    const [c, a, b] = l;
    if (c >= plan.colors.length) throw new UserError(`${where}: lines[${i}] uses colour ${c} but colors has ${plan.colors.length}; see docs/plan-format.md`);
    if (a >= n || b >= n) throw new UserError(`${where}: lines[${i}] names nail ${Math.max(a, b)} but there are ${n} nails; see docs/plan-format.md`);
    if (a === b) throw new UserError(`${where}: lines[${i}] starts and ends at nail ${a}; see docs/plan-format.md`);
    if (flanked && a >> 1 === b >> 1) throw new UserError(`${where}: lines[${i}] joins the two flanks of hook ${a >> 1} (nails ${a}, ${b}); see docs/plan-format.md`);
    // Flanked: the thread arrives on one flank of a hook and leaves from the other.
    const from = i > 0 ? (flanked ? plan.lines[i - 1][2] ^ 1 : plan.lines[i - 1][2]) : a;
    if (from !== a) {
      throw new UserError(`${where}: lines[${i}] starts at nail ${a} but lines[${i - 1}] ended at ${plan.lines[i - 1][2]}, so it must start at nail ${from}: the thread path must be continuous; see docs/plan-format.md`);
    }
  });
  return plan;
}

/**
 * The plan is physically possible: every hook centre on the board rectangle,
 * every flank within its hook's radius + thread of the centre, and hooks that neither overlap nor
 * leave the thread too little room (hookFitProblem).
 */
function checkGeometry(plan: Plan, where: string): void {
  const { widthMm: w, heightMm: h, frame } = plan.board;
  const hooks = planHooks(plan);
  const see = 'see docs/plan-format.md';
  // The board rectangle, for either frame: the frame is the picture's outline, the board is what holds the hooks.
  hooks.forEach(([x, y], i) => {
    const inside = x >= -ON_BOARD_MM && y >= -ON_BOARD_MM && x <= w + ON_BOARD_MM && y <= h + ON_BOARD_MM;
    if (!inside) throw new UserError(`${where}: field nails: hook ${i} at (${x}, ${y}) mm is outside the ${w}×${h} mm ${frame} board; ${see}`);
  });
  const hookMm = plan.flanks === 2 ? (plan.hookDiameterMm ?? 0) : 0;
  if (plan.flanks === 2) {
    const reach = hookMm / 2 + plan.threadWidthMm + ON_BOARD_MM;
    for (let k = 0; k < plan.nails.length; k++) {
      const [cx, cy] = hooks[k >> 1];
      const d = Math.hypot(plan.nails[k][0] - cx, plan.nails[k][1] - cy);
      if (d > reach) throw new UserError(`${where}: field nails: nail ${k} is ${d.toFixed(3)} mm from the centre of its hook ${k >> 1}, more than the hook radius + thread (${reach.toFixed(3)} mm); ${see}`);
    }
  }
  const fit = hookFitProblem(hooks, hookMm, plan.threadWidthMm);
  if (fit) throw new UserError(`${where}: ${fit}; re-plan with fewer hooks, a smaller --hook-mm or a thinner --thread-mm`);
}
