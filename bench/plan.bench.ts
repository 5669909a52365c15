// `npm run bench:plan [-- --with-reference]` (issue 17): the planner on the six images of
// ../shared/bench/images at the reference settings (160 hooks, 3000 lines, 600 mm circle, 0.12 mm
// thread, seed 1), run as a user runs it (node bin/hookline.js plan …, under /usr/bin/time -v for
// whole-process wall time and peak memory, median of 3). Every plan, hookline's and the reference
// planner's converted ones (../shared/bench/reference-plans/, both darkness settings), is scored by
// the one metric (host/plan/metric.ts, equal to ../shared/bench/judge/judge.py), and rmse and
// rmse_view are printed as ratios to the better reference setting. A contact sheet per image
// (photo | reference | hookline, as the metric renders them) goes to dist/bench/plan/. Colour on
// chelsea and coffee against the reference's figures; synthetic images nobody tuned on; with
// --with-reference and CALLUM_REPO set (../shared/bench/reference-runner/README.md), the
// reference planner is timed side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createCanvas } from '@napi-rs/canvas';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { metricPictures, scoreMetric, type MetricPlan, type MetricScore } from '../host/plan/metric';

const BENCH = resolve('../shared/bench');
const IMAGES = join(BENCH, 'images');
const NAMES = ['coffee', 'chelsea', 'rocket', 'coins', 'moon', 'horse'];
const PALETTE = '#000000,#d0803c,#5a6e8c';
const TARGET = { ratio: 0.85, speedup: 12, peakMb: 400 };
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
if (!existsSync(IMAGES)) {
  console.error(`bench:plan: ${IMAGES} not found; the bench images live in ../shared/bench/images next to the repo`);
  process.exit(1);
}
if (!existsSync('dist/host/cli.mjs')) {
  console.error("bench:plan: dist/host/cli.mjs missing; run 'npm run build:host' first");
  process.exit(1);
}
const withReference = process.argv.includes('--with-reference');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const out = mkdtempSync(join(tmpdir(), 'hookline-bench-plan-'));
const sheets = 'dist/bench/plan';
mkdirSync(sheets, { recursive: true });

interface Timed { wallS: number; peakMb: number }

/** One whole process; wall time and peak RSS from /usr/bin/time -v. */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Timed {
  const t0 = performance.now();
  const r = timeBin ? spawnSync(timeBin, ['-v', cmd, ...args], { encoding: 'utf8', env }) : spawnSync(cmd, args, { encoding: 'utf8', env });
  const wallMeasured = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`bench:plan: ${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-1)[0]}`);
    process.exit(1);
  }
  let wallS = wallMeasured;
  let peakMb = NaN;
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (wall) wallS = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (rss) peakMb = Number(rss[1]) / 1024;
  return { wallS, peakMb };
}

const RUNS = 3;
/** `hookline plan` RUNS times: the median wall, the largest peak (the plan is the same each time). */
function planMedian(image: string, dir: string, extra: string[]): Timed & { plan: MetricPlan } {
  const runs = Array.from({ length: RUNS }, () => timed(process.execPath, ['bin/hookline.js', 'plan', image, '-o', dir, '--quiet', ...extra]));
  const walls = runs.map((r) => r.wallS).sort((a, b) => a - b);
  return { plan: JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')), wallS: walls[Math.floor(RUNS / 2)], peakMb: Math.max(...runs.map((r) => r.peakMb)) };
}

/** The reference's colour settings (../shared/bench/reference-runner/README.md), the bench's PALETTE as RGB. */
const REFERENCE_COLOUR = ['--palette', '0,0,0;208,128,60;90,110,140', '--lines-per-color', '2500,1200,800', '--group-orders', '4'];

/** The reference planner on this machine (CALLUM_REPO), mono (or colour, with REFERENCE_COLOUR): median wall and largest peak of RUNS runs. */
function referenceTimed(image: string, extra: string[] = []): Timed | null {
  const repo = process.env.CALLUM_REPO;
  if (!withReference || !repo) return null;
  const runs = Array.from({ length: RUNS }, () =>
    timed('/usr/bin/python3', [join(BENCH, 'reference-runner/run_callum.py'), image, '--hooks', '160', '--lines', '3000', '--x', '600', '--step-size', '1.0', '--darkness', '0.12', ...extra, '--out', join(out, 'ref.json')], { ...process.env, CALLUM_REPO: repo }),
  );
  const walls = runs.map((r) => r.wallS).sort((a, b) => a - b);
  return { wallS: walls[Math.floor(RUNS / 2)], peakMb: Math.max(...runs.map((r) => r.peakMb)) };
}

/** photo | reference | hookline, as the metric renders them, with labels. */
async function contactSheet(name: string, image: string, ref: MetricPlan, ours: MetricPlan, refLabel: string, ourLabel: string): Promise<string> {
  const a = await metricPictures(ref, image);
  const b = await metricPictures(ours, image);
  const w = a.width;
  const h = a.height;
  const canvas = createCanvas(3 * w, h + 28);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, 3 * w, h + 28);
  const tiles = [a.target, a.plan, b.plan];
  tiles.forEach((rgb, t) => {
    const img = g.createImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      for (let k = 0; k < 3; k++) img.data[4 * i + k] = Math.max(0, Math.min(255, Math.round(rgb[3 * i + k] * 255)));
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, t * w, 28);
  });
  g.fillStyle = '#000000';
  g.font = '16px sans-serif';
  ['photo (the metric\'s target)', refLabel, ourLabel].forEach((label, t) => g.fillText(label, t * w + 8, 20));
  const file = join(sheets, `${name}.png`);
  writeFileSync(file, await canvas.encode('png'));
  return file;
}

