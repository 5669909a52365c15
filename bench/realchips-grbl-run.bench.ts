// `npm run bench:realchips` (second part): `hookline run --target grbl` on stock Grbl 1.1h in
// simavr (../shared/realchips/avr; issue #14). The 20-line plan of the first part, streamed by
// hookline's own sender after --apply-settings on a new board, side by side with the G-code
// header's estimate and `hookline estimate`; then the cost of a reset and --resume.
// simavr time is simulated: AVR cycles / 16 MHz; the sender runs in host wall time.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, spawnCli, tempDir } from '../test/helpers/cli';
import { cli, f1, settle } from './realchips-helpers';
import { grblUnavailable, startGrblBridge, type Bridge } from '../test/helpers/simavr-grbl';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const why = grblUnavailable();
if (why) {
  console.log(`realchips-grbl-run: skipped: ${why}`);
  process.exit(0);
}


const dir = tempDir('hookline-bench-grbl-run-');
let bridge: Bridge | null = null;
try {
  cli(['plan', 'examples/coffee.png', '--lines', '20', '-o', join(dir, 'p'), '--quiet']);
  const planFile = join(dir, 'p/plan.json');
  const hls = join(dir, 'p/plan.hls');
  cli(['encode', planFile, '--machine', machinePath, '-o', hls]);
  const est = JSON.parse(cli(['estimate', hls, '--machine', machinePath, '--json'])) as { machineSeconds: number };
  const gcode = cli(['gcode', planFile, '--machine', machinePath, '--dialect', 'grbl']);
  const headerS = Number(/; estimated time: .*\((\d+(?:\.\d+)?) s:/.exec(gcode)?.[1] ?? NaN);

  bridge = await startGrblBridge(dir, join(dir, 'grbl.eeprom'));
  const run = (extra: string[]) => spawnCli(['run', hls, '--target', 'grbl', '--port', bridge!.pty, '--machine', machinePath, '--yes', '--quiet', ...extra], 900_000);

  // Whole job: simulated time from the end of $H to the end.
  const a = run(['--apply-settings']);
  await a.waitStderr(/^grbl: homed in/m, 300_000);
  await settle();
  const homed = bridge.status()!;
  const ra = await a.done;
  if (ra.code !== 0) throw new Error(`run failed: ${ra.stderr}`);
  await settle();
  const end = bridge.status()!;
  const job = end.simSeconds - homed.simSeconds;
  console.log('20-line plan (examples/coffee.png --lines 20), machines/ref-gantry.json, hookline run --target grbl on a new stock Grbl 1.1h (--apply-settings):');
  console.log(`  hookline estimate (device runtime path)            ${f1(est.machineSeconds).padStart(8)}`);
  console.log(`  G-code header "estimated time" (same motion model)  ${f1(headerS).padStart(8)}`);
  console.log(`  Grbl job after $H, streamed by run --target grbl   ${f1(job).padStart(8)}   simulated (homing done at ${f1(homed.simSeconds)} from power-on); wall ${f1(ra.ms / 1000)} incl. identify, $$ and settings`);
  console.log(`  ratios: job / header ${(job / headerS).toFixed(3)}, job / estimate ${(job / est.machineSeconds).toFixed(3)}`);

  // A reset by the operator in the middle, then --resume: the simulated time both runs took.
  const t0 = bridge.status()!.simSeconds;
  const b = run([]);
  await b.waitStderr(/^grbl: homed in/m, 300_000);
  await new Promise((r) => setTimeout(r, 30_000));
  b.type('x\n');
  const rb = await b.done;
  const stopped = /line (\d+) of 20/.exec(rb.stderr)?.[1] ?? '?';
  const c = await run(['--resume']).done;
  if (c.code !== 0) throw new Error(`resume failed: ${c.stderr}`);
  await settle();
  const t1 = bridge.status()!.simSeconds;
  const rep = JSON.parse(readFileSync(`${hls}.resume.json`, 'utf8')) as { wound: number };
  console.log(`  reset after ~30 s of job at line ${stopped}, then --resume: ${f1(t1 - t0)} simulated for both runs (two homings) against ${f1(job + homed.simSeconds)} for one uninterrupted run from power-on; resume point at the end: ${rep.wound} of 21 hooks`);
} finally {
  await bridge?.stop();
  rmSync(dir, { recursive: true, force: true });
}
