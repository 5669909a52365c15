// `hookline score` against the independent judge (../shared/bench/judge/judge.py, issue 17): the same
// plan, the same image, the same figures (within 1 %; in practice to 1e-5, the CLI's rounding), for
// a hookline mono plan, a colour plan, and a converted reference plan whose lines are not one path.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, stderrLines, tempDir } from './helpers/cli';

const BENCH = join(repoRoot, '../shared/bench');
const JUDGE = join(BENCH, 'judge/judge.py');

/** Why the judge cannot run here ('' when it can). */
function judgeMissing(): string {
  if (!existsSync(JUDGE)) return '../shared/bench/judge/judge.py is absent: the score-vs-judge tests are skipped';
  const r = spawnSync('/usr/bin/python3', ['-c', 'import numpy, PIL, scipy, skimage'], { encoding: 'utf8' });
  if (r.status !== 0) return 'python3 with numpy, PIL, scipy and skimage is missing (.ci/run installs python3-numpy python3-pil python3-scipy python3-skimage): the score-vs-judge tests are skipped';
  return '';
}
const missing = judgeMissing();
if (missing) console.warn(`note: ${missing}`);

function judge(plan: string, image: string): Record<string, number> {
  const r = spawnSync('/usr/bin/python3', [JUDGE, plan, image], { encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function score(plan: string, image: string): Record<string, number> {
  const r = runCli(['score', plan, image], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function agree(ours: Record<string, number>, theirs: Record<string, number>, keys: string[]): void {
  for (const k of keys) {
    expect(Math.abs(ours[k] - theirs[k]) / theirs[k], `${k}: score ${ours[k]}, judge ${theirs[k]}`).toBeLessThan(0.01);
  }
}

describe.skipIf(missing !== '')('hookline score agrees with judge.py', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('hookline-score-judge-');
  });

  it('a mono plan: rmse, ssim, rmse_view, ssim_view', () => {
    const out = join(dir, 'mono');
    const image = join(BENCH, 'images/chelsea.png');
    expect(runCli(['plan', image, '-o', out, '--lines', '400', '--quiet']).code).toBe(0);
    const plan = join(out, 'plan.json');
    const ours = score(plan, image);
    expect(Object.keys(ours)).toEqual(['rmse', 'ssim', 'rmse_view', 'ssim_view', 'lines']);
    agree(ours, judge(plan, image), ['rmse', 'ssim', 'rmse_view', 'ssim_view']);
  }, 300_000);

  it('a colour plan: rmse and rmse_view on RGB', () => {
    const out = join(dir, 'colour');
    const image = join(BENCH, 'images/coffee.png');
    expect(runCli(['plan', image, '-o', out, '--palette', '#000000,#d0803c,#5a6e8c', '--lines-per-color', '200,120,80', '--groups', '2', '--quiet']).code).toBe(0);
    const plan = join(out, 'plan.json');
    const ours = score(plan, image);
    expect(Object.keys(ours)).toEqual(['rmse', 'rmse_view', 'lines', 'colors']);
    agree(ours, judge(plan, image), ['rmse', 'rmse_view']);
  }, 300_000);

  it('the reference planner\'s converted plan (no format, lines not one path)', () => {
    const plan = join(BENCH, 'reference-plans/moon_d012.json');
    const image = join(BENCH, 'images/moon.png');
    const ours = score(plan, image);
    agree(ours, judge(plan, image), ['rmse', 'ssim', 'rmse_view', 'ssim_view']);
  }, 300_000);
});

describe('hookline score: bad input', () => {
  it('a converted plan with a line to a nail that does not exist: one line, exit 2', () => {
    const dir = tempDir('hookline-score-bad-');
    const p = join(dir, 'bad.json');
    writeFileSync(p, JSON.stringify({ board: { widthMm: 100, heightMm: 100 }, nails: [[0, 50], [100, 50]], threadWidthMm: 0.12, colors: ['#000000'], lines: [[0, 0, 5]] }));
    const r = runCli(['score', p, 'examples/coffee.png']);
    expect(r.code).toBe(2);
    expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/bad\.json: lines\[0\] names nail 5 but there are 2 nails/)]);
    const q = join(dir, 'nofield.json');
    writeFileSync(q, JSON.stringify({ board: { widthMm: 100, heightMm: 100 }, nails: [[0, 50], [100, 50]], colors: ['#000000'], lines: [] }));
    const r2 = runCli(['score', q, 'examples/coffee.png']);
    expect(r2.code).toBe(2);
    expect(stderrLines(r2.stderr)).toEqual([expect.stringMatching(/nofield\.json: field threadWidthMm/)]);
    const r3 = runCli(['score', p, 'examples/coffee.png', '--eval-px', '3']);
    expect(r3.code).toBe(2);
    expect(stderrLines(r3.stderr)).toEqual([expect.stringMatching(/--eval-px: '3' is not a whole number from 16 to 4096/)]);
  });
});
