/**
 * `hookline run --target johnny-five` on real firmware: stock ConfigurableFirmata 3.4.0 built as
 * docs/targets/johnny-five.md says (Digital + AccelStepper, no AnalogInputFirmata, 57600 baud;
 * prebuilt hex) on a cycle-accurate simulated Arduino Uno (Debian's simavr, ../shared/realchips/avr,
 * wired as its run-firmata.sh wires it). That build never answers the analog-mapping query; the
 * handshake must complete without it. A 3-line plan from power-on at mid-travel (X/Y 350 mm, Z 15
 * mm) to done: homing (seeks the board runs, stopped on the switches' reports) in under 30 s of
 * simulated time from its start, then the plan. The bridge runs at real time (-r 1): the host times the speed levels
 * of a group move (device/johnny-five/firmata-motion.ts), as it would against a real Uno; simavr
 * left free outruns them on an idle machine. ~1.5 min wall.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, spawnCli, tempDir } from './helpers/cli';
import { REALCHIPS_AVR, bridgeUnavailable, startBridge, type Bridge } from './helpers/simavr-bridge';

const HEX = join(REALCHIPS_AVR, 'hex/ConfigurableFirmata-uno-accelstepper-57600.hex');
const why = bridgeUnavailable('Firmata', HEX);
if (why) console.warn(`note: ${why}`);

const machinePath = join(repoRoot, 'machines/ref-gantry.json');

describe.skipIf(why !== null)('hookline run --target johnny-five on ConfigurableFirmata 3.4 without analog (simulated Uno)', () => {
  const dir = tempDir('hookline-firmata-');
  let bridge: Bridge | null = null;
  afterAll(async () => {
    await bridge?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the handshake completes without the analog mapping, homes from mid-travel in under 30 s and runs a 3-line plan to done', async () => {
    // The build the docs ask for: its generated sketch has no analog feature.
    const sketch = readFileSync(HEX.replace(/-57600\.hex$/, '.sketch.cpp'), 'utf8');
    expect(sketch).toMatch(/^#define ENABLE_ACCELSTEPPER/m);
    expect(sketch).not.toMatch(/^\s*#define ENABLE_ANALOG/m);
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '3', '-o', join(dir, 'p'), '--quiet']).code).toBe(0);
    const hls = join(dir, 'p/plan.hls');
    expect(runCli(['encode', join(dir, 'p/plan.json'), '--machine', machinePath, '-o', hls]).code).toBe(0);

    // As run-firmata.sh: STEP 2/3/4, DIR 5/6/7 (high = +), X min D9, Y min D10, Z top D11; power-on
    // at mid-travel, so homing runs the whole seeks.
    bridge = await startBridge({
      hex: HEX, work: dir, name: 'firmata', extra: ['-r', '1'],
      axes: ['x,2,5,9,20,min,350,high,700', 'y,3,6,10,20,min,350,high,700', 'z,4,7,11,400,max,15,high,30'],
    });
    const run = spawnCli(['run', hls, '--target', 'johnny-five', '--port', bridge.pty, '--machine', machinePath, '--yes'], 300_000);
    // Homing in simulated time, bounded from above: the bridge rewrites its status file every ~0.5 s
    // wall, so the status read when the run says it starts homing was written before (or at) that
    // start, and the one read 0.6 s after "homed in" was written after homing ended. From power-on
    // the host's own start-up (Node, the handshake: seconds on a busy machine) would count too.
    await run.waitStderr(/^johnny-five: ConfigurableFirmata .*; homing$/m, 120_000);
    const homingFrom = bridge.status();
    const homedLine = await run.waitStderr(/^johnny-five: homed in ([\d.]+) s$/m, 120_000);
    await new Promise((res) => setTimeout(res, 600));
    const homed = bridge.status();
    const r = await run.done;
    await new Promise((res) => setTimeout(res, 1200));
    const end = bridge.status();
    await bridge.stop();
    bridge = null;

    expect(homingFrom).not.toBeNull();
    expect(homed).not.toBeNull();
    const homingS = homed!.simSeconds - homingFrom!.simSeconds;
    expect(homingS).toBeLessThan(30);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/^johnny-five: ConfigurableFirmata 3\.4 on .*; homing$/m);
    expect(r.stderr).toMatch(/run: line 3\/3/);
    expect(r.stdout).toMatch(/^run OK: 3 lines done on the Firmata board; homing [\d.]+ s, job [\d.]+ s, \d+ stepper moves, \d+ bytes of stepper commands$/m);
    // Every switch was reached while homing (the bridge counts presses from the step counts) and
    // none is pressed at the end.
    expect(end).not.toBeNull();
    for (const a of ['x', 'y', 'z']) {
      expect(end!.axes[a].presses, a).toBeGreaterThan(0);
      expect(end!.axes[a].endstop, a).toBe(false);
    }
    expect(end!.axes.z.posMm).toBeCloseTo(13, 2); // ref-gantry's travel height after the last line
    const pos = ['x', 'y', 'z'].map((a) => `${a} ${end!.axes[a].posMm} mm/${end!.axes[a].steps} steps`).join(', ');
    console.log(`firmata-real: ${r.stdout.trim()}; homing ≤ ${homingS.toFixed(1)} s simulated (${homingFrom!.simSeconds.toFixed(1)} → ${homed!.simSeconds.toFixed(1)} s from power-on; host: ${homedLine[1]} s), end ${end!.simSeconds.toFixed(1)} s simulated, wall ${(r.ms / 1000).toFixed(1)} s; end ${pos}`);
  }, 360_000);
});
