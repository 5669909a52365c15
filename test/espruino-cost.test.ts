// The Espruino cost model (sim/targets/espruino-cost.ts): the instrumented bundle behaves exactly as
// the plain one; the model, computed now, agrees with the real interpreter's instruction counts
// stored by the last calibration (sim/targets/espruino-cost-fit.json, from
// `npm run bench:espruino-calibrate`): it ranks the workloads as the real counts do and predicts the
// app's cost per step within the fit's error. Where ../shared/realchips is present, a few workloads
// are counted again in the real interpreter under qemu (seconds): the counts repeat to 0.01 % (the
// idle loop reads the real clock).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { instructionsOf, instrumentForCost, FEATURES, PICO, WEIGHTS } from '../sim/targets/espruino-cost';
import fit from '../sim/targets/espruino-cost-fit.json';
import { WORKLOADS } from '../bench/espruino-cost/workloads';
import { vmFeatures } from '../bench/espruino-cost/vmrun';
import { APP_WINDOWS, appHarness, appStream, benchSteps } from '../bench/espruino-cost/app-harness';
import { armCount, pretokenise, realAvailable } from '../bench/espruino-cost/real';

const APP = readFileSync('dist/espruino/app.js', 'utf8');
const cases = new Map(fit.cases.map((c) => [c.name, c]));

const minified = (src: string) => transformSync(src, { minify: true, target: 'es5', loader: 'js' }).code;
const tail = (w: (typeof WORKLOADS)[number], n: number) => (w.async ? `\nhlWork(${n});\n` : `\nhlWork(${n});quit();\n`);

/** Modelled instructions per unit of a workload, from its features in node:vm now. */
function modelPerUnit(w: (typeof WORKLOADS)[number]): number {
  const min = minified(w.src);
  const f0 = vmFeatures(min + tail(w, w.n0)).features;
  const f1 = vmFeatures(min + tail(w, w.n1)).features;
  return instructionsOf(f1.map((v, i) => v - f0[i])) / (w.n1 - w.n0);
}

