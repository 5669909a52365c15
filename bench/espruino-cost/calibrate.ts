// `npm run bench:espruino-calibrate`: fit the Espruino cost model (sim/targets/espruino-cost.ts)
// against the real interpreter. Every case (bench/espruino-cost/workloads.ts, plus windows of the
// app's own motion) runs at two sizes in the Pico-like ARM build under qemu with the instruction
// counting plugin (bench/espruino-cost/real.ts) and in node:vm instrumented; the differences give
// one row: features → ARM instructions. Weights: non-negative least squares on relative error.
// Prints every case's real and modelled count, the leave-one-out error (each case predicted by
// weights fitted without it) and the held-out cases' error; writes the weights to
// sim/targets/espruino-cost-fit.json. Real counts are cached in dist/realchips/counts.json by the
// script's hash, so a rerun measures only what changed (ESPRUINO_RECOUNT=1: all again).
// Needs ../shared/realchips/espruino and qemu-user, gcc, libc6-armhf-cross. Minutes, not seconds.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { FEATURES, NF } from '../../sim/targets/espruino-cost';
import { WORKLOADS } from './workloads';
import { armCount, pretokenise, readJson, realAvailable } from './real';
import { vmFeatures } from './vmrun';
import { APP_WINDOWS, appHarness, appStream } from './app-harness';

interface Case {
  name: string;
  what: string;
  /** Real and vm scripts at size n0 and n1. */
  real: [Buffer, Buffer];
  vm: [string, string];
  /** Units of work between the two sizes (per-unit figures). */
  units: number;
  unit: string;
}

const FIT_OUT = 'sim/targets/espruino-cost-fit.json';
const CACHE = 'dist/realchips/counts.json';
/** The app bundle and plan stream the app windows measured (used by test/espruino-cost.test.ts). */
const FIXTURE = 'bench/espruino-cost/calibrated';
/** Cases kept out of the final fit, to show its error on workloads it has not seen. */
const HELD_OUT = ['methods', 'strings', 'interval', 'app-late', 'app-later', 'app-segments'];

/** The app bundle the app cases measured (read once: a rebuild during the run must not be credited). */
let appSha256 = '';
let measured = { app: '', stream: '' };

async function cases(): Promise<Case[]> {
  const out: Case[] = [];
  for (const w of WORKLOADS) {
    const min = transformSync(w.src, { minify: true, target: 'es5', loader: 'js' }).code;
    const tok = await pretokenise(min);
    const tail = (n: number) => (w.async ? `\nhlWork(${n});\n` : `\nhlWork(${n});quit();\n`);
    out.push({
      name: w.name,
      what: w.what,
      real: [Buffer.concat([tok, Buffer.from(tail(w.n0))]), Buffer.concat([tok, Buffer.from(tail(w.n1))])],
      vm: [min + tail(w.n0), min + tail(w.n1)],
      units: w.n1 - w.n0,
      unit: 'iteration',
    });
  }
  // The app itself: the bundle as stored (.bootcde), the step harness (make-bench's), motion windows.
  const app = readFileSync('dist/espruino/app.js', 'utf8');
  appSha256 = createHash('sha256').update(app).digest('hex').slice(0, 16);
  const tok = await pretokenise(app);
  const stream = appStream();
  measured = { app, stream };
  for (const [name, a, b, seg] of APP_WINDOWS) {
    const h = (n: number) => appHarness(stream, n, seg);
    out.push({
      name,
      what: `the app's motion on ref-gantry (30-line plan), steps ${a} → ${b}${seg ? ', step segments (a JavaScript generator)' : ', one timer callback per step'}`,
      real: [Buffer.concat([tok, Buffer.from(h(a), 'latin1')]), Buffer.concat([tok, Buffer.from(h(b), 'latin1')])],
      vm: [app + h(a), app + h(b)],
      units: b - a,
      unit: 'step',
    });
  }
  return out;
}

