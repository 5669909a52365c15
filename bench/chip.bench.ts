// `npm run bench:chip`: what each target's interpreter costs on its chips (issue #15), each figure
// labelled with the measurement it comes from:
//   cost per step (and per entry into the app: a timer callback or a refill), the load at the
//   profile's peak step rate, the steps/s ceiling (clock / cycles per step), memory at rest.
// Espruino (pico): the real interpreter's ARM instruction counts (bench:espruino-calibrate, stored
// in sim/targets/espruino-cost-fit.json) and the cost model in `hookline sim --chip pico`; JsVars
// at rest measured in the Pico-like ARM build (13-byte JsVars, 5100) when ../shared/realchips is
// here. NodeMCU (esp32, esp8266): `hookline sim --chip` with sim/chip/lua-cost.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fit from '../sim/targets/espruino-cost-fit.json';
import { PICO } from '../sim/targets/espruino-cost';
import { CHIPS } from '../sim/chip/chips';
import { appHarness, appStream, benchSteps } from './espruino-cost/app-harness';
import { vmFeatures } from './espruino-cost/vmrun';
import { armCount, pretokenise, realAvailable } from './espruino-cost/real';
import { canonicalJson, machineHash } from '../host/stream/machine-hash';

type Machine = { axes: Record<string, { stepsPerMm: number; maxSpeedMmS: number }> };

/** The profile's peak step rate: X and Y together at their top speeds, or Z alone, whichever is more. */
function peakStepRate(m: Machine): number {
  const r = (k: string) => (m.axes[k] ? m.axes[k].stepsPerMm * m.axes[k].maxSpeedMmS : 0);
  return Math.max(r('x') + r('y'), r('z'));
}

interface SimChip {
  steps: number;
  /** report.json stepGenerator (hardware-timed segments), when the target has one. */
  segments: number | null;
  machineSeconds: number;
  chip: { cycles: number; entries: number; load: { average: number; peak: number }; late: { count: number } };
  ok: boolean;
}

function sim(hls: string, machine: string, target: string, chip: string, timeoutS = 900): SimChip {
  const out = mkdtempSync(join(tmpdir(), 'hookline-bench-chip-'));
  try {
    execFileSync(process.execPath, ['bin/hookline.js', 'sim', hls, '--machine', machine, '--target', target, '--chip', chip, '-o', out, '--width', '256'], { stdio: 'pipe', timeout: timeoutS * 1000 });
  } catch (e) {
    // a failed verdict (late steps) still writes its report
    if ((e as { signal?: string }).signal) throw new Error(`hookline sim --target ${target} --chip ${chip} did not finish in ${timeoutS} s`);
  }
  const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const steps = typeof r.steps === 'number' ? r.steps : Object.values(r.steps ?? {}).reduce((s: number, v) => s + (typeof v === 'number' ? v : 0), 0);
  return { steps, segments: r.stepGenerator?.segments ?? null, machineSeconds: r.machineSeconds, chip: r.chip, ok: r.ok };
}

const f0 = (x: number) => x.toFixed(0);
const k = (x: number) => `${(x / 1000).toFixed(0)} k`;

async function jsVarsAtRest(): Promise<string> {
  const why = realAvailable();
  if (why) return `not measured (${why})`;
  const app = await pretokenise(readFileSync('dist/espruino/app.js', 'utf8'));
  const m = JSON.parse(readFileSync('machines/ref-gantry.json', 'utf8'));
  const boot =
    `\nrequire("Storage").write("hookline.json",${JSON.stringify(canonicalJson(m))});require("Storage").write("hookline.hash","${machineHash(m)}");` +
    `LoopbackA.setConsole=function(){};E.emit("init");setTimeout(function(){print("HLMEM "+JSON.stringify(process.memory()));quit();},3000);\n`;
  const fresh = `setTimeout(function(){print("HLMEM "+JSON.stringify(process.memory()));quit();},10);\n`;
  const [a, b] = [await armCount(Buffer.concat([app, Buffer.from(boot, 'latin1')])), await armCount(fresh)];
  const mem = (o: string) => JSON.parse(/HLMEM (\{.*\})/.exec(o)![1]) as { usage: number; total: number; free: number };
  const ma = mem(a.out), mb = mem(b.out);
  return `${ma.usage} of ${ma.total} used after boot + 3 s at rest (${((100 * ma.usage) / ma.total).toFixed(0)} %; fresh interpreter ${mb.usage}; app ≈ ${ma.usage - mb.usage}) — measured: Pico-like ARM build (13-byte JsVars) under qemu, file mode, code as a native string like .bootcde, process.memory()`;
}

