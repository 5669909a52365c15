import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { makeMonoPlan, threadLengthMm, type MonoOptions } from '../plan/make';
import { renderPreviewPng } from '../plan/render';
import { planToJson } from '../plan/write';
import type { Command } from './command';

const FLAGS = {
  out: { type: 'string', short: 'o' },
  hooks: { type: 'string' },
  lines: { type: 'string' },
  'board-mm': { type: 'string' },
  'thread-mm': { type: 'string' },
  frame: { type: 'string' },
  seed: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** Parse and check every flag; throws a one-line UserError on the first bad one. */
export function parsePlanArgs(argv: string[]): MonoOptions & { out: string; quiet: boolean } {
  const { values: v, positionals: pos } = parseCommand('plan', argv, FLAGS);
  const values = v as Record<string, string | boolean | undefined>;
  const [image] = positionals('plan', pos, ['image']);
  const str = (k: string) => values[k] as string | undefined;
  const out = str('out');
  if (!out) throw new UserError('plan: missing -o DIR (where to write plan.json and preview.png)');
  const frame = str('frame') ?? 'circle';
  if (frame !== 'circle' && frame !== 'rect') throw new UserError(`--frame: '${frame}' is not a frame; give circle or rect`);
  const hooks = numberFlag('hooks', str('hooks'), 160, { min: 3, max: 2000, integer: true });
  const lines = numberFlag('lines', str('lines'), 3000, { min: 1, max: 1_000_000, integer: true });
  const boardMm = numberFlag('board-mm', str('board-mm'), 600, { min: 50, max: 5000 });
  const threadMm = numberFlag('thread-mm', str('thread-mm'), 0.12, { max: 10 });
  if (threadMm <= 0) throw new UserError(`--thread-mm: ${threadMm} must be above 0; give e.g. --thread-mm 0.12`);
  const seed = numberFlag('seed', str('seed'), 1, { min: 0, max: 2 ** 32 - 1, integer: true });
  return { image, out, frame, hooks, lines, boardMm, threadMm, seed, quiet: values.quiet === true };
}

export const planCommand: Command = {
  name: 'plan',
  usage: 'plan IMAGE -o DIR [--hooks N] [--lines N] [--board-mm D] [--thread-mm W] [--frame circle|rect] [--seed S] [--quiet]',
  summary: 'plan a one-colour thread picture (greedy): writes DIR/plan.json (docs/plan-format.md) and DIR/preview.png',
  async run(argv) {
    const o = parsePlanArgs(argv);
    if (existsSync(o.out) && !statSync(o.out).isDirectory()) {
      throw new UserError(`-o ${o.out}: exists and is not a directory; give a directory for plan.json and preview.png`);
    }
    const { plan, stoppedEarly } = await makeMonoPlan(o);
    const json = planToJson(plan);
    const png = renderPreviewPng(plan);
    const planFile = join(o.out, 'plan.json');
    const previewFile = join(o.out, 'preview.png');
    writeFileAtomic(planFile, json);
    writeFileAtomic(previewFile, png);
    if (!o.quiet) {
      const metres = (threadLengthMm(plan) / 1000).toFixed(1);
      const early = stoppedEarly ? ` (stopped early: more lines would not improve the picture)` : '';
      process.stdout.write(`planned ${plan.lines.length} lines${early}, ${metres} m of thread: wrote ${planFile}, ${previewFile}\n`);
    }
  },
};
