import { parseCommand, positionals } from '../args';
import { UserError } from '../errors';
import { loadScorablePlan } from '../plan/load';
import { probeImage } from '../plan/image';
import { scoreMetric } from '../plan/metric';
import { createProgress } from '../progress';
import type { Command } from './command';

const FLAGS = {
  'eval-px': { type: 'string' },
  'view-mm': { type: 'string' },
} as const;

export const scoreCommand: Command = {
  name: 'score',
  usage: 'score PLAN IMAGE [--eval-px 512] [--view-mm 2]',
  summary:
    'score a plan against an image by the quality metric (docs/plan-format.md, "Quality metric"; the same figures as ../shared/bench/judge/judge.py): prints JSON {rmse, ssim, rmse_view, ssim_view, lines}; colour plans: {rmse, rmse_view (RGB), lines, colors}. Reads hookline plans and other planners\' plans in the judge\'s format',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('score', argv, FLAGS);
    const [planFile, image] = positionals('score', pos, ['plan', 'image']);
    const evalPx = intFlag(values['eval-px'] as string | undefined, '--eval-px', 512, 16, 4096);
    const viewMm = numFlag(values['view-mm'] as string | undefined, '--view-mm', 2, 0.01, 100);
    const plan = loadScorablePlan(planFile);
    await probeImage(image);
    const progress = createProgress({ label: 'score' });
    const s = await scoreMetric(plan, image, { evalPx, viewMm, onProgress: (f) => progress.update(f) });
    progress.done();
    const out =
      plan.colors.length === 1
        ? { rmse: round(s.rmse), ssim: round(s.ssim ?? 0), rmse_view: round(s.rmseView), ssim_view: round(s.ssimView ?? 0), lines: plan.lines.length }
        : { rmse: round(s.rmse), rmse_view: round(s.rmseView), lines: plan.lines.length, colors: plan.colors.length };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
};

function intFlag(v: string | undefined, name: string, def: number, lo: number, hi: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UserError(`${name}: '${v}' is not a whole number from ${lo} to ${hi}; give e.g. ${def}`);
  return n;
}

function numFlag(v: string | undefined, name: string, def: number, lo: number, hi: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new UserError(`${name}: '${v}' is not a number from ${lo} to ${hi}; give e.g. ${def}`);
  return n;
}

function round(v: number): number {
  return Math.round(v * 1e5) / 1e5;
}
