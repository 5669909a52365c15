// `npm run bench:plan`: the planner on ../shared/bench/images at the reference settings (160 hooks,
// 3000 lines, 600 mm circle, 0.12 mm thread, seed 1). Runs the built CLI as a user would
// (node bin/hookline.js plan …) under /usr/bin/time -v for whole-process wall time and peak
// memory, scores each plan by the quality metric, and prints the ratios against the reference
// planner's figures (../shared/bench/README.md). Then the same with --lines auto.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createCanvas } from '@napi-rs/canvas';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scorePlanAgainstSource } from '../host/plan/score';
import type { Plan } from '../host/plan/types';

const IMAGES = resolve('../shared/bench/images');
/** The reference greedy planner, ../shared/bench/README.md. */
const REFERENCE: Record<string, { rmse: number; ssim: number }> = {
  coffee: { rmse: 0.239, ssim: 0.284 },
  chelsea: { rmse: 0.171, ssim: 0.288 },
  rocket: { rmse: 0.303, ssim: 0.257 },
};
const REFERENCE_WALL_S = 14;
type Ctx = ReturnType<ReturnType<typeof createCanvas>['getContext']>;
/** Synthetic test pictures: smooth tones, hard edges, fine detail, lettering. */
const UNSEEN: Record<string, (g: Ctx) => void> = {
  gradient(g) {
    const l = g.createLinearGradient(0, 0, 512, 0);
    l.addColorStop(0, '#000');
    l.addColorStop(1, '#fff');
    g.fillStyle = l;
    g.fillRect(0, 0, 512, 512);
  },
  radial(g) {
    const r = g.createRadialGradient(256, 256, 0, 256, 256, 256);
    r.addColorStop(0, '#000');
    r.addColorStop(1, '#fff');
    g.fillStyle = r;
    g.fillRect(0, 0, 512, 512);
  },
  checker(g) {
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      g.fillStyle = (x + y) % 2 ? '#fff' : '#222';
      g.fillRect(x * 64, y * 64, 64, 64);
    }
  },
  face(g) {
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 512, 512);
    g.fillStyle = '#777';
    g.beginPath();
    g.ellipse(256, 270, 150, 190, 0, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#000';
    for (const x of [200, 312]) {
      g.beginPath();
      g.arc(x, 220, 22, 0, 2 * Math.PI);
      g.fill();
    }
    g.lineWidth = 14;
    g.strokeStyle = '#000';
    g.beginPath();
    g.arc(256, 300, 80, 0.15 * Math.PI, 0.85 * Math.PI);
    g.stroke();
  },
  text(g) {
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 512, 512);
    g.fillStyle = '#000';
    g.font = 'bold 120px sans-serif';
    g.fillText('hook', 110, 230);
    g.fillText('line', 140, 360);
  },
};
const REFERENCE_PEAK_MB = 900;
const TARGET = { rmseRatio: 0.9, wallS: 1.4, peakMb: 400 };

if (!existsSync(IMAGES)) {
  console.error(`bench:plan: ${IMAGES} not found; the bench images live in ../shared/bench/images next to the repo`);
  process.exit(1);
}
if (!existsSync('dist/host/cli.mjs')) {
  console.error("bench:plan: dist/host/cli.mjs missing; run 'npm run build:host' first");
  process.exit(1);
}
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const out = mkdtempSync(join(tmpdir(), 'hookline-bench-plan-'));

interface Run { plan: Plan; wallS: number; peakMb: number }

/** One whole `hookline plan` process; wall time and peak RSS from /usr/bin/time -v (or polling-free fallback: wall only). */
function runPlan(name: string, extra: string[], image = join(IMAGES, `${name}.png`)): Run {
  const dir = join(out, `${name}-${extra.join('-') || 'default'}`);
  const args = ['bin/hookline.js', 'plan', image, '-o', dir, '--quiet', ...extra];
  const t0 = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ['-v', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wallMeasured = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`bench:plan: hookline plan ${name} failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`);
    process.exit(1);
  }
  let wallS = wallMeasured;
  let peakMb = NaN;
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (wall) wallS = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (rss) peakMb = Number(rss[1]) / 1024;
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
  return { plan, wallS, peakMb };
}

