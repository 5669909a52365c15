import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { FORMAT_VERSION_FLANKS } from '../shared/stream/format';
import { axisAt, hookXMm, hookYMm, mmToSteps } from '../shared/machine';
import { simulate } from '../sim/simulate';
import { VirtualMcu } from '../sim/mcu';
import { AccelStepperModel, MultiStepperModel } from '../sim/targets/accel-stepper';
import { connectFakeBoard, createJohnnyFiveSim, johnnyFiveTarget } from '../sim/targets/johnny-five';
import { boardProblem } from '../device/johnny-five/setup';
import { attachFirmataBoard, handshakeFailure } from '../device/johnny-five/connect';
import { runJohnnyFive } from '../device/johnny-five/host-run';
import { machineHash } from '../host/stream/machine-hash';
import { runCli, tempDir, runCliAsync } from './helpers/cli';
import { hasSocat, ptyPair } from './helpers/pty';
import { fakeFirmataOnMock, fakeFirmataOnPort } from './helpers/fake-firmata-board';
import { refGantry, samplePath } from './helpers/rig';

const machinePath = 'machines/ref-gantry.json';


/** Step times of an AccelStepper move, stepping exactly when due on a 4 µs micros(). */
function runModel(s: AccelStepperModel, maxUs = 60e6): number[] {
  const times: number[] = [];
  let t = 0;
  let running = true;
  while (running && t < maxUs) {
    const due = s.nextStepAt();
    if (due !== Infinity) t = Math.max(t, Math.ceil(due / 4) * 4);
    const before = s.currentPos;
    running = s.run(t);
    if (s.currentPos !== before) times.push(t);
    if (due === Infinity && !running) break;
  }
  return times;
}

describe('AccelStepper model (the fake board steps with it)', () => {
  it('moves exactly to the target within its maximum speed, ramping as the trapezoid says', () => {
    let dir = 0;
    const s = new AccelStepperModel((d) => (dir = d));
    s.setMaxSpeed(2000);
    s.setAcceleration(10000);
    s.moveTo(1000);
    const times = runModel(s);
    expect(times).toHaveLength(1000);
    expect(s.currentPos).toBe(1000);
    expect(dir).toBe(1);
    let minGap = Infinity;
    for (let i = 1; i < times.length; i++) minGap = Math.min(minGap, times[i] - times[i - 1]);
    // cmin = 500 µs, read on a 4 µs clock.
    expect(minGap).toBeGreaterThanOrEqual(496);
    // Trapezoid: 0.2 s ramps (200 steps each) + 600 steps at 2000/s = 0.7 s (AccelStepper's first step is immediate).
    expect(times.at(-1)! / 1e6).toBeGreaterThan(0.67);
    expect(times.at(-1)! / 1e6).toBeLessThan(0.72);
  });

  it('MultiStepper moves a group at constant speed so that all arrive together', () => {
    const a = new AccelStepperModel(() => {});
    const b = new AccelStepperModel(() => {});
    a.setMaxSpeed(1000);
    b.setMaxSpeed(1000);
    const g = new MultiStepperModel();
    g.addStepper(a);
    g.addStepper(b);
    g.moveTo([400, -100]);
    const last = [0, 0];
    let t = 0;
    while (g.run(t)) {
      t += 4;
      if (a.distanceToGo() === 0 && last[0] === 0) last[0] = t;
      if (b.distanceToGo() === 0 && last[1] === 0) last[1] = t;
    }
    expect([a.currentPos, b.currentPos]).toEqual([400, -100]);
    expect(Math.abs(last[0] - last[1])).toBeLessThan(4100); // within one interval of the slower axis
    expect(last[0] / 1e6).toBeCloseTo(0.4, 1);
  });
});

