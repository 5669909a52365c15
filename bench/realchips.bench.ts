// `npm run bench:realchips`: hookline's machine-time figures next to real firmware on a simulated
// Arduino Uno (simavr, ../shared/realchips/avr; issue #14).
// 1. One 20-line plan (examples/coffee.png --lines 20) on machines/ref-gantry.json, side by side:
//    `hookline estimate` (device runtime path), the "estimated time" header of `hookline gcode
//    --dialect grbl`, and stock Grbl 1.1h's job time after $H in simavr (as test/grbl-real.test.ts).
// 2. A 3-line plan from the same power-on position (X/Y 350 mm, Z 15 mm: mid-travel): the johnny-five
//    target on the fake Firmata board (sim/targets/firmata-board.ts, in-process, as `hookline sim
//    --target johnny-five`) vs `hookline run --target johnny-five` on stock ConfigurableFirmata 3.4 in
//    simavr at real time (-r 1, as test/firmata-real.test.ts): homing and the job after it, each
//    in simulated time, and their ratios.
// 3. Peak step rates the bridge's status file reports (per axis and all axes, 10 ms windows).
// simavr time is simulated: AVR cycles / 16 MHz; the host side runs in wall time.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, spawnCli, tempDir } from '../test/helpers/cli';
import { cli, f1, settle } from './realchips-helpers';
import { REALCHIPS_AVR, bridgeUnavailable, startBridge, type BridgeStatus } from '../test/helpers/simavr-bridge';
import { grblUnavailable, runGrblJob } from '../test/helpers/simavr-grbl';
import { simulate } from '../sim/simulate';
import { johnnyFiveTarget } from '../sim/targets/johnny-five';
import type { MachineProfile } from '../shared/machine';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const FIRMATA_HEX = join(REALCHIPS_AVR, 'hex/ConfigurableFirmata-uno-accelstepper-57600.hex');

const whyGrbl = grblUnavailable();
if (whyGrbl) {
  console.log(`realchips: skipped: ${whyGrbl}`);
  process.exit(0);
}

function peaks(s: BridgeStatus): string {
  const st = s as BridgeStatus & { peakTotalStepsPerS_10ms?: number };
  const ax = ['x', 'y', 'z'].map((a) => {
    const v = s.axes[a] as unknown as { peakStepsPerS_10ms?: number; minStepIntervalUs?: number };
    return `${a.toUpperCase()} ${v.peakStepsPerS_10ms ?? '?'} steps/s (shortest step interval ${v.minStepIntervalUs?.toFixed(1) ?? '?'} µs)`;
  });
  return `${ax.join(', ')}; all axes together ${st.peakTotalStepsPerS_10ms ?? '?'} steps/s`;
}