/** Where the interpreter's work goes with step segments: the model per function (own work, callees apart). */
function profileSegments(): void {
  const app = readFileSync('dist/espruino/app.js', 'utf8');
  const stream = appStream();
  const names: string[] = [];
  const r0 = vmFeatures(app + appHarness(stream, 10000, true), 5e7, 'profile', names);
  const r1 = vmFeatures(app + appHarness(stream, 60000, true), 5e7, 'profile', []);
  const seg = (r: { printed: string[] }) => (JSON.parse(r.printed.find((l) => l.startsWith('HLBENCH'))!.slice(8)) as { segments: number }).segments;
  const steps = benchSteps(r1.printed) - benchSteps(r0.printed), segments = seg(r1) - seg(r0);
  const d = r1.features.map((v, i) => v - (r0.features[i] ?? 0));
  const total = d.reduce((a, b) => a + b, 0);
  console.log(
    `  with step segments (model, node:vm harness with a JavaScript generator, steps 10000 → 60000: ${steps} steps, ${segments} segments): ` +
      `${k(total / steps)} ARM insns/step, ${k(total / segments)} per segment (${k((total / segments) * PICO.cpi)} cycles) → ceiling ${f0(84e6 / ((total / steps) * PICO.cpi))} steps/s; where it goes (own work per function):`,
  );
  const top = d.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 10);
  for (const [v, i] of top) console.log(`    ${(100 * v / total).toFixed(1).padStart(5)} %  ${k(v / segments).padStart(7)} insns/segment  ${names[i]}`);
}

/**
 * machines/ref-gantry-pico.json (what a Pico drives) on a 3000-line plan charged to the Pico: the
 * verdict, machine time against ref-gantry's native floor, the load, cycles per hook and per phase.
 */
function picoProfile(): void {
  const dir = 'dist/realchips/plan3000';
  const hls = `${dir}/plan-pico.hls`;
  if (!existsSync(`${dir}/plan.json`)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(process.execPath, ['bin/hookline.js', 'plan', 'examples/coffee.png', '-o', dir, '--lines', '3000', '--quiet']);
  }
  execFileSync(process.execPath, ['bin/hookline.js', 'encode', `${dir}/plan.json`, '-o', hls, '--machine', 'machines/ref-gantry-pico.json']);
  const s = sim(hls, 'machines/ref-gantry-pico.json', 'espruino', 'pico', 1800);
  const load = s.chip.load as { average: number; peak: number; peakMoving?: number };
  console.log(
    `  machines/ref-gantry-pico.json (0.3x, 8-chord wraps), 3000-line coffee plan: verdict ${s.ok ? 'ok' : 'FAILED'}, ${(s.machineSeconds / 3600).toFixed(2)} h of machine time, ` +
      `load ${(100 * load.average).toFixed(0)} % average, ${(100 * (load.peakMoving ?? load.peak)).toFixed(0)} % peak per 100 ms while moving, ${(s.chip.cycles / 3001 / 1e6).toFixed(0)} M cycles per hook, ` +
      `${s.segments ?? 0} phases (${k(s.chip.cycles / Math.max(1, s.segments ?? 1))} cycles each, all work included), ${s.chip.late.count} late timers — model: hookline sim --chip pico`,
  );
}

/**
 * machines/ref-gantry-esp32-nodemcu.json (what NodeMCU on an ESP32 drives) on the 3000-line plan
 * charged to the ESP32: the verdict, machine time against native on the same profile, the load.
 */