describe('sim --target johnny-five (runtime on the host, AccelStepperFirmata on a fake Uno)', () => {
  const m = refGantry();
  const path = samplePath(5, 6);
  const stream = Uint8Array.from(encodeStream(path, 160, [0]));

  it('wraps exactly the native hook sequence, verdict ok, whole moves on the wire', () => {
    const native = simulate(stream, m, { skipEstimates: true });
    let board: ReturnType<typeof createJohnnyFiveSim> | null = null;
    const j5 = simulate(stream, m, {
      skipEstimates: true,
      target: { ...johnnyFiveTarget, create: (mcu, mm, ring, f) => (board = createJohnnyFiveSim(mcu, mm, ring, f)) },
    });
    expect(native.ok).toBe(true);
    expect(j5.violations).toEqual([]);
    expect(j5.ok).toBe(true);
    expect(j5.wrapped).toEqual(path);
    expect(j5.wrapped).toEqual(native.wrapped);
    expect(j5.wrappedDirs).toEqual(native.wrappedDirs);
    expect(j5.log.at(-1)).toMatch(/state done line 6$/);
    expect(j5.storedLine).toBe(6);
    // Exact stops and serial latency: slower than native, never faster.
    expect(j5.machineSeconds).toBeGreaterThan(native.machineSeconds);
    const rx = board!.rig.board.received;
    const tr = board!.motion().traffic;
    expect((rx.get('accelstepper-to') ?? 0) + (rx.get('accelstepper-multi-to') ?? 0)).toBe(tr.moves);
    expect(rx.get('capability-query')).toBe(1);
    // A planned block is one move per axis, or one group move re-aimed at each speed level: never a
    // message per step.
    expect(rx.get('accelstepper-multi-config')).toBe(1);
    expect(tr.blocks).toBeGreaterThan(100);
    expect(tr.blockMoves).toBeLessThanOrEqual(3 * tr.blocks);
    expect(tr.moves * 4).toBeLessThan(tr.blockSteps);
  });

  it('can fail: a wrong-way wrap (test fault in the host runtime) is caught by the verifier', () => {
    const j5 = simulate(stream, m, { skipEstimates: true, target: johnnyFiveTarget, faults: { reverseWrap: 2 } });
    expect(j5.ok).toBe(false);
    expect(j5.firstMismatch).toMatchObject({ index: 2, expectedHook: path[2], wrappedHook: path[2] });
  });

  it('refuses a board without AccelStepperFirmata', () => {
    const mcu = new VirtualMcu();
    const rig = connectFakeBoard(mcu, { accelStepper: false });
    expect(rig.io.isReady).toBe(true);
    expect(boardProblem(rig.io, m)).toMatch(/without AccelStepperFirmata/);
  });

  it('hookline sim --target johnny-five writes an ok report', () => {
    const dir = tempDir();
    const file = join(dir, 'p.hls');
    writeFileSync(file, stream);
    const r = runCli(['sim', file, '--machine', machinePath, '-o', join(dir, 'sim'), '--target', 'johnny-five', '--width', '128']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'sim', 'report.json'), 'utf8'));
    expect(report).toMatchObject({ ok: true, wrappedHooks: 7 });
  });
});

describe('johnny-five: long tangents stay straight (a MultiStepper group, re-aimed on the line)', () => {
  // From the coffee bench plan (line 1805): hook 149 → hook 120, both wound on flank 1 (s = −1). The
  // 323 mm tangent passes hook 121 3.1 mm away (native: 3.12 mm). As separate AccelStepper moves on
  // the fake board with the Uno's step cost (firmata-board.ts: ~252 µs a step), the faster axis was
  // held to the slower one's pace (an axis due while another steps waits for it): the nozzle met
  // hook 121 at 2.49 mm and left the line by up to 5.8 mm here, 27.9 mm on the next tangent (the
  // same on ConfigurableFirmata 3.4 in simavr: 5.79 and 27.92 mm). Before that, with 4 µs-rounded
  // cruise intervals and staggered starts, X ran 0.9 % ahead: 1.8 mm.
  const m = refGantry();
  const ops = [149 * 2 + 1, 120 * 2 + 1, 84 * 2 + 1];
  const stream = Uint8Array.from(encodeStream(ops, 320, [0], { version: FORMAT_VERSION_FLANKS }));

  it('passes hook 121 at the planned clearance, verdict ok', () => {
    const startMm = [300, 300, 20];
    const axes = [0, 1, 2].map((a) => axisAt(m, a));
    const pos = startMm.map((v, a) => mmToSteps(axes[a], v));
    const sign = [-1, -1, -1];
    const hx = hookXMm(m, 121) + m.board.originMm[0];
    const hy = hookYMm(m, 121) + m.board.originMm[1];
    let min = Infinity;
    const onEdge = {
      edge(pin: number, level: number) {
        for (let a = 0; a < 3; a++) {
          if (pin === axes[a].pins.dir) sign[a] = level === 1 ? 1 : -1;
          if (pin !== axes[a].pins.step || level !== 1) continue;
          pos[a] += sign[a];
          if (pos[2] >= m.hooks.headHeightMm * axes[2].stepsPerMm) continue;
          const d = Math.hypot(pos[0] / axes[0].stepsPerMm - hx, pos[1] / axes[1].stepsPerMm - hy);
          if (d < min) min = d;
        }
      },
    };
    let board: ReturnType<typeof createJohnnyFiveSim> | null = null;
    const target = { ...johnnyFiveTarget, create: (...a: Parameters<typeof johnnyFiveTarget.create>) => (board = createJohnnyFiveSim(...a)) };
    const j5 = simulate(stream, m, { skipEstimates: true, target, startMm, onEdge });
    expect(j5.violations).toEqual([]);
    expect(j5.ok).toBe(true);
    expect(j5.wrapped).toEqual([149, 120, 84]);
    // The planned line keeps 3.12 mm (collision: 2 mm); off-line drift of more than 0.1 mm fails.
    expect(min).toBeGreaterThan(3);
    expect(board!.rig.board.received.get('accelstepper-multi-to')).toBeGreaterThan(100);
  });
});

