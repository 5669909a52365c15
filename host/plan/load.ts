import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError, fsErrorText } from '../errors';
import type { Plan } from './types';

const hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like "#1a2b3c"');
const finite = z.number().finite();

const planSchema = z.object({
  format: z.literal('hookline-plan'),
  version: z.union([z.literal(1), z.literal(2)]),
  board: z.object({ widthMm: finite.positive(), heightMm: finite.positive(), frame: z.enum(['circle', 'rect']) }),
  nails: z.array(z.tuple([finite, finite])).min(2),
  threadWidthMm: finite.positive(),
  background: hex,
  colors: z.array(hex).min(1).max(16),
  lines: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()])),
  source: z.object({ file: z.string(), crop: z.tuple([finite, finite, finite, finite]) }),
  flanks: z.literal(2).optional(),
  hookDiameterMm: finite.positive().optional(),
  planner: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/** Read and validate plan.json; every problem is a one-line UserError naming the field. */
export function loadPlan(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
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