function esp32NodemcuProfile(): void {
  const dir = 'dist/realchips/plan3000';
  const machine = 'machines/ref-gantry-esp32-nodemcu.json';
  const hls = `${dir}/plan-esp32-nodemcu.hls`;
  execFileSync(process.execPath, ['bin/hookline.js', 'encode', `${dir}/plan.json`, '-o', hls, '--machine', machine]);
  const out = mkdtempSync(join(tmpdir(), 'hookline-bench-chip-native-'));
  execFileSync(process.execPath, ['bin/hookline.js', 'sim', hls, '--machine', machine, '-o', out, '--width', '256'], { stdio: 'pipe' });
  const native = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { machineSeconds: number; floorSeconds: number };
  const s = sim(hls, machine, 'nodemcu', 'esp32', Number(process.env.BENCH_CHIP_TIMEOUT_S ?? 3600));
  const load = s.chip.load as { average: number; peak: number; peakMoving?: number };
  console.log(
    `  ${machine} (0.5x, 24-chord wraps), 3000-line coffee plan: verdict ${s.ok ? 'ok' : 'FAILED'}, ${(s.machineSeconds / 3600).toFixed(2)} h of machine time ` +
      `(native ${(native.machineSeconds / 3600).toFixed(2)} h, ${(native.machineSeconds / native.floorSeconds).toFixed(2)}x its floor), ` +
      `load ${(100 * load.average).toFixed(0)} % average, ${(100 * (load.peakMoving ?? load.peak)).toFixed(0)} % peak per 100 ms while moving, ${k(s.chip.cycles / Math.max(1, s.steps))} cycles/step all work included, ` +
      `${s.chip.late.count} late timers — model: hookline sim --chip esp32 (sim/chip/lua-cost.ts)`,
  );
}