describe('johnny-five: a group\'s done report from an earlier spell does not end the next block', () => {
  // From the coffee bench plan (lines 1890-1893): hooks 4 → 65 → 84 → 130 → 90 on their flanks.
  // A late re-aim reached the board after the group had finished; the board ran the (empty) move
  // and reported done again, and the host took that report for the next, short block's end: the
  // nozzle cut across hook 65's turn (wrapped 4, 84, 130: 3 of 5), no violation. Now the moving
  // axes' positions confirm a group's done report.
  it('winds every hook of the path, verdict ok', () => {
    const m = refGantry();
    const ops = [8, 130, 168, 261, 181];
    const stream = Uint8Array.from(encodeStream(ops, 320, [0], { version: FORMAT_VERSION_FLANKS }));
    const j5 = simulate(stream, m, { skipEstimates: true, target: johnnyFiveTarget, startMm: [300, 300, 20] });
    expect(j5.violations).toEqual([]);
    expect(j5.wrapped).toEqual(ops.map((v) => v >> 1));
    expect(j5.ok).toBe(true);
  });
});

// The host times a group move's speed levels (FirmataMotion.startGroup) on its own clock, every few
// ms: a board run faster than real time would outrun them, so these rigs run at real time.
describe('Johnny-Five Board over firmata-io over MockBinding, real time', () => {
  it('homes and runs a short plan on the fake board; the verifier finds nothing wrong', async () => {
    const m = refGantry();
    const path = samplePath(9, 3);
    const stream = Uint8Array.from(encodeStream(path, 160, [0]));
    const fake = await fakeFirmataOnMock(m, { speedup: 1, startMm: [6, 6, 29] });
    try {
      const { io } = await attachFirmataBoard(fake.host, 'mock', 60_000); // a limit for a hang: the fake board answers at once
      const r = await runJohnnyFive({ io, machine: m, stream, machineHash: machineHash(m), pollMs: 2 });
      expect(r.status.stateName).toBe('done');
      expect(r.status.line).toBe(3);
      const v = fake.rt.verdict(path);
      expect(v.violations).toEqual([]);
      expect(v.wrapped).toEqual(path);
      expect(v.firstMismatch).toBeNull();
      // The board without AnalogInputFirmata (the default, as docs/targets/johnny-five.md builds it)
      // lists no analog pin, so it is not asked for the analog mapping it would never answer.
      expect(fake.rt.board.received.get('analog-mapping-query')).toBeUndefined();
    } finally {
      await fake.close();
    }
  }, 180_000);

  it('a board with AnalogInputFirmata is asked for the analog mapping and answers it', async () => {
    const fake = await fakeFirmataOnMock(refGantry(), { speedup: 100, analog: true });
    try {
      const { io } = await attachFirmataBoard(fake.host, 'mock', 60_000);
      expect(fake.rt.board.received.get('analog-mapping-query')).toBe(1);
      expect((io as unknown as { analogPins: number[] }).analogPins).toEqual([14, 15, 16, 17, 18, 19]);
    } finally {
      await fake.close();
    }
  }, 60_000);
});

