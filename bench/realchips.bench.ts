// `npm run bench:realchips`: hookline's machine-time figures next to real firmware on a simulated
// Arduino Uno (simavr, ../shared/realchips/avr; issue #14).
// 1. One 20-line plan (examples/coffee.png --lines 20) on machines/ref-gantry.json, side by side:
//    `hookline estimate` (device runtime path), the "estimated time" header of `hookline gcode
//    --dialect grbl`, and stock Grbl 1.1h's job time after $H in simavr (as test/grbl-real.test.ts).
// 2. A 3-line plan: `hookline sim --target johnny-five` (fake Firmata board) vs `hookline run
//    --target johnny-five` on stock ConfigurableFirmata 3.4 in simavr (as test/firmata-real.test.ts).
// 3. Peak step rates the bridge's status file reports (per axis and all axes, 10 ms windows).
// simavr time is simulated: AVR cycles / 16 MHz; the host side runs in wall time.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runCli, runCliAsync, tempDir } from '../test/helpers/cli';
import { REALCHIPS_AVR, bridgeUnavailable, startBridge, type BridgeStatus } from '../test/helpers/simavr-bridge';
import { grblUnavailable, runGrblJob } from '../test/helpers/simavr-grbl';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const FIRMATA_HEX = join(REALCHIPS_AVR, 'hex/ConfigurableFirmata-uno-accelstepper-57600.hex');

const whyGrbl = grblUnavailable();
if (whyGrbl) {
  console.log(`realchips: skipped: ${whyGrbl}`);
  process.exit(0);
}

function cli(args: string[]): string {
  const r = runCli(args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`hookline ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
const settle = () => new Promise((r) => setTimeout(r, 1200)); // the bridge rewrites its status file every ~0.5 s wall
const f1 = (s: number) => `${s.toFixed(1)} s`;
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
    const est3 = JSON.parse(cli(['estimate', hls3, '--machine', machinePath, '--json'])) as { machineSeconds: number };
    cli(['sim', hls3, '--target', 'johnny-five', '--machine', machinePath, '-o', join(dir, 'sim3')]);
    const rep = JSON.parse(readFileSync(join(dir, 'sim3/report.json'), 'utf8')) as { ok: boolean; machineSeconds: number; homingSeconds: number; runtime: { motionSeconds: number } };
    // As run-firmata.sh / firmata-real: power-on 3 mm off the X/Y switches, 1 mm under the Z switch.
    const fb = await startBridge({
      hex: FIRMATA_HEX, work: dir, name: 'firmata',
      axes: ['x,2,5,9,20,min,3,high,700', 'y,3,6,10,20,min,3,high,700', 'z,4,7,11,400,max,29,high,30'],
    });
    const r = await runCliAsync(['run', hls3, '--target', 'johnny-five', '--port', fb.pty, '--machine', machinePath, '--yes'], 300_000);
    await settle();
    const fEnd = fb.status()!;
    await fb.stop();
    const ok = /^run OK: .*$/m.exec(r.stdout)?.[0] ?? `run failed (${r.code}): ${(r.stderr + r.stdout).trim().split('\n').pop()}`;
    const m = /homing ([\d.]+) s, job ([\d.]+) s/.exec(ok);
    console.log(`3-line plan (examples/coffee.png --lines 3), johnny-five target:`);
    console.log(`  hookline estimate (device runtime path)                  ${f1(est3.machineSeconds).padStart(8)}`);
    console.log(`  hookline sim --target johnny-five (fake Firmata board)   ${f1(rep.machineSeconds).padStart(8)}   machineSeconds incl. homing ${f1(rep.homingSeconds)} (the simulator's power-on position); so ${f1(rep.machineSeconds - rep.homingSeconds)} after homing; sim ok ${rep.ok}`);
    console.log(`  hookline run on ConfigurableFirmata 3.4 in simavr        ${f1(fEnd.simSeconds).padStart(8)}   simulated from power-on (3 mm off the X/Y switches, 1 mm under Z's)${m ? `; hookline's own report (host wall): homing ${m[1]} s, job ${m[2]} s` : ''}; wall ${f1(r.ms / 1000)}`);
    console.log(`    ${ok}`);
    console.log(`  ConfigurableFirmata/AccelStepper peak step rates (bridge status, 10 ms windows, incl. homing): ${peaks(fEnd)}`);
  }
  console.log("simavr figures are simulated time (AVR cycles / 16 MHz); the sender and hookline run in host wall time, and the simulator's pace against wall time varies with the host load (see each wall figure), so host latencies can weigh differently per simulated second than on a real Uno.");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
