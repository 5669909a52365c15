import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { createProgress } from '../progress';
import { makeColourPlan, parseColour, type ColourOptions } from '../plan/colour';
import { colourPreviews, renderFormingGifRgb } from '../plan/colour-render';
import { renderFormingGif } from '../plan/gif';
import { makeMonoPlan, threadLengthMm, type MonoOptions } from '../plan/make';
import { coveragePng } from '../plan/render';
import { planToJson } from '../plan/write';
import { MAX_PLAN_LINES, MAX_THREAD_MM } from '../plan/limits';
import { warn } from '../warnings';
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
  flanks: { type: 'string' },
  'hook-mm': { type: 'string' },
  importance: { type: 'string' },
  contrast: { type: 'string' },
  gamma: { type: 'string' },
  passes: { type: 'string' },
  method: { type: 'string' },
  seed: { type: 'string' },
  palette: { type: 'string' },
  colors: { type: 'string' },
  background: { type: 'string' },
  'lines-per-color': { type: 'string' },
  groups: { type: 'string' },
  order: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export type ColourArgs = Pick<ColourOptions, 'palette' | 'colors' | 'background' | 'linesPerColor' | 'groups' | 'order' | 'totalLines'>;
export type PlanArgs = MonoOptions & { out: string; quiet: boolean; colour?: ColourArgs };

const COLOUR_ONLY = ['background', 'lines-per-color', 'groups', 'order'];