const f3 = (v: number) => v.toFixed(3);
const reference = JSON.parse(readFileSync(join(BENCH, 'reference.json'), 'utf8')) as { colour_rmse: Record<string, number> };
console.log('mono: 160 hooks, 600 mm circle, 0.12 mm thread, 3000 lines, seed 1; scored by host/plan/metric.ts (= judge.py) on both sides');
console.log(`ratios against the better of the reference's two settings (darkness 0.12 / 0.08); targets: rmse and rmse_view <= ${TARGET.ratio} x on every image, >= ${TARGET.speedup} x faster side by side, <= ${TARGET.peakMb} MB`);
console.log(`wall and peak: the whole \`node bin/hookline.js plan\` process, median / largest of ${RUNS} runs`);
console.log('');
console.log('image    rmse   ref    ratio  view   ref    ratio  ssim   wall s  peak MB  sheet');
let missed = 0;
for (const name of NAMES) {
  const image = join(IMAGES, `${name}.png`);
  const run = planMedian(image, join(out, name), ['--lines', '3000', '--seed', '1']);
  const ours = await scoreMetric(run.plan, image);
  const refs: { d: string; plan: MetricPlan; s: MetricScore }[] = [];
  for (const d of ['d012', 'd008']) {
    const plan = JSON.parse(readFileSync(join(BENCH, 'reference-plans', `${name}_${d}.json`), 'utf8')) as MetricPlan;
    refs.push({ d, plan, s: await scoreMetric(plan, image) });
  }
  const bestRmse = refs.reduce((x, y) => (y.s.rmse < x.s.rmse ? y : x));
  const bestView = Math.min(...refs.map((r) => r.s.rmseView));
  const r1 = ours.rmse / bestRmse.s.rmse;
  const r2 = ours.rmseView / bestView;
  if (r1 > TARGET.ratio || r2 > TARGET.ratio || run.peakMb > TARGET.peakMb) missed++;
  const sheet = await contactSheet(name, image, bestRmse.plan, run.plan, `reference (${bestRmse.d}) rmse ${f3(bestRmse.s.rmse)}`, `hookline rmse ${f3(ours.rmse)}`);
  console.log(
    `${name.padEnd(8)} ${f3(ours.rmse)}  ${f3(bestRmse.s.rmse)}  ${f3(r1)}  ${f3(ours.rmseView)}  ${f3(bestView)}  ${f3(r2)}  ${f3(ours.ssim ?? 0)}  ${run.wallS.toFixed(2).padStart(6)}  ${run.peakMb.toFixed(0).padStart(7)}  ${sheet}`,
  );
  const rt = referenceTimed(image);
  if (rt) console.log(`         reference planner side by side: ${rt.wallS.toFixed(2)} s, ${rt.peakMb.toFixed(0)} MB -> hookline ${(rt.wallS / run.wallS).toFixed(1)} x faster, ${(rt.peakMb / run.peakMb).toFixed(1)} x less memory`);
}
if (!withReference || !process.env.CALLUM_REPO) console.log('(speed side by side: not run; npm run bench:plan -- --with-reference with CALLUM_REPO set, ../shared/bench/reference-runner/README.md)');

console.log('');
console.log(`colour: ${PALETTE}, 2500/1200/800 lines, 4 groups; rmse (RGB) against the reference's figure (reference.json colour_rmse)`);
console.log('image    rmse   ref    ratio  view   wall s  peak MB');
for (const name of ['chelsea', 'coffee']) {
  const image = join(IMAGES, `${name}.png`);
  const run = planMedian(image, join(out, `${name}-colour`), ['--palette', PALETTE, '--lines-per-color', '2500,1200,800', '--groups', '4', '--seed', '1']);
  const s = await scoreMetric(run.plan, image);
  const ref = reference.colour_rmse[name];
  console.log(`${name.padEnd(8)} ${f3(s.rmse)}  ${f3(ref)}  ${f3(s.rmse / ref)}  ${f3(s.rmseView)}  ${run.wallS.toFixed(2).padStart(6)}  ${run.peakMb.toFixed(0).padStart(7)}`);
  const rt = referenceTimed(image, REFERENCE_COLOUR);
  if (rt) console.log(`         reference planner side by side: ${rt.wallS.toFixed(2)} s, ${rt.peakMb.toFixed(0)} MB -> hookline ${(rt.wallS / run.wallS).toFixed(1)} x faster, ${(rt.peakMb / run.peakMb).toFixed(1)} x less memory`);
}

// Images nobody tuned on (drawn here, deterministic).
console.log('');
console.log('images nobody tuned on (synthetic, 512 px), 3000 lines: rmse and rmse_view');
console.log('image       rmse   view   wall s');
for (const [name, draw] of Object.entries(UNSEEN)) {
  const file = join(out, `${name}.png`);
  const canvas = createCanvas(512, 512);
  draw(canvas.getContext('2d'));
  writeFileSync(file, await canvas.encode('png'));
  const dir = join(out, `synthetic-${name}`);
  const t = timed(process.execPath, ['bin/hookline.js', 'plan', file, '-o', dir, '--quiet', '--lines', '3000', '--seed', '1']);
  const s = await scoreMetric(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')), file);
  console.log(`${name.padEnd(10)}  ${f3(s.rmse)}  ${f3(s.rmseView)}  ${t.wallS.toFixed(2).padStart(6)}`);
}
rmSync(out, { recursive: true, force: true });
console.log('');
console.log(missed ? `${missed} of ${NAMES.length} images missed a mono target` : 'all mono targets met');