/** Runs per image at 3000 lines: the median wall time and the largest peak are reported (the plan is identical each time). */
const RUNS = 3;
function runMedian(name: string, extra: string[]): Run {
  const runs = Array.from({ length: RUNS }, () => runPlan(name, extra));
  const walls = runs.map((r) => r.wallS).sort((a, b) => a - b);
  return { plan: runs[0].plan, wallS: walls[Math.floor(RUNS / 2)], peakMb: Math.max(...runs.map((r) => r.peakMb)) };
}

const f3 = (v: number) => v.toFixed(3);
console.log('160 hooks, 600 mm circle, 0.12 mm thread, seed 1; wall and peak RSS of the whole `node bin/hookline.js plan` process');
console.log(`(3000 lines: median wall and largest peak of ${RUNS} runs; --lines auto: one run)`);
console.log(`targets: RMSE ≤ ${TARGET.rmseRatio} × reference, wall ≤ ${TARGET.wallS} s, peak ≤ ${TARGET.peakMb} MB (reference: ~${REFERENCE_WALL_S} s, ~${REFERENCE_PEAK_MB} MB)`);
console.log('');
console.log('image    lines  RMSE   ref    ratio  SSIM   ref    wall s  peak MB  verdict');
let failed = 0;
for (const name of Object.keys(REFERENCE)) {
  const { plan, wallS, peakMb } = runMedian(name, ['--lines', '3000']);
  const s = await scorePlanAgainstSource(plan);
  const ref = REFERENCE[name];
  const ratio = s.rmse / ref.rmse;
  const ok = ratio <= TARGET.rmseRatio && wallS <= TARGET.wallS && !(peakMb > TARGET.peakMb);
  if (!ok) failed++;
  console.log(`${name.padEnd(8)} ${String(plan.lines.length).padStart(5)}  ${f3(s.rmse)}  ${f3(ref.rmse)}  ${f3(ratio)}  ${f3(s.ssim)}  ${f3(ref.ssim)}  ${wallS.toFixed(2).padStart(6)}  ${peakMb.toFixed(0).padStart(7)}  ${ok ? 'ok' : 'MISSED'}`);
}
console.log('');
console.log('--lines auto (until another line no longer lowers the error):');
console.log('image    lines  RMSE   ratio  SSIM   wall s  peak MB');
for (const name of Object.keys(REFERENCE)) {
  const { plan, wallS, peakMb } = runPlan(name, ['--lines', 'auto']);
  const s = await scorePlanAgainstSource(plan);
  console.log(`${name.padEnd(8)} ${String(plan.lines.length).padStart(5)}  ${f3(s.rmse)}  ${f3(s.rmse / REFERENCE[name].rmse)}  ${f3(s.ssim)}  ${wallS.toFixed(2).padStart(6)}  ${peakMb.toFixed(0).padStart(7)}`);
}

// Images nobody tuned on (drawn here, deterministic): the default planner (hook flanks) against
// the same planner on hook centres (--flanks 1), 3000 lines each.
console.log('');
console.log('images nobody tuned on (synthetic, 512 px): RMSE with flanks (default) and on hook centres (--flanks 1)');
console.log('image       flanks  centres  flanks/centres  wall s');
for (const [name, draw] of Object.entries(UNSEEN)) {
  const file = join(out, `${name}.png`);
  const canvas = createCanvas(512, 512);
  draw(canvas.getContext('2d'));
  writeFileSync(file, await canvas.encode('png'));
  const two = runPlan(name, ['--lines', '3000'], file);
  const one = runPlan(name, ['--lines', '3000', '--flanks', '1'], file);
  const a = (await scorePlanAgainstSource(two.plan)).rmse;
  const b = (await scorePlanAgainstSource(one.plan)).rmse;
  console.log(`${name.padEnd(10)}  ${f3(a)}   ${f3(b)}    ${f3(a / b).padStart(12)}  ${two.wallS.toFixed(2).padStart(6)}`);
}
rmSync(out, { recursive: true, force: true });
console.log('');
console.log(failed ? `${failed} of 3 images missed a target` : 'all targets met');
