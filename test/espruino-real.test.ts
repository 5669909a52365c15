// The ES5 app in the real Espruino interpreter (Espruino's firmware built for Linux with a Pico's
// interpreter settings, ../shared/realchips/espruino): the exact upload `hookline flash --target
// espruino` makes, paced as the flasher paces it, boot from Storage, the link handshake, homing on
// modelled switches (test/helpers/espruino-switches.ts, a .boot0 the upload never touches) and a
// short plan strung to DONE through the link, judged by the interpreter's own pin edge counters
// against the simulator; and the app's memory at rest in the 32-bit ARM build (a Pico's JsVar
// packing) under qemu-arm. Skips with one line where ../shared/realchips (or qemu-arm) is absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { HostSession } from '../host/link/session';
import { uploadPieces } from '../host/flash/espruino-upload';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootApp, describeBinary, dryRunUpload, espruinoArmUnavailable, espruinoUnavailable, RealEspruino, sleep } from './helpers/espruino-real';
import { switchModelBoot0 } from './helpers/espruino-switches';
import { refGantry } from './helpers/rig';
import { tempDir } from './helpers/cli';
import { machineHash } from '../host/stream/machine-hash';
import { type MachineProfile } from '../shared/machine';
import { ST_DONE } from '../device/runtime';
import { FR_OK, FrameDecoder, MAX_FRAME } from '../shared/link/frame';
import { T_HELLO_REPLY } from '../shared/link/protocol';
import { simulate } from '../sim/simulate';
import { espruinoTarget } from '../sim/targets/espruino';
import { appJsVarsAtRest } from '../sim/targets/espruino-jsvars';
import { readFileSync } from 'node:fs';
import { repoRoot } from './helpers/cli';

// device/espruino/main.ts's console escape (that module installs E.on('init') when imported).
const CONSOLE_ESCAPE_RUN = MAX_FRAME + 10;
const ESCAPE_BYTE = 3;

const unavailable = espruinoUnavailable();
if (unavailable) console.log(`espruino-real: ${unavailable}`);
const armUnavailable = unavailable ?? espruinoArmUnavailable();
if (armUnavailable && !unavailable) console.log(`espruino-real: ${armUnavailable}`);

/**
 * ref-gantry with fewer steps per mm (X/Y 5, Z 50 instead of 20 and 400), so the interpreter
 * strings a short plan in well under a minute of host CPU; everything else (pins, speeds, homing,
 * wrap geometry) as ref-gantry.
 */
function smallGantry(): MachineProfile {
  const m = refGantry();
  m.name = 'ref-gantry-coarse';
  m.axes.x.stepsPerMm = 5;
  m.axes.y.stepsPerMm = 5;
  m.axes.z.stepsPerMm = 50;
  return m;
}
/** Power-on position (machine mm): near the X/Y switches, 5 mm below the Z switch (homing takes seconds). */
const START_MM = [40, 40, 25];
/** A short plan: 3 lines of 12 hooks (~120 mm chords), 4 hooks wrapped. */
const PLAN = [0, 12, 24, 36];