const dir = tempDir('hookline-bench-realchips-');
try {
  // ---- 1. the 20-line plan ----
  cli(['plan', 'examples/coffee.png', '--lines', '20', '-o', join(dir, 'p'), '--quiet']);
  const planFile = join(dir, 'p/plan.json');
  const hls = join(dir, 'p/plan.hls');
  cli(['encode', planFile, '--machine', machinePath, '-o', hls]);
  const est = JSON.parse(cli(['estimate', hls, '--machine', machinePath, '--json'])) as { machineSeconds: number; floorSeconds: number; exactStopSeconds: number };
  const gcodeFile = join(dir, 'job.gcode');
  cli(['gcode', planFile, '--machine', machinePath, '--dialect', 'grbl', '-o', gcodeFile]);
  const gcode = readFileSync(gcodeFile, 'utf8');
  const headerLine = gcode.split('\n').find((l) => l.startsWith('; estimated time:')) ?? '';
  const headerS = Number(/\((\d+(?:\.\d+)?) s:/.exec(headerLine)?.[1] ?? NaN);
  const settings = cli(['gcode', '--settings', '--machine', machinePath]).split('\n').filter((l) => l.startsWith('$'));

  // Grbl: power-on 1 (new EEPROM) takes the settings; power-on 2 boots alarm-locked, $H, stream.
  const { job: grbl, homed, end: gEnd, wallSeconds: grblWall } = await runGrblJob(dir, settings, gcode);
  const bad = grbl.answers.filter((a) => a.answer !== 'ok').length;
  const job = gEnd.simSeconds - homed.simSeconds;

  console.log(`20-line plan (examples/coffee.png --lines 20), machines/ref-gantry.json, ${grbl.answers.length} G-code lines sent:`);
  console.log(`  hookline estimate (device runtime path, look-ahead)      ${f1(est.machineSeconds).padStart(8)}   (floor ${f1(est.floorSeconds)}, exact stop ${f1(est.exactStopSeconds)})`);
  console.log(`  hookline gcode --dialect grbl header "estimated time"    ${f1(headerS).padStart(8)}   (${headerLine.replace(/^; estimated time: /, '')})`);
  console.log(`  stock Grbl 1.1h in simavr, job after $H (simulated)      ${f1(job).padStart(8)}   (homing ${f1(homed.simSeconds)} simulated from power-on; ${bad} non-ok answers, ${grbl.alarms.length} alarms, final state ${grbl.state()}; wall ${f1(grblWall)})`);
  console.log(`  ratios: Grbl job / estimate ${(job / est.machineSeconds).toFixed(3)}, Grbl job / G-code header ${(job / headerS).toFixed(3)}`);
  console.log(`  Grbl peak step rates (bridge status, 10 ms windows, whole power-on incl. $H): ${peaks(gEnd)}`);
  console.log(`  Grbl peak step rates up to the end of $H only: ${peaks(homed)}`);

  // ---- 2. Johnny-Five: fake board vs ConfigurableFirmata, 3-line plan ----
  const whyFirmata = bridgeUnavailable('Firmata', FIRMATA_HEX);
  if (whyFirmata) {
    console.log(`johnny-five: skipped: ${whyFirmata}`);
  } else {
    cli(['plan', 'examples/coffee.png', '--lines', '3', '-o', join(dir, 'q'), '--quiet']);
    const hls3 = join(dir, 'q/plan.hls');
    cli(['encode', join(dir, 'q/plan.json'), '--machine', machinePath, '-o', hls3]);
    const startMm = [350, 350, 15];
    // Fake board (virtual time): homing from the first step edge to the first edge the runtime makes
    // out of the homing state (the plan's first step, ~5 ms after homing ended).
    const machine = JSON.parse(readFileSync(machinePath, 'utf8')) as MachineProfile;
    let dev: ReturnType<typeof johnnyFiveTarget.create> | null = null;
    let simFirst = -1;
    let simHomed = -1;
    const onEdge = {
      edge(_pin: number, _level: number, timeUs: number) {
        if (!dev || simHomed >= 0) return;
        if (simFirst < 0) simFirst = timeUs / 1e6;
        const st = dev.runtime.status().state;
        if (st !== 1 && st !== 2) simHomed = timeUs / 1e6;
      },
    };
    const target = { ...johnnyFiveTarget, create: (...a: Parameters<typeof johnnyFiveTarget.create>) => (dev = johnnyFiveTarget.create(...a)) };
    const sim = simulate(Uint8Array.from(readFileSync(hls3)), machine, { skipEstimates: true, target, startMm, onEdge });
    const simHoming = simHomed - simFirst;
    const simJob = sim.machineSeconds - simHomed;
    // Real firmware: the bridge's status (simulated time, step counts) polled every 100 ms wall; it is
    // rewritten every ~0.5 s wall, so each figure is a bracket: homing starts after the status read at
    // the run's "…; homing" line (≤ 0.5 s stale) and ends before the one read 0.6 s after "homed in"
    // (≤ 1.1 s late); the job ends before the first status with the final step counts (≤ 0.5 s late).
    const fb = await startBridge({
      hex: FIRMATA_HEX, work: dir, name: 'firmata', extra: ['-r', '1'],
      axes: ['x,2,5,9,20,min,350,high,700', 'y,3,6,10,20,min,350,high,700', 'z,4,7,11,400,max,15,high,30'],
    });
    const seen: BridgeStatus[] = [];
    const poll = setInterval(() => {
      const st = fb.status();
      if (st && (seen.length === 0 || st.simSeconds !== seen[seen.length - 1].simSeconds)) seen.push(st);
    }, 100);
    const run = spawnCli(['run', hls3, '--target', 'johnny-five', '--port', fb.pty, '--machine', machinePath, '--yes'], 300_000);
    let fHomed: BridgeStatus | null = null;
    let fFrom: BridgeStatus | null = null;
    try {
      await run.waitStderr(/^johnny-five: ConfigurableFirmata .*; homing$/m, 120_000);
      fFrom = fb.status();
      await run.waitStderr(/^johnny-five: homed in [\d.]+ s$/m, 120_000);
      await new Promise((res) => setTimeout(res, 600));
      fHomed = fb.status();
    } catch {
      // reported below from the run's own output
    }
    const r = await run.done;
    await settle();
    clearInterval(poll);
    const fEnd = fb.status()!;
    await fb.stop();
    const total = (st: BridgeStatus) => ['x', 'y', 'z'].reduce((acc, a) => acc + st.axes[a].steps, 0);
    const last = seen.find((st) => total(st) === total(fEnd)) ?? fEnd;
    const ok = /^run OK: .*$/m.exec(r.stdout)?.[0] ?? `run failed (${r.code}): ${(r.stderr + r.stdout).trim().split('\n').pop()}`;
    const realHomed = fHomed ? fHomed.simSeconds : NaN;
    const realHoming = realHomed - (fFrom ? fFrom.simSeconds : NaN);
    const realJob = last.simSeconds - realHomed;
    console.log(`3-line plan (examples/coffee.png --lines 3), johnny-five target, power-on at X/Y 350 mm, Z 15 mm:`);
    console.log(`  fake Firmata board (hookline sim --target johnny-five)   homing ${f1(simHoming).padStart(7)}   job after homing ${f1(simJob).padStart(7)}   sim ok ${sim.ok}, ${sim.violations.length} violations`);
    console.log(`  ConfigurableFirmata 3.4 in simavr (-r 1), simulated      homing ${f1(realHoming).padStart(7)}   job after homing ${f1(realJob).padStart(7)}   (brackets: homing −1.6 … +0 s, job −0.5 … +1.1 s; homed ${f1(realHomed)}, end ${f1(last.simSeconds)} from power-on; wall ${f1(r.ms / 1000)})`);
    console.log(`  ratio fake / real: homing ${(simHoming / realHoming).toFixed(3)}, job ${(simJob / realJob).toFixed(3)}`);
    console.log(`    ${ok}`);
    if (fHomed) console.log(`  ConfigurableFirmata/AccelStepper peak step rates while homing (bridge status, 10 ms windows): ${peaks(fHomed)}`);
    console.log(`  ConfigurableFirmata/AccelStepper peak step rates, whole run (homing and the plan): ${peaks(fEnd)}`);
  }
  console.log("simavr figures are simulated time (AVR cycles / 16 MHz); the sender and hookline run in host wall time, and the simulator's pace against wall time varies with the host load (see each wall figure), so host latencies can weigh differently per simulated second than on a real Uno.");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