async function main() {
  appStream(); // dist/realchips/plan30: a 30-line plan of examples/coffee.png bound to ref-gantry
  const gantry = JSON.parse(readFileSync('machines/ref-gantry.json', 'utf8')) as Machine;
  const peak = peakStepRate(gantry);

  console.log(`Espruino on pico (${CHIPS.pico.label}); ref-gantry peak step rate ${peak} steps/s (X+Y at top speed)`);
  for (const c of fit.cases.filter((x) => x.name.startsWith('app'))) {
    const cyc = c.realPerUnit * PICO.cpi;
    console.log(
      `  real interpreter, ${c.what}: ${k(c.realPerUnit)} ARM insns/step × CPI ${PICO.cpi} (${PICO.cpiLow}–${PICO.cpiHigh}) = ${k(cyc)} cycles/step → ceiling ${f0(84e6 / cyc)} steps/s ` +
        `(${f0(84e6 / (c.realPerUnit * PICO.cpiHigh))}–${f0(84e6 / (c.realPerUnit * PICO.cpiLow))}); load at ${peak} steps/s: ${((peak * cyc) / 84e6 * 100).toFixed(0)} % — measured: qemu-arm instruction count, virtual time (bench:espruino-calibrate, app ${fit.app})`,
    );
  }
  const timer = fit.cases.find((c) => c.name === 'timerchain')!;
  console.log(`  floor for any per-step JS callback (empty setTimeout chain): ${k(timer.realPerUnit)} ARM insns = ${k(timer.realPerUnit * PICO.cpi)} cycles → ≤ ${f0(84e6 / (timer.realPerUnit * PICO.cpi))} callbacks/s — measured: qemu-arm`);
  const s = sim('dist/realchips/plan30/plan.hls', 'machines/ref-gantry.json', 'espruino', 'pico');
  const perStep = s.chip.cycles / Math.max(1, s.steps);
  const perEntry = s.chip.cycles / Math.max(1, s.chip.entries);
  console.log(
    `  model (hookline sim --chip pico, 30-line plan, ${s.steps} steps, ${s.chip.entries} entries): ${k(perStep)} cycles/step, ${k(perEntry)} cycles per entry (timer callback / command) → ceiling ${f0(84e6 / perStep)} steps/s; ` +
      `load at ${peak} steps/s ${((peak * perStep) / 84e6 * 100).toFixed(0)} %; in the run: load average ${(100 * s.chip.load.average).toFixed(0)} %, peak ${(100 * s.chip.load.peak).toFixed(0)} %, ${s.chip.late.count} late steps, verdict ${s.ok ? 'ok' : 'FAILED'} — model: sim/targets/espruino-cost.ts (fit held-out error ${(100 * fit.heldOutRmsError).toFixed(0)} %)`,
  );
  console.log(
    s.segments
      ? `  per segment: ${k(s.chip.cycles / s.segments)} cycles (all the interpreter's work / ${s.segments} segments, ${(s.steps / s.segments).toFixed(1)} steps each) — model, the same run`
      : `  per segment: no step segments in this run (report.json stepGenerator null): ${s.chip.entries >= s.steps * 0.9 ? 'one timer callback per step, so per entry = per step' : `${(s.steps / s.chip.entries).toFixed(1)} steps per entry`}`,
  );
  console.log(`  JsVars at rest: ${await jsVarsAtRest()}`);
  profileSegments();
  picoProfile();

  for (const [chip, machine] of [['esp32', 'machines/ref-gantry-esp32.json'], ['esp8266', 'machines/ref-gantry-esp32.json']] as const) {
    const m = JSON.parse(readFileSync(machine, 'utf8')) as Machine;
    const pk = peakStepRate(m);
    // A 6-line plan: the Lua VM under fengari with its count hook is slow (minutes per 100 k steps).
    const hls = `dist/realchips/plan6/plan-${machine.replace(/.*\//, '').replace('.json', '')}.hls`;
    if (!existsSync('dist/realchips/plan6/plan.json')) {
      mkdirSync('dist/realchips/plan6', { recursive: true });
      execFileSync(process.execPath, ['bin/hookline.js', 'plan', 'examples/coffee.png', '-o', 'dist/realchips/plan6', '--lines', '6', '--quiet']);
    }
    execFileSync(process.execPath, ['bin/hookline.js', 'encode', 'dist/realchips/plan6/plan.json', '-o', hls, '--machine', machine]);
    const def = CHIPS[chip];
    let r: SimChip;
    try {
      r = sim(hls, machine, 'nodemcu', chip, Number(process.env.BENCH_CHIP_TIMEOUT_S ?? 600));
    } catch (e) {
      console.log(`NodeMCU on ${chip}: sim failed (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const ps = r.chip.cycles / Math.max(1, r.steps);
    const hz = def.mhz * 1e6;
    if (r.steps === 0) {
      console.log(
        `NodeMCU on ${chip} (${def.label}); ${machine}: model (hookline sim --chip ${chip}, 6-line plan): no step made (${(r.chip.cycles / 1e6).toFixed(0)} M cycles in ${r.chip.entries} entries, load peak ${(100 * r.chip.load.peak).toFixed(0)} %, ${r.chip.late.count} late), verdict ${r.ok ? 'ok' : 'FAILED'}: no per-step figure — docs/targets/nodemcu.md, "Open"`,
      );
      if (def.freeHeap) console.log(`  free heap after boot: ${def.freeHeap.bytes} B — published: ${def.freeHeap.source}`);
      continue;
    }
    console.log(
      `NodeMCU on ${chip} (${def.label}); ${machine} peak ${pk} steps/s: model (hookline sim --chip ${chip}, 6-line plan, ${r.steps} steps): ${k(ps)} cycles/step, ` +
        `${k(r.chip.cycles / Math.max(1, r.chip.entries))} per entry → ceiling ${f0(hz / ps)} steps/s; load at ${pk} steps/s ${((pk * ps) / hz * 100).toFixed(0)} %; run: load peak ${(100 * r.chip.load.peak).toFixed(0)} %, ${r.chip.late.count} late, verdict ${r.ok ? 'ok' : 'FAILED'} — model: sim/chip/lua-cost.ts (Lua VM instructions counted with a hook × published cycles)`,
    );
    if (r.segments) console.log(`  per segment: ${k(r.chip.cycles / r.segments)} cycles (${r.segments} segments, ${(r.steps / r.segments).toFixed(1)} steps each) — model, the same run`);
    if (def.freeHeap) console.log(`  free heap after boot: ${def.freeHeap.bytes} B — published: ${def.freeHeap.source}`);
  }
  console.log('NodeMCU on esp32, the profile it drives:');
  esp32NodemcuProfile();
}

await main();