describe.skipIf(unavailable !== null)('the ES5 app in the real Espruino interpreter (Pico-like Linux build)', () => {
  let chip: RealEspruino | null = null;
  let log = '';
  let bootAt = 0;

  const m = smallGantry();

  beforeAll(async () => {
    const machineFile = join(tempDir(), 'ref-gantry-coarse.json');
    writeFileSync(machineFile, JSON.stringify(m, null, 2));
    const upload = dryRunUpload(machineFile);
    // After the console escape (96 Ctrl-C) and the prompt probe: on the Linux build two Ctrl-C on
    // an empty line within 5 s exit the process (a board clears the line).
    const body = upload.subarray(upload.indexOf(0x0a) + 1);
    const pieces = uploadPieces(body.toString('latin1'));
    expect(pieces.map((p) => p.data).join('')).toBe(body.toString('latin1'));
    console.log(`espruino-real: upload body ${body.length} B in ${pieces.length} pieces, ${pieces.filter((p) => p.pauseMs > 0).length} pauses of ${pieces[0].pauseMs} ms (flasher's uploadPieces)`);
    // The switches (test/helpers/espruino-switches.ts): a .boot0 that load() runs before the app.
    // Then the upload, until the app's first frame delimiter: it has taken the port (console on LoopbackA).
    const booted = await bootApp({
      env: { ESPRUINO_PIN_STATS: '1' },
      body,
      prepare: (c) => c.writeStorageFile('.boot0', switchModelBoot0(m, START_MM)),
      timeoutMs: 30_000,
    });
    chip = booted.chip;
    bootAt = booted.bootAt;
    await sleep(500);
    log = chip.text(bootAt);
    console.log(`espruino-real: ${describeBinary()}; boot output: ${JSON.stringify(log.slice(0, log.indexOf('\0')).split('\n').filter((l) => l.trim()).slice(-4))}`);
  }, 120_000);

  afterAll(async () => {
    if (chip) {
      const all = await chip.close();
      const stats = all.split('\n').filter((l) => /pin|edge/i.test(l)).slice(-8);
      if (stats.length) console.log(`espruino-real: at exit: ${stats.join(' | ')}`);
    }
  });

  it('boots from the paced upload: no Uncaught, no error, the app takes the port and announces itself (HELLO_REPLY)', () => {
    const beforeLink = log.slice(0, log.indexOf('\0'));
    expect(beforeLink).not.toMatch(/Uncaught|Error|FAILED/);
    expect(log).not.toMatch(/Uncaught/);
    // session.boot() announces the boot with a HELLO_REPLY (where the app died without the
    // splice fix: the Uncaught went to LoopbackA, the port stayed silent after its 0x00).
    const frames = new FrameDecoder();
    const types: number[] = [];
    for (const b of Buffer.from(log, 'latin1')) if (frames.push(b) === FR_OK) types.push(frames.type);
    expect(types).toContain(T_HELLO_REPLY);
  });

  it('homes on the modelled switches and strings a short plan to DONE through the link; every step pulse on the pins, as the shim steps', async () => {
    // Judged by the interpreter's own pin edge counters (ESPRUINO_PIN_STATS=1) against the same
    // stream in the native simulator from the same power-on position, and by the link's DONE.
    const c = chip!;
    const stream = Uint8Array.from(encodeStream(PLAN, m.hooks.count, [0]));
    const t0 = Date.now();
    const session = new HostSession(stream, { byteMs: 0.01 }, 0);
    c.onData((b) => session.receive(b, Date.now() - t0));
    let helloAt = -1;
    let lastState = '';
    const transitions: string[] = []; // state/line@ms
    while (Date.now() - t0 < 150_000 && session.phase !== 'done' && session.phase !== 'failed' && !c.exited) {
      const now = Date.now() - t0;
      for (const f of session.poll(now)) c.p.stdin.write(Buffer.from(f));
      if (helloAt < 0 && session.device) helloAt = now;
      const st = session.status ? `${session.status.state}/${session.status.line}` : '';
      if (st !== lastState) {
        transitions.push(`${st}@${now}`);
        lastState = st;
      }
      await sleep(10);
    }
    const doneAt = Date.now() - t0;
    const tail = c.text(bootAt).replace(/[^\x20-\x7e\n]/g, '.').slice(-600);
    expect(session.device, `no HELLO_REPLY; device output: ${tail}`).not.toBeNull();
    expect(session.device!.machineHash).toBe(machineHash(m));
    console.log(`espruino-real: HELLO_REPLY after ${helloAt} ms; session ${session.phase} after ${doneAt} ms (${session.error ?? 'no error'}); state/line@ms ${transitions.join(' ')}; status ${JSON.stringify(session.status)}`);
    expect(session.phase, `session ${session.phase}: ${session.error}; device output: ${tail}`).toBe('done');
    expect(session.status).toMatchObject({ state: ST_DONE, error: 0 });

    // The console escape gives the REPL back (the app holds the port), then close() prints the counters.
    await c.send(Buffer.alloc(CONSOLE_ESCAPE_RUN + 10, ESCAPE_BYTE));
    await sleep(500);
    const model = await c.probe<{ n: number; m: number }[]>('__hlSwitches.map(function(a){return {n:a.n,m:a.m};})');
    const all = await c.close();
    chip = null;
    const pins = new Map<number, { rise: number; fall: number; level: number }>();
    for (const mm of all.matchAll(/pinstats pin=(\d+) rise=(\d+) fall=(\d+) level=(\d+)/g)) pins.set(+mm[1], { rise: +mm[2], fall: +mm[3], level: +mm[4] });
    // The same stream and power-on position in the simulator: the TypeScript runtime itself
    // (native, V8's Math) and the ES5 app in node:vm over the Espruino shim (a Pico's Math).
    const native = simulate(stream, m, { startMm: START_MM, skipEstimates: true });
    const shim = simulate(stream, m, { startMm: START_MM, skipEstimates: true, target: espruinoTarget });
    expect(native.ok, `native: ${native.alarm}`).toBe(true);
    expect(shim.ok, `espruino shim: ${shim.alarm}`).toBe(true);
    const real = { x: pins.get(m.axes.x.pins.step)?.rise ?? 0, y: pins.get(m.axes.y.pins.step)?.rise ?? 0, z: pins.get(m.axes.z.pins.step)?.rise ?? 0 };
    const asked = { x: model[0].n, y: model[1].n, z: model[2].n };
    const merged = { x: model[0].m, y: model[1].m, z: model[2].m };
    console.log(
      `espruino-real: step pulses on the interpreter's pins ${JSON.stringify(real)}, the shim's ${JSON.stringify(shim.steps)}, native runtime ${JSON.stringify(native.steps)}; ` +
        `the app asked for ${JSON.stringify(asked)}, merged by the Linux build's polled utility timer ${JSON.stringify(merged)}; ${all.split('\n').filter((l) => l.startsWith('pinstats')).join(' | ')}`,
    );
    // Every pulse is a rising edge on its pin, but for pulses merged into a still-running one (a
    // Linux-port artifact, see espruino-switches.ts); the imitation steps exactly as the real
    // interpreter; the native runtime within a few steps (a Pico's sin/cos/atan2 are Taylor series:
    // a wrap point can round to the next step, sim/targets/espruino-math.ts).
    expect(merged.x + merged.y + merged.z).toBeLessThanOrEqual(0.01 * (asked.x + asked.y + asked.z));
    expect({ x: real.x + merged.x, y: real.y + merged.y, z: real.z + merged.z }).toEqual(asked);
    expect(asked).toEqual(shim.steps);
    for (const k of ['x', 'y', 'z'] as const) expect(Math.abs(asked[k] - native.steps[k])).toBeLessThanOrEqual(Math.max(4, 0.001 * native.steps[k]));
    for (const a of [m.axes.x, m.axes.y, m.axes.z]) expect(pins.get(a.pins.step)).toMatchObject({ fall: pins.get(a.pins.step)!.rise, level: 0 });
    expect(real.x + real.y + real.z).toBeGreaterThan(1000);
  }, 180_000);

  it('sent without the pauses (256 B every 22 ms) the REPL loses the start of the first Storage.write line', async () => {
    // Why uploadPieces pauses: reset() frees the input line the REPL has already filled.
    const upload = dryRunUpload();
    const body = upload.subarray(upload.indexOf(0x0a) + 1);
    const c = new RealEspruino();
    try {
      await c.waitForText('>', 0, 20_000);
      const mark = c.out.length;
      await c.send(body, 256, 22);
      await c.waitForText('Unable to find or create file', mark, 20_000);
      const lines = c.text(mark).split(/\r?\n/).filter((l) => l.includes('Uncaught'));
      console.log(`espruino-real: unpaced upload: ${JSON.stringify(lines.slice(0, 2).map((l) => l.slice(0, 60)))}`);
      expect(lines[0]).toMatch(/^Uncaught ReferenceError: "[A-Za-z0-9+/]+" is not defined/);
    } finally {
      await c.close();
    }
  }, 45_000);
});

