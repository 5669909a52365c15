// `npm run bench:colour`: the colour planner on chelsea and coffee (../shared/bench/images) at the
// reference colour settings (palette #000000,#d0803c,#5a6e8c on white, 2500/1200/800 lines, 4 group
// cycles, 160 hooks, 600 mm circle, 0.12 mm thread, seed 1). Runs the built CLI as a user would
// (node bin/hookline.js plan …) for whole-process wall time (median of 3) and peak RSS, scores each
// plan by RGB RMSE in the frame (threads composited opaque in placement order, `hookline score`),
// and prints the ratio against the reference planner's figures (../shared/bench/README.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scoreColourPlan } from '../host/plan/colour-render';
import type { Plan } from '../host/plan/types';
import { benchImagesDir } from './bench-plans';

const IMAGES = resolve(benchImagesDir);
const REFERENCE: Record<string, number> = { chelsea: 0.196, coffee: 0.316 };
const REFERENCE_WALL_S = 15;
const TARGET = { rmseRatio: 0.9, wallS: 3 };
const ARGS = ['--palette', '#000000,#d0803c,#5a6e8c', '--background', '#ffffff', '--lines-per-color', '2500,1200,800',
  '--groups', '4', '--hooks', '160', '--board-mm', '600', '--thread-mm', '0.12', '--seed', '1'];
const RUNS = 3;

if (!existsSync(IMAGES)) {
  console.error(`bench:colour: ${IMAGES} not found; the bench images live in ../shared/bench/images next to the repo`);
  process.exit(1);
}
if (!existsSync('dist/host/cli.mjs')) {
  console.error("bench:colour: dist/host/cli.mjs missing; run 'npm run build:host' first");
  process.exit(1);
}
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const out = mkdtempSync(join(tmpdir(), 'hookline-bench-colour-'));

function runPlan(name: string): { plan: Plan; wallS: number; peakMb: number } {
  const dir = join(out, name);
  const args = ['bin/hookline.js', 'plan', join(IMAGES, `${name}.png`), '-o', dir, '--quiet', ...ARGS];
  const t0 = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ['-v', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  let wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`bench:colour: hookline plan ${name} failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`);
    process.exit(1);
  }
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (wall) wallS = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { plan: JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan, wallS, peakMb: rss ? Number(rss[1]) / 1024 : NaN };
}

const f3 = (v: number) => v.toFixed(3);
console.log('palette #000000,#d0803c,#5a6e8c on #ffffff, 2500/1200/800 lines, 4 group cycles, 160 hooks, 600 mm circle, 0.12 mm thread, seed 1');
console.log(`wall: whole \`node bin/hookline.js plan\` process (plan.json, preview.png, 3 layer PNGs, forming.gif), median of ${RUNS}`);
console.log(`targets: RGB RMSE ≤ ${TARGET.rmseRatio} × reference, wall ≤ ${TARGET.wallS} s (reference: ~${REFERENCE_WALL_S} s)`);
console.log('');
console.log('image    lines  RMSE   ref    ratio  wall s  peak MB  verdict');
let failed = 0;
for (const name of Object.keys(REFERENCE)) {
  const runs = Array.from({ length: RUNS }, () => runPlan(name));
  const wallS = runs.map((r) => r.wallS).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  const peakMb = Math.max(...runs.map((r) => r.peakMb));
  const plan = runs[0].plan;
  const { rmse } = await scoreColourPlan(plan, plan.source.file);
  const ratio = rmse / REFERENCE[name];
  const ok = ratio <= TARGET.rmseRatio && wallS <= TARGET.wallS;
  if (!ok) failed++;
  console.log(`${name.padEnd(8)} ${String(plan.lines.length).padStart(5)}  ${f3(rmse)}  ${f3(REFERENCE[name])}  ${f3(ratio)}  ${wallS.toFixed(2).padStart(6)}  ${peakMb.toFixed(0).padStart(7)}  ${ok ? 'ok' : 'MISSED'}`);
}
rmSync(out, { recursive: true, force: true });
console.log('');
console.log(failed ? `${failed} of ${Object.keys(REFERENCE).length} images missed a target` : 'all targets met');
