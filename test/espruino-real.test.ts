// The ES5 app in the real Espruino interpreter (Espruino's firmware built for Linux with a Pico's
// interpreter settings, ../shared/realchips/espruino): the exact upload `hookline flash --target
// espruino` makes, paced as EspruinoTools paces it, boot from Storage, the link handshake, and a
// short plan through the link. Skips with one line where ../shared/realchips is absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { HostSession } from '../host/link/session';
import { uploadPieces } from '../host/flash/espruino-upload';
import { describeBinary, dryRunUpload, espruinoUnavailable, RealEspruino, sleep } from './helpers/espruino-real';
import { refGantry, samplePath } from './helpers/rig';
import { machineHash } from '../host/stream/machine-hash';
import { mmToSteps } from '../shared/machine';
import { ST_ALARM, ST_HOMING } from '../device/runtime';
import { ERR_HOMING_FAILED } from '../device/errors';
import { FR_OK, FrameDecoder, MAX_FRAME } from '../shared/link/frame';
import { T_HELLO_REPLY } from '../shared/link/protocol';

// device/espruino/main.ts's console escape (that module installs E.on('init') when imported).
const CONSOLE_ESCAPE_RUN = MAX_FRAME + 10;
const ESCAPE_BYTE = 3;

const unavailable = espruinoUnavailable();
if (unavailable) console.log(`espruino-real: ${unavailable}`);

describe.skipIf(unavailable !== null)('the ES5 app in the real Espruino interpreter (Pico-like Linux build)', () => {
  let chip: RealEspruino | null = null;
  let log = '';
  let bootAt = 0;

  beforeAll(async () => {
    const upload = dryRunUpload();
    // After the console escape (96 Ctrl-C) and the prompt probe: on the Linux build two Ctrl-C on
    // an empty line within 5 s exit the process (a board clears the line).
    const body = upload.subarray(upload.indexOf(0x0a) + 1);
    const pieces = uploadPieces(body.toString('latin1'));
    expect(pieces.map((p) => p.data).join('')).toBe(body.toString('latin1'));
    console.log(`espruino-real: upload body ${body.length} B in ${pieces.length} pieces, ${pieces.filter((p) => p.pauseMs > 0).length} pauses of ${pieces[0].pauseMs} ms (flasher's uploadPieces)`);
    chip = new RealEspruino({ ESPRUINO_PIN_STATS: '1' });
    await chip.waitForText('>', 0, 20_000);
    bootAt = chip.out.length;
    await chip.sendLikeTools(body);
    // The app's first frame delimiter: it has taken the port (console on LoopbackA).
    try {
      await chip.waitFor((o) => o.indexOf(0x00, bootAt), 'the app taking the port (a 0x00 frame byte)', 30_000);
    } catch (e) {
      log = chip.text(bootAt);
      throw e;
    }
    await sleep(500);
    log = chip.text(bootAt);
    console.log(`espruino-real: ${describeBinary()}; boot output: ${JSON.stringify(log.slice(0, log.indexOf('\0')).split('\n').filter((l) => l.trim()).slice(-4))}`);
  }, 60_000);

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

  it('answers HELLO and STATUS, takes a plan and homes; with no switches homing fails at the seek length', async () => {
    // The Linux build has no switches: an input_pullup pin reads 1, an active-low endstop never
    // closes. So the plan cannot reach DONE here; the device must run the first homing seek (Z,
    // toward max) to its full length and raise "homing failed", counted on its step pin.
    const c = chip!;
    const m = refGantry();
    const path = samplePath(21, 3);
    const stream = Uint8Array.from(encodeStream(path, 160, [0]));
    const t0 = Date.now();
    const session = new HostSession(stream, { byteMs: 0.01 }, 0);
    c.onData((b) => session.receive(b, Date.now() - t0));
    let helloAt = -1;
    let statusAt = -1;
    let homingAt = -1;
    while (Date.now() - t0 < 40_000 && session.phase !== 'done' && session.phase !== 'failed' && !c.exited) {
      const now = Date.now() - t0;
      for (const f of session.poll(now)) c.p.stdin.write(Buffer.from(f));
      if (helloAt < 0 && session.device) helloAt = now;
      if (statusAt < 0 && session.status) statusAt = now;
      if (homingAt < 0 && session.status?.state === ST_HOMING) homingAt = now;
      await sleep(10);
    }
    const tail = c.text(bootAt).replace(/[^\x20-\x7e\n]/g, '.').slice(-600);
    expect(session.device, `no HELLO_REPLY; device output: ${tail}`).not.toBeNull();
    expect(session.device!.machineHash).toBe(machineHash(m));
    expect(session.status, `no STATUS; device output: ${tail}`).not.toBeNull();
    console.log(
      `espruino-real: HELLO_REPLY after ${helloAt} ms (firmware ${JSON.stringify(session.device!.firmware)}, window ${session.device!.window}, rx ${session.device!.rxBuffer}); ` +
        `first STATUS after ${statusAt} ms, HOMING after ${homingAt} ms; session ${session.phase} after ${Date.now() - t0} ms: ${session.error}`,
    );
    expect(homingAt).toBeGreaterThan(0);
    expect(session.phase).toBe('failed');
    expect(session.status).toMatchObject({ state: ST_ALARM, error: ERR_HOMING_FAILED, line: 0 });

    // The console escape gives the REPL back: memory at rest with the app booted, then exit (Ctrl-D)
    // and the pin counters the patched build prints.
    await sleep(300);
    await c.send(Buffer.alloc(CONSOLE_ESCAPE_RUN + 10, ESCAPE_BYTE));
    await sleep(500);
    const mark = c.out.length;
    c.p.stdin.write('\x10print("HLMEM "+JSON.stringify(process.memory()))\n');
    const at = await c.waitForText('HLMEM ', mark, 10_000);
    await c.waitForText('\n', at, 5_000);
    const mem = JSON.parse(c.text(at + 6).split('\n')[0]) as { free: number; usage: number; total: number };
    const all = await c.close();
    chip = null;
    const pins = new Map<number, { rise: number; fall: number; level: number }>();
    for (const mm of all.matchAll(/pinstats pin=(\d+) rise=(\d+) fall=(\d+) level=(\d+)/g)) pins.set(+mm[1], { rise: +mm[2], fall: +mm[3], level: +mm[4] });
    const z = m.axes.z;
    const seek = Math.floor(mmToSteps(z, z.travelMaxMm - z.travelMinMm + 2 * z.homing.backoffMm) * 1.2) + 10;
    console.log(`espruino-real: process.memory() at rest ${JSON.stringify(mem)}; ${all.split('\n').filter((l) => l.startsWith('pinstats')).join(' | ')}; Z seek ${seek} steps`);
    expect(mem.total).toBe(5100);
    expect(pins.get(z.pins.step)).toMatchObject({ rise: seek, fall: seek, level: 0 });
    expect(pins.get(z.pins.dir)?.level).toBe(1); // toward max
    expect(pins.get(m.axes.x.pins.step)?.rise ?? 0).toBe(0); // X and Y wait for Z
    expect(pins.get(m.axes.y.pins.step)?.rise ?? 0).toBe(0);
  }, 75_000);

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