describe.skipIf(armUnavailable !== null)('the ES5 app at rest in the real interpreter with a Pico\'s memory packing (32-bit ARM build under qemu-arm)', () => {
  it('after the exact upload and boot, process.memory() holds at most 70 % of 5100 JsVars; the estimator is within 10 %', async () => {
    // The ARM build packs JsVars as a Pico does (13 bytes, 13-bit references, 4-char names); the
    // x86-64 build's are 17 bytes with 8-char names, so its counts differ.
    const upload = dryRunUpload();
    const body = upload.subarray(upload.indexOf(0x0a) + 1);
    let fresh = { usage: 0, total: 0, blocksize: 0 };
    let board = '';
    const { chip: c, bootAt: mark } = await bootApp({
      arm: true,
      body,
      prepare: async (r) => {
        fresh = await r.probe<{ usage: number; total: number; blocksize: number }>('process.memory()');
        board = await r.probe<string>('process.env.BOARD');
      },
      timeoutMs: 60_000,
    });
    try {
      await sleep(3000); // its main loop runs (STATUS frames), as at rest on a board
      expect(c.text(mark)).not.toMatch(/Uncaught/);
      await c.send(Buffer.alloc(CONSOLE_ESCAPE_RUN + 10, ESCAPE_BYTE));
      await sleep(1000);
      const mem = await c.probe<{ usage: number; free: number; total: number; blocksize: number }>('process.memory()');
      const app = mem.usage - fresh.usage;
      // The estimator on the same board as the interpreter reports (the Linux build: no step
      // generator), and on a Pico (with it), for the log.
      const appSrc = readFileSync(join(repoRoot, 'dist/espruino/app.js'), 'utf8');
      const profile = readFileSync(join(repoRoot, 'machines/ref-gantry.json'), 'utf8');
      const estimate = appJsVarsAtRest(appSrc, profile, { board });
      const onPico = appJsVarsAtRest(appSrc, profile);
      console.log(
        `espruino-real (ARM, qemu, BOARD ${board}): process.memory() fresh ${fresh.usage} used; app booted at rest ${mem.usage} used / ${mem.free} free of ${mem.total} (${(100 * mem.usage / mem.total).toFixed(1)} %), the app ${app}; ` +
          `estimator ${estimate} (${(100 * (estimate - app) / app).toFixed(1)} %); estimator on a Pico (step generator built) ${onPico}`,
      );
      expect(mem).toMatchObject({ total: 5100, blocksize: 13 });
      expect(mem.usage).toBeLessThanOrEqual(0.7 * 5100);
      expect(Math.abs(estimate - app) / app).toBeLessThanOrEqual(0.1);
    } finally {
      await c.close();
    }
  }, 120_000);
});