function hash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/** Non-negative least squares by cyclic coordinate descent (small: ≤ 20 × 10). */
export function nnls(A: number[][], y: number[], iters = 20000): number[] {
  const m = A.length, n = A[0].length;
  const x = new Array(n).fill(0);
  const colSq = Array.from({ length: n }, (_, j) => A.reduce((s, r) => s + r[j] * r[j], 0));
  const r = y.slice();
  for (let it = 0; it < iters; it++) {
    let moved = 0;
    for (let j = 0; j < n; j++) {
      if (colSq[j] === 0) continue;
      let g = 0;
      for (let i = 0; i < m; i++) g += A[i][j] * r[i];
      const nx = Math.max(0, x[j] + g / colSq[j]);
      const d = nx - x[j];
      if (d !== 0) {
        for (let i = 0; i < m; i++) r[i] -= A[i][j] * d;
        x[j] = nx;
        moved = Math.max(moved, Math.abs(d) / (Math.abs(nx) + 1e-9));
      }
    }
    if (moved < 1e-10) break;
  }
  return x;
}

interface Row {
  name: string;
  what: string;
  f: number[];
  real: number;
  units: number;
  unit: string;
}

/** Fit on relative error: each row scaled by 1/real. */
function fit(rows: Row[]): number[] {
  return nnls(rows.map((r) => r.f.map((v) => v / r.real)), rows.map(() => 1));
}
const predict = (w: number[], f: number[]) => f.reduce((s, v, i) => s + v * w[i], 0);