/** The colour flags (--palette/--colors and friends), checked; undefined for a one-colour plan. */
function parseColourArgs(str: (k: string) => string | undefined, lines: number | 'auto', linesGiven: boolean): ColourArgs | undefined {
  const rawPalette = str('palette');
  const rawColors = str('colors');
  if (rawPalette === undefined && rawColors === undefined) {
    const stray = COLOUR_ONLY.find((k) => str(k) !== undefined);
    if (stray) throw new UserError(`--${stray} is for colour plans; give --palette "#000000,#d0803c,…" or --colors K as well`);
    return undefined;
  }
  if (rawPalette !== undefined && rawColors !== undefined) throw new UserError('give either --palette or --colors, not both');
  const background = parseColour(str('background') ?? '#ffffff', 'background');
  const c: ColourArgs = { background, groups: 4 };
  let count: number;
  if (rawPalette !== undefined) {
    const items = rawPalette.split(',').map((x) => x.trim());
    if (items.length === 0 || items.some((x) => x === '')) throw new UserError(`--palette: '${rawPalette}' has an empty entry; give colours separated by commas, e.g. "#000000,#d0803c"`);
    if (items.length > 16) throw new UserError(`--palette: ${items.length} colours; give at most 16`);
    const palette = items.map((x) => parseColour(x, 'palette'));
    const same = palette.findIndex((x) => x === background);
    if (same >= 0) throw new UserError(`--palette: colour ${same + 1} (${palette[same]}) is the background colour; threads in it would not show, give a different colour or --background`);
    if (new Set(palette).size !== palette.length) throw new UserError(`--palette: '${rawPalette}' names a colour twice; give each colour once`);
    c.palette = palette;
    count = palette.length;
  } else {
    count = numberFlag('colors', rawColors, 3, { min: 1, max: 16, integer: true });
    c.colors = count;
  }
  c.groups = numberFlag('groups', str('groups'), 4, { min: 1, max: 1000, integer: true });
  const rawBudgets = str('lines-per-color');
  if (rawBudgets !== undefined) {
    const b = rawBudgets.split(',').map((x) => numberFlag('lines-per-color', x, 1000, { min: 0, max: MAX_PLAN_LINES, integer: true }));
    const zero = b.indexOf(0);
    if (zero >= 0) throw new UserError(`--lines-per-color: colour ${zero + 1} has 0 lines; give every colour at least 1 line, or leave that colour out of the palette`);
    const sum = b.reduce((s, x) => s + x, 0);
    if (sum > MAX_PLAN_LINES) throw new UserError(`--lines-per-color: ${sum} lines in all, above the ${MAX_PLAN_LINES} a plan may have (docs/plan-format.md, Limits); give smaller budgets`);
    if (b.length !== count) throw new UserError(`--lines-per-color: ${b.length} budget${b.length === 1 ? '' : 's'} for ${count} colour${count === 1 ? '' : 's'}; give one line count per colour, e.g. ${Array(count).fill(1000).join(',')}`);
    if (linesGiven) throw new UserError('give either --lines (total, split by colour automatically) or --lines-per-color, not both');
    c.linesPerColor = b;
  } else if (linesGiven) {
    if (lines === 'auto') throw new UserError('--lines auto is for one-colour plans; give a total line count or --lines-per-color');
    c.totalLines = lines;
  }
  const rawOrder = str('order');
  if (rawOrder !== undefined) {
    const order = rawOrder.split(',').map((x) => numberFlag('order', x, 1, { min: 1, max: 1000, integer: true }));
    const bad = order.find((x) => x > count);
    if (bad !== undefined) throw new UserError(`--order: colour ${bad} does not exist; the palette has ${count} colour${count === 1 ? '' : 's'} (numbered 1..${count})`);
    for (let i = 0; i < count; i++) {
      if (!order.includes(i + 1) && (c.linesPerColor ? c.linesPerColor[i] > 0 : true)) {
        throw new UserError(`--order: colour ${i + 1} never appears; name every colour with lines at least once`);
      }
    }
    if (str('groups') !== undefined) throw new UserError('give either --groups or --order, not both');
    c.order = order.map((x) => x - 1);
  }
  return c;
}

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
  const lines = rawLines?.trim() === 'auto' ? 'auto' : numberFlag('lines', rawLines, 3000, { min: 1, max: MAX_PLAN_LINES, integer: true });
  const boardMm = numberFlag('board-mm', str('board-mm'), 600, { min: 50, max: 5000 });
  const threadMm = numberFlag('thread-mm', str('thread-mm'), 0.12, { max: MAX_THREAD_MM });
  if (threadMm <= 0) throw new UserError(`--thread-mm: ${threadMm} must be above 0; give e.g. --thread-mm 0.12`);
  const seed = numberFlag('seed', str('seed'), 1, { min: 0, max: 2 ** 32 - 1, integer: true });
  const o: PlanArgs = { image, out, frame, hooks, lines, boardMm, threadMm, seed, quiet: values.quiet === true };
  if (str('layout') !== undefined) o.layout = str('layout');
  if (str('importance') !== undefined) o.importance = str('importance');
  if (str('min-gap') !== undefined) o.minGap = numberFlag('min-gap', str('min-gap'), 8, { min: 1, max: 1000, integer: true });
  if (str('contrast') !== undefined) o.contrast = numberFlag('contrast', str('contrast'), 1, { min: 0, max: 10 });
  if (str('gamma') !== undefined) o.gamma = numberFlag('gamma', str('gamma'), 1, { min: 0.1, max: 10 });
  if (str('flanks') !== undefined) {
    const f = str('flanks')!.trim();
    if (f !== '1' && f !== '2') throw new UserError(`--flanks: '${f}' is not 1 or 2; give 2 (threads touch each hook on a chosen side, the default) or 1 (hook centres)`);
    o.flanks = f === '2' ? 2 : 1;
  }
  if (str('hook-mm') !== undefined) o.hookMm = numberFlag('hook-mm', str('hook-mm'), 2, { min: 0.1, max: 50 });
  if (str('passes') !== undefined) o.passes = numberFlag('passes', str('passes'), 0, { min: 0, max: 20, integer: true });
  if (str('method') !== undefined) {
    const m = str('method')!.trim();
    if (m !== 'path' && m !== 'set') throw new UserError(`--method: '${m}' is not a planning method; give path (greedy along the thread, the default) or set (choose the chords, then thread them)`);
    o.method = m;
  }
  const colour = parseColourArgs(str, lines, rawLines !== undefined);
  if (colour) o.colour = colour;
  if (colour && o.method) throw new UserError('--method is for one-colour plans; leave it out with --palette or --colors');
  return o;
}

