// `npm run bench:plan-bound [-- --images=coffee,horse --iterations=250]` (issue 17): how far
// the planner's model can go. For each bench image, the continuous relaxation of the mono problem
// (160 flanked hooks, 3000 lines, 600 mm, 0.12 mm): a strength 0 ≤ x ≤ 1 per nail pair, Σ x ≤ 3000,
// minimising the planner's model error (coverage → darkness 1 − (1 − s/3.5)^3.5, inside the
// nails' hull) by projected gradient; once for the per-pixel error (rmse) and once for the error
// after the metric's 2 mm Gaussian (rmse_view). Fractional thread is allowed, which no plan can
// have, so the figures bound what whole threads can do in this model; the greedy plan of
// `hookline plan` is scored in the same model beside it. Slow: ~2–3 min per image and objective.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parsePlanArgs } from '../host/commands/plan';
import { boardSetup, makeMonoPlan, DEFAULT_HOOK_MM } from '../host/plan/make';
import { loadGrey } from '../host/plan/image';
import { flankNails, defaultMinGap } from '../host/plan/layout';
import { traceSegment } from '../host/plan/grid';
import { hullMask } from '../host/plan/metric';

const IMAGES = resolve('../shared/bench/images');
// bench/run.mjs passes on `--name=value` flags (a bare word would name a bench).
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const names = (arg('images') ?? 'coffee,chelsea,rocket,coins,moon,horse').split(',');
const iterations = Number(arg('iterations') ?? 250);
const LINES = 3000;
const M = 3.5;
if (!existsSync(IMAGES)) {
  console.error(`bench:plan-bound: ${IMAGES} not found`);
  process.exit(1);
}

/** Separable Gaussian blur, truncated at 4 sigma, reflected edges (as the metric's view blur). */
function blurrer(width: number, height: number, sigma: number) {
  const r = Math.ceil(4 * sigma);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const refl = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
  const tmp = new Float64Array(width * height);
  return (src: Float64Array, dst: Float64Array) => {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r] * src[y * width + refl(x + i, width)];
      tmp[y * width + x] = a;
    }
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r] * tmp[refl(y + i, height) * width + x];
      dst[y * width + x] = a;
    }
  };
}

