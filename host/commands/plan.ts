import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { createProgress } from '../progress';
import { renderFormingGif } from '../plan/gif';
import { makeMonoPlan, threadLengthMm, type MonoOptions } from '../plan/make';
import { coveragePng } from '../plan/render';
import { planToJson } from '../plan/write';
import type { Command } from './command';

const FLAGS = {
  out: { type: 'string', short: 'o' },
  hooks: { type: 'string' },
  lines: { type: 'string' },
  'board-mm': { type: 'string' },
  'thread-mm': { type: 'string' },
  frame: { type: 'string' },
  layout: { type: 'string' },
  'min-gap': { type: 'string' },
  importance: { type: 'string' },
  contrast: { type: 'string' },
  gamma: { type: 'string' },
  passes: { type: 'string' },
  seed: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export type PlanArgs = MonoOptions & { out: string; quiet: boolean };

/** Parse and check every flag; throws a one-line UserError on the first bad one. */
export function parsePlanArgs(argv: string[]): PlanArgs {
  const { values: v, positionals: pos } = parseCommand('plan', argv, FLAGS);
  const values = v as Record<string, string | boolean | undefined>;
  const [image] = positionals('plan', pos, ['image']);
  const str = (k: string) => values[k] as string | undefined;
  const out = str('out');
  if (!out) throw new UserError('plan: missing -o DIR (where to write plan.json, preview.png and forming.gif)');
  const frame = str('frame') ?? 'circle';
  if (frame !== 'circle' && frame !== 'rect') throw new UserError(`--frame: '${frame}' is not a frame; give circle or rect (or --layout hooks.json)`);
  const hooks = numberFlag('hooks', str('hooks'), 160, { min: 3, max: 2000, integer: true });
  const rawLines = str('lines');
  const lines = rawLines?.trim() === 'auto' ? 'auto' : numberFlag('lines', rawLines, 3000, { min: 1, max: 1_000_000, integer: true });
  const boardMm = numberFlag('board-mm', str('board-mm'), 600, { min: 50, max: 5000 });
  const threadMm = numberFlag('thread-mm', str('thread-mm'), 0.12, { max: 10 });
  if (threadMm <= 0) throw new UserError(`--thread-mm: ${threadMm} must be above 0; give e.g. --thread-mm 0.12`);
  const seed = numberFlag('seed', str('seed'), 1, { min: 0, max: 2 ** 32 - 1, integer: true });
  const o: PlanArgs = { image, out, frame, hooks, lines, boardMm, threadMm, seed, quiet: values.quiet === true };
  if (str('layout') !== undefined) o.layout = str('layout');
  if (str('importance') !== undefined) o.importance = str('importance');
  if (str('min-gap') !== undefined) o.minGap = numberFlag('min-gap', str('min-gap'), 8, { min: 1, max: 1000, integer: true });
  if (str('contrast') !== undefined) o.contrast = numberFlag('contrast', str('contrast'), 1, { min: 0, max: 10 });
  if (str('gamma') !== undefined) o.gamma = numberFlag('gamma', str('gamma'), 1, { min: 0.1, max: 10 });
  if (str('passes') !== undefined) o.passes = numberFlag('passes', str('passes'), 0, { min: 0, max: 20, integer: true });
  return o;
}

export const planCommand: Command = {
  name: 'plan',
  usage: 'plan IMAGE -o DIR [--hooks N] [--lines N|auto] [--board-mm D] [--thread-mm W] [--frame circle|rect] [--layout hooks.json]'
    + ' [--min-gap N] [--importance mask.png] [--contrast C] [--gamma G] [--passes N] [--seed S] [--quiet]',
  summary: 'plan a one-colour thread picture: writes DIR/plan.json (docs/plan-format.md), DIR/preview.png and DIR/forming.gif',
  async run(argv) {
    const o = parsePlanArgs(argv);
    if (existsSync(o.out) && !statSync(o.out).isDirectory()) {
      throw new UserError(`-o ${o.out}: exists and is not a directory; give a directory for plan.json, preview.png and forming.gif`);
    }
    const progress = createProgress({ label: 'plan', quiet: o.quiet });
    const { plan, stoppedEarly, darkness } = await makeMonoPlan({ ...o, onProgress: (f) => progress.update(f) });
    progress.done();
    const json = planToJson(plan);
    // The preview is the planner's own raster (its overlap model is calibrated to the metric's
    // render; `hookline score` gives the exact metric), so no second render is needed.
    const pngDone = coveragePng(plan, darkness.data, darkness.width, darkness.height);
    const gif = renderFormingGif(plan, plan.lines); // while sharp encodes the PNG
    const png = await pngDone;
    const planFile = join(o.out, 'plan.json');
    const previewFile = join(o.out, 'preview.png');
    const gifFile = join(o.out, 'forming.gif');
    writeFileAtomic(planFile, json);
    writeFileAtomic(previewFile, png);
    writeFileAtomic(gifFile, gif);
    if (!o.quiet) {
      const metres = (threadLengthMm(plan) / 1000).toFixed(1);
      const early = stoppedEarly ? ` (stopped early: more lines would not improve the picture)` : '';
      process.stdout.write(`planned ${plan.lines.length} lines${early}, ${metres} m of thread: wrote ${planFile}, ${previewFile}, ${gifFile}\n`);
    }
  },
};