describe('handshake failure lines say how far the board got', () => {
  const seen = (n: number) => ({ version: n > 0, firmware: n > 1, capabilities: n > 2, mapping: n > 3 });
  it.each([
    [0, 0, 57600, /^no bytes from P at 57600 baud within 8 s .*try --baud 115200$/],
    [0, 0, 115200, /^no bytes from P at 115200 baud within 8 s .*try --baud 57600$/],
    [12, 0, 57600, /^P sent 12 bytes at 57600 baud within 8 s but no Firmata version report; wrong baud rate .*try --baud 115200$/],
    [5, 1, 57600, /reported its Firmata version but not its firmware name/],
    [30, 2, 57600, /answered version and firmware name but not the capability query \(F0 6B F7\)/],
    [90, 3, 57600, /answered version, firmware name and capabilities but not the analog-mapping query \(F0 69 F7\)/],
  ] as const)('%i bytes, stage %i, %i baud', (bytes, stage, baud, re) => {
    expect(handshakeFailure('P', 8000, baud, bytes, seen(stage))).toMatch(re);
  });
});

describe.skipIf(!hasSocat())('hookline run --target johnny-five over a pseudo-terminal', () => {
  const m = refGantry();
  const path = samplePath(11, 3);
  const dir = tempDir();
  const file = join(dir, 'p.hls');
  writeFileSync(file, Uint8Array.from(encodeStream(path, 160, [0])));

  it.concurrent('homes, runs the plan with progress, and the board verdict is ok', async () => {
    const pty = await ptyPair();
    const fake = await fakeFirmataOnPort(pty.b, m, { speedup: 1, startMm: [6, 6, 29] });
    try {
      const r = await runCliAsync(['run', file, '--target', 'johnny-five', '--port', pty.a, '--machine', machinePath]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^run OK: 3 lines done on the Firmata board; homing [\d.]+ s, job [\d.]+ s/);
      expect(r.stderr).toMatch(/johnny-five: ConfigurableFirmata\.ino 2\.10 on /);
      expect(r.stderr).toMatch(/run: line 3\/3/);
      const v = fake.rt.verdict(path);
      expect(v.violations.slice(0, 3)).toEqual([]);
      expect(v.wrapped).toEqual(path);
    } finally {
      await fake.close();
      pty.close();
    }
  }, 180_000);

  it.concurrent('a silent port fails after 8 s with one line, exit 2', async () => {
    const pty = await ptyPair();
    try {
      // The 8 s are the run's own, counted from opening the port (the message names them); the
      // start-up before it takes seconds on a busy machine, so the wall time is not asserted.
      const r = await runCliAsync(['run', file, '--target', 'johnny-five', '--port', pty.a, '--machine', machinePath]);
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hookline: no bytes from .* at 57600 baud within 8 s .*check the port.*try --baud 115200$/);
    } finally {
      pty.close();
    }
  }, 180_000);

  it.concurrent('--baud reaches the Firmata port and the silent-port line names it', async () => {
    const pty = await ptyPair();
    try {
      const r = await runCliAsync(['run', file, '--target', 'johnny-five', '--port', pty.a, '--machine', machinePath, '--baud', '115200']);
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hookline: no bytes from .* at 115200 baud within 8 s .*try --baud 57600$/);
    } finally {
      pty.close();
    }
  }, 180_000);

  it.concurrent('a board without AccelStepperFirmata is refused with one line, exit 2', async () => {
    const pty = await ptyPair();
    const fake = await fakeFirmataOnPort(pty.b, m, { accelStepper: false });
    try {
      const r = await runCliAsync(['run', file, '--target', 'johnny-five', '--port', pty.a, '--machine', machinePath]);
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('johnny-five: '));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/without AccelStepperFirmata .*flash ConfigurableFirmata/);
    } finally {
      await fake.close();
      pty.close();
    }
  }, 180_000);
});