console.log(`relaxation bound, ${LINES} lines, ${iterations} projected-gradient iterations; model rmse inside the hull (the planner's model, not the metric's render)`);
console.log('image    objective  greedy  relaxed  relaxed/greedy');
for (const name of names) {
  const image = join(IMAGES, `${name}.png`);
  const o = parsePlanArgs([image, '-o', '/nonexistent', '--lines', String(LINES), '--seed', '1']);
  const { board, nails: hooks, crop, width, height } = await boardSetup(o);
  const grey = await loadGrey(image, crop, width, height);
  const t = Float64Array.from(grey.data, (g) => 1 - g);
  const sx = width / board.widthMm;
  const H = hooks.length;
  const minGap = defaultMinGap(H);
  const nails = flankNails(hooks, board, undefined, DEFAULT_HOOK_MM / 2 + o.threadMm / 2).map(([x, y]) => [x * sx, y * sx]);
  // Every nail pair as a sparse column (pixel, coverage), in the planner's chord order.
  const key = new Map<number, number>();
  const starts = [0];
  let idx = new Int32Array(1 << 22);
  let amt = new Float32Array(1 << 22);
  let used = 0;
  const ti = new Int32Array(width + height + 4);
  const tl = new Float32Array(width + height + 4);
  const threadPx = o.threadMm * sx;
  for (let b = 1; b < nails.length; b++) for (let a = 0; a < b; a++) {
    const ring = Math.abs((b >> 1) - (a >> 1));
    if (Math.min(ring, H - ring) < minGap) continue;
    const c = traceSegment(nails[a][0], nails[a][1], nails[b][0], nails[b][1], width, height, ti, tl);
    if (used + c > idx.length) {
      const ni = new Int32Array(idx.length * 2);
      ni.set(idx);
      idx = ni;
      const na = new Float32Array(amt.length * 2);
      na.set(amt);
      amt = na;
    }
    for (let i = 0; i < c; i++) {
      idx[used] = ti[i];
      amt[used++] = tl[i] * threadPx;
    }
    key.set(a * nails.length + b, starts.length - 1);
    starts.push(used);
  }
  const C = starts.length - 1;
  const st = Int32Array.from(starts);
  const P = width * height;
  const mask = hullMask(hooks, board, width, height);
  const mk = Float64Array.from(mask);
  const blur = blurrer(width, height, (2 * width) / board.widthMm);
  const bm = new Float64Array(P);
  blur(mk, bm);
  const tv = new Float64Array(P);
  blur(Float64Array.from(t, (v, p) => v * mk[p]), tv);
  for (let p = 0; p < P; p++) tv[p] = bm[p] > 1e-9 ? tv[p] / bm[p] : 0;
  const s = new Float64Array(P);
  const g = new Float64Array(P);
  const grad = new Float64Array(C);
  const dv = new Float64Array(P);
  const bd = new Float64Array(P);
  const rr = new Float64Array(P);
  const tp = new Float64Array(P);
  /** Model error (mean square inside the hull) of strengths v, and its gradient into `grad`. */
  const evaluate = (v: Float64Array, view: boolean, wantGrad: boolean): number => {
    s.fill(0);
    for (let c = 0; c < C; c++) {
      const x = v[c];
      if (x !== 0) for (let q = st[c]; q < st[c + 1]; q++) s[idx[q]] += x * amt[q];
    }
    let f = 0;
    let n = 0;
    if (!view) {
      for (let p = 0; p < P; p++) {
        if (!mask[p]) {
          g[p] = 0;
          continue;
        }
        const r = Math.max(0, 1 - s[p] / M);
        const d = 1 - Math.pow(r, M) - t[p];
        f += d * d;
        n++;
        g[p] = 2 * d * Math.pow(r, M - 1);
      }
    } else {
      for (let p = 0; p < P; p++) {
        const r = Math.max(0, 1 - s[p] / M);
        dv[p] = (1 - Math.pow(r, M)) * mk[p];
        tp[p] = Math.pow(r, M - 1);
      }
      blur(dv, bd);
      for (let p = 0; p < P; p++) {
        if (!mask[p]) {
          rr[p] = 0;
          continue;
        }
        const d = bd[p] / bm[p] - tv[p];
        f += d * d;
        n++;
        rr[p] = (2 * d) / bm[p];
      }
      if (wantGrad) {
        blur(rr, bd);
        for (let p = 0; p < P; p++) g[p] = mk[p] * bd[p] * tp[p];
      }
    }
    if (wantGrad) {
      for (let c = 0; c < C; c++) {
        let a = 0;
        for (let q = st[c]; q < st[c + 1]; q++) a += amt[q] * g[idx[q]];
        grad[c] = a;
      }
    }
    return f / n;
  };
  /** Projection onto 0 ≤ x ≤ 1, Σ x ≤ LINES (a shift found by bisection). */
  const project = (v: Float64Array) => {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += v[c] = Math.min(1, Math.max(0, v[c]));
    if (sum <= LINES) return;
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 50; it++) {
      const mu = (lo + hi) / 2;
      let s2 = 0;
      for (let c = 0; c < C; c++) s2 += Math.min(1, Math.max(0, v[c] - mu));
      if (s2 > LINES) lo = mu;
      else hi = mu;
    }
    for (let c = 0; c < C; c++) v[c] = Math.min(1, Math.max(0, v[c] - hi));
  };
  // The greedy plan in the same model.
  const { plan } = await makeMonoPlan({ ...o });
  const xg = new Float64Array(C);
  for (const [, u, w] of plan.lines) xg[key.get(Math.min(u, w) * nails.length + Math.max(u, w))!] = 1;
  for (const view of [false, true]) {
    const greedy = Math.sqrt(evaluate(xg, view, false));
    const x = new Float64Array(C).fill(LINES / C);
    const next = new Float64Array(C);
    let f = evaluate(x, view, true);
    let step = 1e-4;
    // Projected gradient, a step taken only when it lowers the error (halved until it does), the
    // step grown 5 % after each; it starts small: large first steps saturate the darkness, where
    // the gradient vanishes.
    for (let it = 0; it < iterations && step > 1e-12; it++) {
      for (;;) {
        for (let c = 0; c < C; c++) next[c] = x[c] - step * grad[c];
        project(next);
        const fn = evaluate(next, view, false);
        if (fn <= f) {
          x.set(next);
          f = evaluate(x, view, true);
          break;
        }
        step *= 0.5;
        if (step < 1e-12) break;
      }
      step *= 1.05;
    }
    const relaxed = Math.sqrt(f);
    console.log(`${name.padEnd(8)} ${(view ? 'rmse_view' : 'rmse').padEnd(9)}  ${greedy.toFixed(4)}  ${relaxed.toFixed(4)}   ${(relaxed / greedy).toFixed(3)}`);
  }
}