async function main() {
  const why = realAvailable();
  if (why) {
    console.log(`espruino-calibrate: skipped (${why})`);
    return;
  }
  mkdirSync('dist/realchips', { recursive: true });
  const cache = readJson<Record<string, { insns: number; bench: string }>>(CACHE, {});
  const recount = process.env.ESPRUINO_RECOUNT === '1';
  const only = process.argv.slice(2);
  const rows: Row[] = [];
  for (const c of await cases()) {
    if (only.length > 0 && !only.includes(c.name)) continue;
    const counts: number[] = [];
    const benches: string[] = [];
    for (const s of c.real) {
      const k = hash(s);
      if (recount || typeof cache[k]?.insns !== 'number') {
        const t0 = Date.now();
        const r = await armCount(s);
        if (/Uncaught|Error/.test(r.out)) throw new Error(`${c.name}: the real interpreter reported: ${r.out.slice(-400)}`);
        cache[k] = { insns: r.insns, bench: /HLBENCH .*/.exec(r.out)?.[0] ?? '' };
        writeFileSync(CACHE, JSON.stringify(cache, null, 1));
        process.stderr.write(`  ${c.name}: ${r.insns} insns (${((Date.now() - t0) / 1000).toFixed(1)} s under qemu)\n`);
      }
      counts.push(cache[k].insns);
      benches.push(cache[k].bench);
    }
    const v0 = vmFeatures(c.vm[0]), v1 = vmFeatures(c.vm[1]);
    const f0 = v0.features, f1 = v1.features;
    // The app cases must end where the real run ended (state, bytes fed, frames; steps within 1 %:
    // checked every 20 ms, and the shim's timers drift a little from the real ones), and both are
    // taken per step of their own run.
    const parse = (l: string) => (l ? (JSON.parse(l.slice(8)) as { steps: number; state: string; fed: number; frames: number }) : null);
    let scale = 1;
    const vs = [v0, v1].map((v) => parse(v.printed.find((l) => l.startsWith('HLBENCH')) ?? ''));
    const rs = benches.map(parse);
    if (vs[0] || rs[0]) {
      for (let i = 0; i < 2; i++) {
        const a = vs[i], b = rs[i];
        if (!a || !b || a.state !== b.state || a.fed !== b.fed || a.frames !== b.frames || Math.abs(a.steps / b.steps - 1) > 0.01)
          throw new Error(`${c.name}: node:vm ended as ${JSON.stringify(a)}, the real interpreter as ${JSON.stringify(b)}`);
      }
      scale = (rs[1]!.steps - rs[0]!.steps) / (vs[1]!.steps - vs[0]!.steps);
      c.units = rs[1]!.steps - rs[0]!.steps;
    }
    rows.push({ name: c.name, what: c.what, f: f1.map((v, i) => (v - f0[i]) * scale), real: counts[1] - counts[0], units: c.units, unit: c.unit });
  }
  if (only.length > 0) {
    for (const r of rows) console.log(r.name, (r.real / r.units).toFixed(0), 'insns/' + r.unit, JSON.stringify(r.f.map((v) => +(v / r.units).toFixed(2))));
    return;
  }
  const all = fit(rows);
  const trainRows = rows.filter((r) => !HELD_OUT.includes(r.name));
  const train = fit(trainRows);
  console.log(`Espruino cost model fit: ${rows.length} cases, ARM instructions (Pico-like 32-bit build, qemu-arm, virtual time)`);
  console.log(`weights (insns per unit, fitted on all cases): ${FEATURES.map((f, i) => `${f} ${all[i].toFixed(1)}`).join(', ')}`);
  console.log('case            real/unit    model/unit  err(all)  err(leave-one-out)  err(held-out fit)');
  let looSq = 0, heldSq = 0, heldN = 0;
  for (const r of rows) {
    const loo = fit(rows.filter((x) => x !== r));
    const e = (w: number[]) => predict(w, r.f) / r.real - 1;
    looSq += e(loo) ** 2;
    const held = HELD_OUT.includes(r.name);
    if (held) {
      heldSq += e(train) ** 2;
      heldN++;
    }
    console.log(
      `${r.name.padEnd(14)} ${(r.real / r.units).toFixed(0).padStart(10)}  ${(predict(all, r.f) / r.units).toFixed(0).padStart(10)}  ` +
        `${(100 * e(all)).toFixed(1).padStart(7)} %  ${(100 * e(loo)).toFixed(1).padStart(8)} %  ${held ? (100 * e(train)).toFixed(1).padStart(8) + ' % (held out)' : (100 * e(train)).toFixed(1).padStart(8) + ' %'}   insns/${r.unit}`,
    );
  }
  const looRms = Math.sqrt(looSq / rows.length), heldRms = Math.sqrt(heldSq / Math.max(1, heldN));
  console.log(`leave-one-out RMS error ${(100 * looRms).toFixed(1)} %; held-out (${HELD_OUT.join(', ')}) RMS error ${(100 * heldRms).toFixed(1)} %`);
  const app = rows.filter((r) => r.name.startsWith('app'));
  writeFileSync(
    FIT_OUT,
    JSON.stringify(
      {
        about: 'bench/espruino-cost/calibrate.ts: ARM instructions per feature unit of sim/targets/espruino-cost.ts, fitted (non-negative least squares, relative error) on the real Pico-like ARM Espruino build under qemu-arm with virtual time',
        espruino: readFileSync(`${process.env.HOOKLINE_REALCHIPS ?? '../shared/realchips'}/espruino/bin/COMMIT`, 'utf8').trim(),
        app: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
        appSha256,
        weights: Object.fromEntries(FEATURES.map((f, i) => [f, +all[i].toFixed(2)])),
        looRmsError: +looRms.toFixed(3),
        heldOutRmsError: +heldRms.toFixed(3),
        heldOut: HELD_OUT,
        cases: rows.map((r) => ({ name: r.name, what: r.what, unit: r.unit, realPerUnit: Math.round(r.real / r.units), modelPerUnit: Math.round(predict(all, r.f) / r.units) })),
        appInsnsPerStep: app.map((r) => ({ name: r.name, real: Math.round(r.real / r.units) })),
      },
      null,
      1,
    ) + '\n',
  );
  // The bundle and stream measured, kept with the fit: the test checks the model on exactly them.
  mkdirSync(FIXTURE, { recursive: true });
  writeFileSync(`${FIXTURE}/app.js`, measured.app);
  writeFileSync(`${FIXTURE}/plan.hls`, Buffer.from(measured.stream, 'latin1'));
  console.log(`wrote ${FIT_OUT} and ${FIXTURE}/`);
  void NF;
  void existsSync;
}

await main();