function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]) => {
    const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    idx.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const ra = rank(a), rb = rank(b), n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe('espruino cost model', () => {
  it('counts what a loop executes: its body per iteration, the function once per call', () => {
    const src = 'function f(n){var s=0;for(var i=0;i<n;i++){s+=i}return s}';
    const r10 = vmFeatures(src + '\nf(10);quit();').features;
    const r110 = vmFeatures(src + '\nf(110);quit();').features;
    const call = FEATURES.indexOf('call'), exec = FEATURES.indexOf('exec'), lex = FEATURES.indexOf('lex');
    expect(r110[call] - r10[call]).toBe(0);
    // 100 more iterations: the same tokens each time
    expect((r110[exec] - r10[exec]) % 100).toBe(0);
    expect(r110[exec] - r10[exec]).toBeGreaterThan(0);
    expect((r110[lex] - r10[lex]) % 100).toBe(0);
  });

  it('the instrumented app behaves exactly as the plain one (output, pin edges and their times)', () => {
    const code = APP + appHarness(appStream(), 3000);
    const plain = vmFeatures(code, 1e7, 'plain');
    const feat = vmFeatures(code, 1e7, 'features');
    const cost = vmFeatures(code, 1e7, 'cost');
    expect(plain.printed.some((l) => l.startsWith('HLBENCH'))).toBe(true);
    expect(plain.edges).toBeGreaterThan(6000);
    for (const r of [feat, cost]) {
      expect(r.printed).toEqual(plain.printed);
      expect(r.edges).toBe(plain.edges);
      expect(r.edgeHash).toBe(plain.edgeHash);
      expect(r.events).toBe(plain.events);
    }
    // cost mode adds what features mode counts, weighted (the event loop's dispatch is the runner's)
    const d = FEATURES.indexOf('dispatch');
    const expected = instructionsOf(feat.features) - feat.features[d] * WEIGHTS[d];
    expect(Math.abs(cost.features[0] / expected - 1)).toBeLessThan(0.005);
    expect(() => instrumentForCost(APP, { mode: 'cost' })).not.toThrow();
  });

  it('ranks the calibration workloads as the real interpreter does, each within 25 %', () => {
    const real: number[] = [], model: number[] = [];
    for (const w of WORKLOADS) {
      const c = cases.get(w.name);
      expect(c, `${w.name} in espruino-cost-fit.json (rerun npm run bench:espruino-calibrate)`).toBeDefined();
      const m = modelPerUnit(w);
      real.push(c!.realPerUnit);
      model.push(m);
      expect(Math.abs(m / c!.realPerUnit - 1), `${w.name}: model ${m.toFixed(0)} vs real ${c!.realPerUnit} insns/iteration`).toBeLessThan(0.25);
    }
    expect(spearman(real, model)).toBeGreaterThan(0.9);
  });

  // The app's real counts are for the bundle and stream the calibration measured (kept with it).
  const CAL = 'bench/espruino-cost/calibrated';
  const calApp = existsSync(`${CAL}/app.js`) ? readFileSync(`${CAL}/app.js`, 'utf8') : '';
  const sameApp = createHash('sha256').update(calApp).digest('hex').slice(0, 16) === fit.appSha256;
  it.skipIf(!sameApp)(`predicts the calibrated app's instructions per step within 15 % of the real count${sameApp ? '' : ` (skipped: ${CAL}/app.js is not the bundle the fit measured)`}`, () => {
    const stream = readFileSync(`${CAL}/plan.hls`).toString('latin1');
    for (const [name, a, b, seg] of APP_WINDOWS) {
      const c = cases.get(name);
      if (!c) continue; // a window the last calibration did not have
      const r0 = vmFeatures(calApp + appHarness(stream, a, seg)), r1 = vmFeatures(calApp + appHarness(stream, b, seg));
      const m = instructionsOf(r1.features.map((v, i) => v - r0.features[i])) / (benchSteps(r1.printed) - benchSteps(r0.printed));
      expect(Math.abs(m / c.realPerUnit - 1), `${name}: model ${m.toFixed(0)} vs real ${c.realPerUnit}`).toBeLessThan(0.15);
    }
  });

  it('hookline sim --target espruino --chip pico charges the model: instructions × CPI, dispatches, entries', () => {
    appStream();
    const out = mkdtempSync(join(tmpdir(), 'hookline-espruino-cost-'));
    try {
      execFileSync(process.execPath, ['bin/hookline.js', 'sim', 'dist/realchips/plan30/plan.hls', '--machine', 'machines/ref-gantry.json', '--target', 'espruino', '--chip', 'pico', '-o', out], { stdio: 'pipe' });
    } catch {
      // a failed verdict (late steps) still writes its report
    }
    const c = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).chip as {
      name: string; cycles: number; entries: number; workSeconds: number; breakdown: { what: string; count: number; cycles: number }[];
    };
    expect(c.name).toBe('pico');
    const js = c.breakdown.find((b) => b.what.startsWith('JavaScript'))!;
    const dispatch = c.breakdown.find((b) => b.what.startsWith('event-loop dispatch'))!;
    expect(js.count).toBeGreaterThan(1e6);
    expect(js.cycles / js.count).toBeCloseTo(PICO.cpi, 2);
    expect(dispatch.cycles / dispatch.count).toBeCloseTo(WEIGHTS[FEATURES.indexOf('dispatch')] * PICO.cpi, 0);
    expect(c.entries).toBeGreaterThanOrEqual(dispatch.count);
    expect(js.cycles + dispatch.cycles).toBeCloseTo(c.cycles, -3);
    expect(c.workSeconds).toBeCloseTo(c.cycles / 84e6, 0);
  }, 120_000);

  const why = realAvailable();
  it.skipIf(why !== null)(`the real interpreter's counts repeat and match the calibration${why ? ` (skipped: ${why})` : ''}`, async () => {
    for (const name of ['loop', 'calls', 'timerchain']) {
      const w = WORKLOADS.find((x) => x.name === name)!;
      const tok = await pretokenise(minified(w.src));
      const s0 = Buffer.concat([tok, Buffer.from(tail(w, w.n0))]);
      const s1 = Buffer.concat([tok, Buffer.from(tail(w, w.n1))]);
      const [a, b, a2] = [await armCount(s0), await armCount(s1), await armCount(s0)];
      // Within 0.01 %, not exactly: Espruino's idle loop reads the host's real clock, and a run once
      // took 129 instructions fewer of 16.3 M (CI, 6 Dec).
      expect(Math.abs(a2.insns - a.insns)).toBeLessThanOrEqual(a.insns * 1e-4);
      expect(Math.round((b.insns - a.insns) / (w.n1 - w.n0))).toBe(cases.get(name)!.realPerUnit);
    }
  }, 120_000);
});
