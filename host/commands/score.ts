import { parseCommand, positionals } from '../args';
import { UserError } from '../errors';
import { scoreColourPlan } from '../plan/colour-render';
import { loadPlan } from '../plan/load';
import { probeImage } from '../plan/image';
import { loadMetricTarget, scorePlan } from '../plan/score';
import { createProgress } from '../progress';
import type { Command } from './command';

const FLAGS = {
  region: { type: 'string' },
} as const;

export const scoreCommand: Command = {
  name: 'score',
  usage: 'score PLAN IMAGE [--region hooks|board]',
  summary: 'score a plan against an image by the quality metric (docs/plan-format.md): prints JSON {rmse, ssim, lines}; colour plans: {rmse (RGB), lines, colors}',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('score', argv, FLAGS);
    const [planFile, image] = positionals('score', pos, ['plan', 'image']);
    const region = (values.region as string | undefined) ?? 'hooks';
    if (region !== 'hooks' && region !== 'board') throw new UserError(`--region: '${region}' is not a region; give hooks or board`);
    const plan = loadPlan(planFile);
    await probeImage(image);
    const progress = createProgress({ label: 'score' });
    if (plan.colors.length !== 1) {
      // Colour: RMSE on RGB 0..1 in the frame, threads composited opaque in placement order.
      const s = await scoreColourPlan(plan, image, region); // one call: no steps to report
      progress.done();
      process.stdout.write(`${JSON.stringify({ rmse: round(s.rmse), lines: plan.lines.length, colors: plan.colors.length })}\n`);
      return;
    }
    const target = await loadMetricTarget({ board: plan.board, source: { file: image, crop: plan.source.crop } });
    progress.update(0.3);
    const s = scorePlan(plan, target, region);
    progress.done();
    process.stdout.write(`${JSON.stringify({ rmse: round(s.rmse), ssim: round(s.ssim), lines: plan.lines.length })}\n`);
  },
};

function round(v: number): number {
  return Math.round(v * 1e5) / 1e5;
}
