/**
 * hookline sim --chip: the simulator charges the chip (sim/chip/). The accounting itself (clock,
 * load windows, late deadlines, peripherals on time), the NodeMCU target charged on a short plan (a
 * chip fast enough strings it as uncharged; a slow one misses its step deadlines), the CLI's
 * --chip validation, and the NodeMCU Lua heap in lua5.1 against the chips' free heap.
 */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualMcu, type Peripheral } from '../sim/mcu';
import { CHIPS, chipFor } from '../sim/chip/chips';
import { ChipCpu, LOAD_WINDOW_US } from '../sim/chip/cpu';
import { LUA_COST_MODELS } from '../sim/chip/lua-cost';
import { simulate } from '../sim/simulate';
import { nodemcuTarget } from '../sim/targets/nodemcu';
import { espruinoTarget } from '../sim/targets/espruino';
import { luaHeapKb } from '../sim/targets/lua-heap';
import { encodeStream } from '../shared/stream/encoder';
import { machineHash } from '../host/stream/machine-hash';
import { loadMachine } from '../host/machine/load';
import { refGantry } from './helpers/rig';
import { nativeLua } from './helpers/lua';
import { LUA51_BIT } from './helpers/fake-nodemcu';
import { repoRoot, runCli, tempDir } from './helpers/cli';

const model = { source: 'test', uncertainty: 'none' };