export const planCommand: Command = {
  name: 'plan',
  usage: 'plan IMAGE -o DIR [--hooks N] [--lines N|auto] [--board-mm D] [--thread-mm W] [--frame circle|rect] [--layout hooks.json]'
    + ' [--min-gap N] [--flanks 2|1] [--hook-mm D] [--importance mask.png] [--contrast C] [--gamma G] [--passes N] [--seed S] [--quiet]'
    + ' [--palette "#000000,#d0803c,…" | --colors K] [--background #ffffff] [--lines-per-color N,N,…] [--groups G | --order 1,2,3,1,…]',
  summary: 'plan a thread picture (one colour, or several with --palette/--colors): writes DIR/plan.json (docs/plan-format.md), DIR/preview.png (colour: also DIR/preview-<i>.png per colour) and DIR/forming.gif',
  async run(argv) {
    const o = parsePlanArgs(argv);
    if (existsSync(o.out) && !statSync(o.out).isDirectory()) {
      throw new UserError(`-o ${o.out}: exists and is not a directory; give a directory for plan.json, preview.png and forming.gif`);
    }
    const progress = createProgress({ label: 'plan', quiet: o.quiet });
    if (o.colour) {
      if (o.importance || o.contrast !== undefined || o.gamma !== undefined || o.passes !== undefined) {
        throw new UserError('--importance, --contrast, --gamma and --passes are for one-colour plans; drop them with --palette/--colors');
      }
      const { plan, stoppedEarly } = await makeColourPlan({ ...o, ...o.colour, onProgress: (f) => progress.update(f), onWarning: (t) => warn(t, o.quiet) });
      progress.done();
      if (plan.lines.length === 0) throw noLines(o.image);
      const previews = colourPreviews(plan); // sharp encodes while the GIF is made
      const gif = renderFormingGifRgb(plan, plan.lines);
      const { preview, layers } = await previews;
      const files: [string, Buffer | Uint8Array | string][] = [
        [join(o.out, 'plan.json'), planToJson(plan)],
        [join(o.out, 'preview.png'), preview],
        ...layers.map((b, i) => [join(o.out, `preview-${i + 1}.png`), b] as [string, Buffer]),
        [join(o.out, 'forming.gif'), gif],
      ];
      for (const [f, data] of files) writeFileAtomic(f, data);
      if (!o.quiet) {
        const counts = plan.colors.map((c, i) => `${plan.lines.filter((l) => l[0] === i).length} ${c}`).join(', ');
        const changes = Math.max(0, (plan.colorChanges?.length ?? 0) - 1);
        const early = stoppedEarly ? ' (stopped early: more lines would not improve the picture)' : '';
        process.stdout.write(`planned ${plan.lines.length} lines${early} (${counts}), ${changes} colour changes, ${(threadLengthMm(plan) / 1000).toFixed(1)} m of thread: wrote ${files.map(([f]) => f).join(', ')}\n`);
      }
      return;
    }
    const { plan, stoppedEarly, darkness } = await makeMonoPlan({ ...o, onProgress: (f) => progress.update(f), onWarning: (t) => warn(t, o.quiet) });
    progress.done();
    if (plan.lines.length === 0) throw noLines(o.image);
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

/** A plan with no lines builds nothing (and every later command refuses it): say so, write nothing. */
function noLines(image: string): UserError {
  return new UserError(`plan: no line improves the picture of ${image} (is it as light as the background?); nothing written: give a darker image, --contrast, or --colors/--palette with a lighter --background`);
}