describe('ChipCpu accounting', () => {
  it('charge moves the clock by cycles / MHz; a timer due meanwhile runs late, a peripheral edge on time', () => {
    const mcu = new VirtualMcu();
    const cpu = new ChipCpu(mcu, { ...CHIPS.esp8266, mhz: 80 }, model);
    mcu.cpu = cpu;
    const edges: number[] = [];
    // A peripheral with one edge at 500 µs (a hardware step generator).
    let next = 500;
    const p: Peripheral = { nextEventUs: () => next, runEvent: () => { edges.push(mcu.now); next = Infinity; } };
    mcu.addPeripheral(p);
    let ranAt = -1;
    mcu.setTimer(0, 100, () => {
      // 80 000 cycles at 80 MHz: 1000 µs of work from 100 µs on.
      cpu.charge(80_000);
      expect(mcu.now).toBeCloseTo(1100, 9);
    });
    mcu.setTimer(2, 300, () => (ranAt = mcu.now));
    mcu.runNext();
    expect(edges).toEqual([500]);
    mcu.runNext();
    // Due at 300 µs while the CPU was busy until 1100 µs: it runs then, not earlier, and the clock never goes back.
    expect(ranAt).toBeCloseTo(1100, 9);
    cpu.deadline(300, 'a timer');
    const late = cpu.drainLate();
    expect(late).toHaveLength(1);
    expect(late[0].atUs - late[0].dueUs).toBeCloseTo(800, 9);
    cpu.deadline(mcu.now - 10, 'on time');
    expect(cpu.drainLate()).toHaveLength(0);
  });

  it('load figures add up: the windows sum to the work, average = work / time, peak ≥ average, headroom = 1 − peak', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapUs: fc.integer({ min: 0, max: 300_000 }), cycles: fc.integer({ min: 1, max: 20_000_000 }), spinUs: fc.integer({ min: 0, max: 5000 }) }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom(80, 160, 240),
        (entries, mhz) => {
          const mcu = new VirtualMcu();
          const cpu = new ChipCpu(mcu, { ...CHIPS.esp8266, mhz }, model);
          let cycles = 0;
          let spin = 0;
          for (const e of entries) {
            mcu.advanceTo(mcu.now + e.gapUs);
            cpu.charge(e.cycles, 'work', 1);
            cpu.spin(e.spinUs);
            cycles += e.cycles;
            spin += e.spinUs;
          }
          const end = mcu.now;
          const r = cpu.report(end);
          const workUs = cycles / mhz;
          expect(end).toBeCloseTo(entries.reduce((s, e) => s + e.gapUs + e.spinUs, 0) + workUs, 6);
          const windows = cpu.workWindows();
          expect(windows.reduce((s, v) => s + v, 0)).toBeCloseTo(workUs, 5);
          for (const v of windows) expect(v).toBeLessThanOrEqual(LOAD_WINDOW_US + 1e-6);
          expect(r.cycles).toBe(cycles);
          expect(r.workSeconds * 1e6).toBeCloseTo(workUs, 5);
          expect(r.busyWaitSeconds * 1e6).toBeCloseTo(spin, 5);
          expect(r.load.average).toBeCloseTo(workUs / end, 9);
          expect(r.load.peak).toBeGreaterThanOrEqual(Math.min(1, r.load.average) - 1e-9);
          expect(r.load.peak).toBeLessThanOrEqual(1 + 1e-9);
          expect(r.headroom).toBeCloseTo(1 - r.load.peak, 12);
          expect(r.breakdown).toEqual([{ what: 'work', count: entries.length, cycles }]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('chips: unknown and another target\'s chip are refused with one line', () => {
    expect(chipFor('esp32', 'nodemcu')).toBe(CHIPS.esp32);
    expect(chipFor('z80', 'nodemcu')).toMatch(/^unknown --chip 'z80'; use one of pico, esp8266/);
    expect(chipFor('pico', 'nodemcu')).toMatch(/^--chip pico runs --target espruino, not nodemcu; for nodemcu use esp8266/);
    expect(chipFor('esp32', 'native')).toMatch(/native has no chip to charge/);
  });
});

describe('NodeMCU target charged to a chip', () => {
  const m = refGantry();
  const plan = Uint8Array.from(encodeStream([0, 9, 18, 5], 160, [0], { version: 4, machineHash: machineHash(m) }));
  /** Power on near the endstops: homing is short. */
  const startMm = [10, 10, 25];
  const run = (mhz: number | null) =>
    simulate(plan, m, { startMm, target: nodemcuTarget({ board: 'ESP8266', primitives: 'none' }), skipEstimates: true, ...(mhz === null ? {} : { chip: { ...CHIPS.esp8266, mhz } }) });
  const base = run(null);

  it('a chip fast enough strings it exactly like the uncharged run, with no late timer and little load', () => {
    const fast = run(1e6);
    expect(base.ok).toBe(true);
    expect(fast.ok).toBe(true);
    expect(fast.wrapped).toEqual(base.wrapped);
    expect(fast.steps).toEqual(base.steps);
    expect(fast.violationCounts['late-step'] ?? 0).toBe(0);
    expect(fast.chip!.late.count).toBe(0);
    expect(fast.chip!.load.peak).toBeLessThan(0.01);
    // Where the cycles went: VM instructions, C calls, ROM look-ups, dispatches; they add up.
    const parts = fast.chip!.breakdown;
    expect(parts.map((p) => p.what).sort()).toEqual(['Lua VM instructions', 'NodeMCU C function calls', 'NodeMCU ROM-table look-ups', 'SDK dispatches into Lua (timers, tasks, UART data)']);
    expect(parts.reduce((s, p) => s + p.cycles, 0)).toBeCloseTo(fast.chip!.cycles, 0);
    const vm = parts.find((p) => p.what === 'Lua VM instructions')!;
    expect(vm.cycles).toBeCloseTo(vm.count * LUA_COST_MODELS.esp8266.cyclesPerInstruction, 0);
    // The same work on a 1 THz chip as on any other: the Lua executed does not depend on the clock here.
    expect(vm.count / (fast.steps.x + fast.steps.y + fast.steps.z)).toBeGreaterThan(50);
  });

  it('an ESP8266 at 80 MHz misses the step deadlines of one Lua callback per step: late-step violations with time and line', () => {
    const slow = run(80);
    expect(slow.ok).toBe(false);
    expect(slow.violationCounts['late-step']).toBeGreaterThan(100);
    const v = slow.violations.find((x) => x.kind === 'late-step')!;
    expect(v.message).toMatch(/^the runtime's step timer due at \d+\.\d{6} s ran \d+\.\d{3} ms late on esp8266: the CPU was busy \(line \d+\)$/);
    expect(v.timeUs).toBeGreaterThan(0);
    expect(slow.chip!.load.peak).toBeGreaterThan(0.9);
    expect(slow.chip!.late.count).toBe(slow.violationCounts['late-step']);
    // The machine still strings the same hooks, only late: the CPU, not the motion, is at fault.
    expect(slow.wrapped).toEqual(base.wrapped);
    expect(slow.machineSeconds).toBeGreaterThan(base.machineSeconds * 1.5);
    // The work charged is the machine time's busy part: work ≤ machine time.
    expect(slow.chip!.workSeconds).toBeLessThanOrEqual(slow.machineSeconds + 1e-9);
    expect(slow.chip!.load.average).toBeCloseTo(slow.chip!.workSeconds / slow.machineSeconds, 6);
  });
});

describe('hookline sim --chip', () => {
  const dir = tempDir();
  const plan = join(dir, 'plan.hls');
  writeFileSync(plan, Uint8Array.from(encodeStream([7, 16], 160, [0], { version: 4, machineHash: machineHash(refGantry()) })));
  const machine = join(repoRoot, 'machines/ref-gantry.json');

  for (const [args, pattern] of [
    [['--target', 'nodemcu', '--chip', 'z80'], /^hookline: sim: unknown --chip 'z80'; use one of pico, esp8266, esp8266-160, esp32\n$/],
    [['--target', 'nodemcu', '--chip', 'pico'], /^hookline: sim: --chip pico runs --target espruino, not nodemcu; for nodemcu use esp8266, esp8266-160, esp32\n$/],
    [['--chip', 'esp32'], /^hookline: sim: --chip esp32 runs --target nodemcu, not native; native has no chip to charge\n$/],
  ] as const) {
    it(`${args.join(' ')}: exit 2 with one line`, () => {
      const r = runCli(['sim', plan, '--machine', machine, '-o', dir, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stdout).toBe('');
    });
  }

  it.skipIf(espruinoTarget.costModels?.pico !== undefined)('--target espruino --chip pico without Espruino\'s cost model: refused (exit 2), not run uncharged', () => {
    const r = runCli(['sim', plan, '--machine', machine, '-o', dir, '--target', 'espruino', '--chip', 'pico']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hookline: sim: --target espruino has no cost model for --chip pico yet .*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('--target nodemcu --chip esp32 on the ESP32 NodeMCU profile: ok with 0 violations, report.json carries the chip, its cost source, load per 100 ms and headroom', () => {
    const esp32Machine = join(repoRoot, 'machines/ref-gantry-esp32-nodemcu.json');
    const esp32Plan = join(dir, 'plan-esp32.hls');
    writeFileSync(esp32Plan, Uint8Array.from(encodeStream([7, 16, 95, 40], 160, [0], { version: 4, machineHash: machineHash(loadMachine(esp32Machine)) })));
    const r = runCli(['sim', esp32Plan, '--machine', esp32Machine, '-o', dir, '--target', 'nodemcu', '--chip', 'esp32', '--width', '128'], { timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toMatch(/^sim OK: wrapped 4 of 4 hooks.*chip esp32 \(240 MHz\): interpreter load \d+ % average, \d+ % peak per 100 ms while the motors run \(\d+ % with the boot\) \(headroom -?\d+ %\)/m);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.violations).toEqual([]);
    expect(report.chip).toMatchObject({ name: 'esp32', mhz: 240, windowMs: 100 });
    expect(report.chip.costSource).toMatch(/ESP8266 cycle counts/);
    expect(report.chip.uncertainty).toMatch(/±50 %/);
    expect(report.chip.load.peak).toBeGreaterThanOrEqual(report.chip.load.average);
    expect(report.chip.load.peak).toBeGreaterThanOrEqual(report.chip.load.peakMoving);
    expect(report.chip.load.peakMoving).toBeLessThanOrEqual(0.7);
    expect(report.chip.headroom).toBeCloseTo(1 - report.chip.load.peakMoving, 3);
    expect(report.chip.late.count).toBe(0);
    // The same motion as native but for the tick-timed rests and polls while homing and each motion's
    // 100 ms start (3 % on this short plan, 0.8 % on 30 lines).
    const native = runCli(['sim', esp32Plan, '--machine', esp32Machine, '-o', join(dir, 'native-esp32'), '--width', '128']);
    expect(native.code).toBe(0);
    const nat = JSON.parse(readFileSync(join(dir, 'native-esp32', 'report.json'), 'utf8'));
    expect(report.wrapped).toEqual(nat.wrapped);
    expect(report.wrappedDirs).toEqual(nat.wrappedDirs);
    expect(report.machineSeconds / nat.machineSeconds).toBeLessThan(1.05);
  });
});

const lua51 = nativeLua('5.1');

describe('NodeMCU Lua heap against the chips', () => {
  it.skipIf(!lua51)('the 5.1 build after boot in lua5.1 (collectgarbage "count") against an ESP8266\'s and an ESP32\'s free heap', () => {
    const dir = tempDir();
    expect(runCli(['flash', '--target', 'nodemcu', '--dry-run', '-o', dir, '--lua', '5.1', '--machine', join(repoRoot, 'machines/ref-gantry-esp32.json')]).code).toBe(0);
    const kb = luaHeapKb(lua51!, dir, LUA51_BIT);
    // The data the app keeps in RAM whatever the code's home: the booted runtime and its link session.
    const dataKb = kb.runtime + kb.session;
    const esp8266 = CHIPS.esp8266.freeHeap!.bytes / 1024;
    const esp32 = CHIPS.esp32.freeHeap!.bytes / 1024;
    console.log(`lua5.1: code ${kb.code.toFixed(1)} KB, runtime ${kb.runtime.toFixed(1)} KB, session ${kb.session.toFixed(1)} KB; free heap ESP8266 ${esp8266.toFixed(1)} KB, ESP32 ≤ ${esp32.toFixed(0)} KB`);
    // ESP8266: not even the data fits (docs/targets/nodemcu.md says so: if this fails, the runtime
    // shrank enough to fit with LFS, update the page).
    expect(dataKb).toBeGreaterThan(esp8266 * 0.9);
    // ESP32: the data fits with room; code from source plus data is at or beyond the bound (LFS needed).
    expect(dataKb).toBeLessThan(esp32 / 4);
    expect(kb.code + dataKb).toBeGreaterThan(esp32 * 0.75);
  });
});
