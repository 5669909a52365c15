import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { ERR_BODY_CRC } from '../shared/stream/format';
import { mmToSteps } from '../shared/machine';
import {
  QUEUE_SIZE, ST_ALARM, ST_DONE, ST_HOMING, ST_IDLE, ST_PAUSED, ST_RUNNING, ST_UNHOMED,
} from '../device/runtime';
import {
  ERR_ENDSTOP_HIT, ERR_ENDSTOP_STUCK, ERR_HOMING_FAILED, ERR_HOOK_COUNT, ERR_INPUT_OVERFLOW, ERR_NOT_HOMED,
  ERR_SOFT_LIMIT, ERR_STREAM, ERR_BAD_PROFILE, ERR_MACHINE_MISMATCH, ERR_PILE_FULL,
} from '../device/errors';
import { simulate } from '../sim/simulate';
import { LinkSession } from '../device/link-session';
import { FR_OK, FrameDecoder, encodeFrame } from '../shared/link/frame';
import { CMD_JOG, EVT_REFUSED, T_CMD, T_EVENT, putUint } from '../shared/link/protocol';
import { refGantry, rig, samplePath } from './helpers/rig';

const m = refGantry();
const stepPins = [m.axes.x.pins.step, m.axes.y.pins.step, m.axes.z.pins.step];
const dirPins = [m.axes.x.pins.dir, m.axes.y.pins.dir, m.axes.z.pins.dir];
const endPins = [m.axes.x.pins.endstop, m.axes.y.pins.endstop, m.axes.z.pins.endstop];

describe('runtime: homing', () => {
  it('boots unhomed and moves nothing until homed; a stream before homing is an alarm', () => {
    const r = rig(m, { recordEdges: 1000 });
    r.rt.boot();
    expect(r.rt.state).toBe(ST_UNHOMED);
    expect(r.rt.canAccept()).toBe(false);
    expect(r.rt.feed(0x48)).toBe(false);
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_NOT_HOMED);
    r.run();
    expect(r.edges.filter((e) => stepPins.includes(e.pin))).toEqual([]);
    expect(Array.from(r.verifier.steps)).toEqual([0, 0, 0]);
  });

  it('seeks each endstop in profile order (z, x, y) before any other motion, and ends at the backoff', () => {
    const r = rig(m, { recordEdges: 2_000_000 });
    r.rt.boot();
    expect(r.rt.home()).toBe(true);
    expect(r.rt.state).toBe(ST_HOMING);
    expect(r.run(() => r.rt.state !== ST_HOMING)).toBe(true);
    expect(r.rt.state).toBe(ST_IDLE);

    // Reconstruct from edges: each axis' endstop is pressed (pin goes low, active-low) before the
    // axis ever steps away from it: towards + for x and y (min switches), towards − for z (its
    // switch is at the top, so homing never drives the nozzle into the hooks).
    const awayLevel = [1, 1, 0];
    const dirLevel = [0, 0, 0];
    const pressedAt = [-1, -1, -1];
    const firstStepAt = [-1, -1, -1];
    r.edges.forEach((e, i) => {
      const d = dirPins.indexOf(e.pin);
      if (d >= 0) dirLevel[d] = e.level;
      const s = stepPins.indexOf(e.pin);
      if (s >= 0 && e.level === 1) {
        if (firstStepAt[s] < 0) firstStepAt[s] = i;
        if (dirLevel[s] === awayLevel[s]) expect(pressedAt[s], `axis ${s} stepped away from its endstop before reaching it`).toBeGreaterThanOrEqual(0);
      }
      const p = endPins.indexOf(e.pin);
      if (p >= 0 && e.level === 0 && pressedAt[p] < 0) pressedAt[p] = i;
    });
    expect(pressedAt.every((i) => i >= 0)).toBe(true);
    // Order: z homes completely before x moves, x before y.
    expect(pressedAt[2]).toBeLessThan(firstStepAt[0]);
    expect(pressedAt[0]).toBeLessThan(firstStepAt[1]);
    // Physical positions: x, y backed off their min switches; z backed off its top switch, staying
    // high until the job's first move. The runtime agrees.
    const st = r.rt.status();
    expect(Array.from(r.pos)).toEqual([st.x, st.y, st.z]);
    expect(st.x).toBe(mmToSteps(m.axes.x, m.axes.x.homing.backoffMm));
    expect(st.z).toBe(mmToSteps(m.axes.z, m.axes.z.travelMaxMm - m.axes.z.homing.backoffMm));
    expect(r.verifier.violations).toEqual([]);
  });

  it('homes from a start on the endstop (backs off first)', () => {
    const r = rig(m, { startMm: [0, 200, 0] });
    r.rt.boot();
    r.rt.home();
    r.run(() => r.rt.state !== ST_HOMING);
    expect(r.rt.state).toBe(ST_IDLE);
    expect(r.verifier.violations).toEqual([]);
  });

  it('alarms homing-failed when an endstop never triggers, and stops within the seek limit', () => {
    const r = rig(m, { plantFaults: { endstopDead: ['x'] } });
    r.rt.boot();
    r.rt.home();
    r.run(() => r.rt.state !== ST_HOMING);
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_HOMING_FAILED);
    expect(r.rt.detail).toBe(0);
    expect(r.verifier.steps[1]).toBe(0); // y never moved
  });

  it('alarms endstop-stuck when a switch stays pressed after backing off', () => {
    const r = rig(m, { plantFaults: { endstopStuck: ['y'] } });
    r.rt.boot();
    r.rt.home();
    r.run(() => r.rt.state !== ST_HOMING);
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_ENDSTOP_STUCK);
    expect(r.rt.detail).toBe(1);
  });

  it('refuses a profile that fails the device check', () => {
    const bad = refGantry();
    bad.wrap.wrapHeightMm = 13;
    const r = rig(bad);
    r.rt.boot();
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_BAD_PROFILE);
    expect(r.rt.home()).toBe(false);
  });
});

function homed(opts: Parameters<typeof rig>[1] = {}, machine = m) {
  const r = rig(machine, opts);
  r.rt.boot();
  r.rt.home();
  r.run(() => r.rt.state !== ST_HOMING);
  expect(r.rt.state).toBe(ST_IDLE);
  return r;
}

describe('runtime: stream', () => {
  it('runs a stream to done, wrapping exactly its hooks; progress is stored', () => {
    const path = samplePath(3, 12);
    const r = homed();
    r.feedAll(encodeStream(path, 160, [0]));
    expect(r.rt.state).toBe(ST_DONE);
    const st = r.rt.status();
    expect(st.line).toBe(12);
    expect(st.lineCount).toBe(12);
    expect(st.hook).toBe(path[path.length - 1]);
    expect(r.verifier.wraps.map((w) => w.hook)).toEqual(path);
    expect(r.verifier.violations).toEqual([]);
    expect(r.hal.storageRead('line')).toBe(12);
  });

  it('applies backpressure: at most QUEUE_SIZE operations are buffered, overfeeding is an alarm', () => {
    const r = homed();
    const bytes = encodeStream(samplePath(5, 40), 160, [0]);
    let i = 0;
    while (r.rt.canAccept()) r.rt.feed(bytes[i++]);
    expect(r.rt.status().queued).toBeLessThanOrEqual(QUEUE_SIZE);
    expect(r.rt.state).toBe(ST_RUNNING);
    // Waiting lets the motion consume hooks, which makes room again.
    r.run(() => r.rt.canAccept());
    expect(r.rt.canAccept()).toBe(true);
    while (r.rt.canAccept()) r.rt.feed(bytes[i++]);
    expect(r.rt.feed(bytes[i])).toBe(false);
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_INPUT_OVERFLOW);
  });

  it('alarms on a hook count that is not the machine\'s', () => {
    const r = homed();
    r.feedAll(encodeStream([1, 50, 100], 200, [0]));
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_HOOK_COUNT);
    expect(r.rt.detail).toBe(200);
  });

  it('alarms on a corrupt stream with the decoder\'s code', () => {
    const bytes = encodeStream([1, 50, 100, 20], 160, [0]);
    bytes[bytes.length - 1] ^= 0xff;
    const r = homed();
    r.feedAll(bytes);
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_STREAM);
    expect(r.rt.detail).toBe(ERR_BODY_CRC);
  });

  it('pauses for a thread change at a colour operation and continues on resume()', () => {
    const r = homed();
    // 10 → 60 → 110 in colour 0, then colour 1 for the lines to 30 and 90.
    r.feedAll(encodeStream([10, 60, 110, -2, 30, 90], 160, [0x000000, 0xff0000]));
    expect(r.rt.state).toBe(ST_PAUSED);
    expect(r.rt.status().hooksWrapped).toBe(3);
    expect(r.rt.status().color).toBe(1);
    expect(r.rt.resume()).toBe(true);
    r.run();
    expect(r.rt.state).toBe(ST_DONE);
    expect(r.verifier.wraps.map((w) => w.hook)).toEqual([10, 60, 110, 30, 90]);
  });

  it('refuses a hook whose wrap lies outside the travel (soft limit) when it is planned, before moving towards it', () => {
    const shifted = refGantry();
    shifted.board.originMm = [-3, 50]; // hook 120 (at the left, x = 2 mm) would be wrapped down to x = −2 mm
    const r = homed({}, shifted);
    r.feedAll(encodeStream([40, 120, 60], 160, [0]));
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_SOFT_LIMIT);
    expect(r.rt.detail).toBe(120);
    // Hook 120 is planned (look-ahead) while the machine is still on its way to hook 40: the alarm
    // stops everything before 40 is finished and long before anything moves towards 120.
    expect(r.verifier.wraps.map((w) => w.hook)).toEqual([]);
    expect(r.verifier.steps[0] + r.verifier.steps[1]).toBeGreaterThan(0);
    expect(r.verifier.violations).toEqual([]);
  });

  it('notices an endstop pressed where it should not be (lost steps) and alarms', () => {
    // Lose one x step in 50: the gantry drifts towards −x until the switch closes mid-job.
    const r = homed({ plantFaults: { loseStepEvery: 50, loseStepAxis: 'x' } });
    r.feedAll(encodeStream(samplePath(9, 200), 160, [0]));
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_ENDSTOP_HIT);
    expect(r.rt.detail).toBe(0);
  });
});

describe('runtime: look-ahead job control', () => {
  const path = samplePath(21, 30);

  it('pause() decelerates to a stop within the planned blocks, resume() continues the same line', () => {
    const r = homed();
    const bytes = encodeStream(path, 160, [0]);
    let i = 0;
    // Feed and run until a few hooks are wrapped, then pause mid-job.
    while (r.rt.status().hooksWrapped < 5) {
      while (i < bytes.length && r.rt.canAccept()) r.rt.feed(bytes[i++]);
      r.mcu.runNext();
    }
    const at = r.mcu.now;
    expect(r.rt.pause()).toBe(true);
    expect(r.run(() => r.rt.state === ST_PAUSED)).toBe(true);
    // Stopped within a few seconds (the planner holds at most a line and a turn), no violation.
    expect(r.mcu.now - at).toBeLessThan(5e6);
    const st = r.rt.status();
    expect(st.hooksWrapped).toBeGreaterThanOrEqual(5);
    r.mcu.setTimer(1, r.mcu.now + 10e6, () => undefined); // 10 s of standstill
    r.run(() => r.mcu.now >= at + 10e6);
    expect(r.rt.resume()).toBe(true);
    r.feedAll(bytes.slice(i));
    expect(r.rt.state).toBe(ST_DONE);
    expect(r.verifier.wraps.map((w) => w.hook)).toEqual(path);
    expect(r.verifier.violations).toEqual([]);
  });

  it('abort() stops and drops the job; the machine stays homed and idle', () => {
    const r = homed();
    const bytes = encodeStream(path, 160, [0]);
    let i = 0;
    while (r.rt.status().hooksWrapped < 3) {
      while (i < bytes.length && r.rt.canAccept()) r.rt.feed(bytes[i++]);
      r.mcu.runNext();
    }
    expect(r.rt.abort()).toBe(true);
    expect(r.run(() => r.rt.state === ST_IDLE)).toBe(true);
    expect(r.hal.log.some((l) => l.endsWith('aborted'))).toBe(true);
    expect(r.rt.status().hooksWrapped).toBe(0);
    expect(r.verifier.violations).toEqual([]);
    // A new job runs without homing again.
    r.feedAll(encodeStream([3, 70, 120], 160, [0]));
    expect(r.rt.state).toBe(ST_DONE);
  });

  it('stores progress at a bounded rate and reports it at boot; startAt() resumes from that line', () => {
    const r = homed();
    const writes: number[] = [];
    const sw = r.hal.storageWrite.bind(r.hal);
    r.hal.storageWrite = (k: string, v: number) => {
      writes.push(v);
      sw(k, v);
    };
    const long = samplePath(3, 120);
    r.feedAll(encodeStream(long, 160, [0]));
    expect(r.rt.state).toBe(ST_DONE);
    // Every 50 lines and at the end: 50, 100, 120.
    expect(writes).toEqual([50, 100, 120]);
    // A fresh device with the same flash: boot reports the stored line; resuming at 100 wraps the rest.
    const r2 = rig(m);
    r2.hal.storage.set('line', 100);
    r2.rt.boot();
    expect(r2.rt.status().storedLine).toBe(100);
    expect(r2.hal.log.some((l) => l.endsWith('stored line 100'))).toBe(true);
    r2.rt.home();
    r2.run(() => r2.rt.state === ST_IDLE);
    expect(r2.rt.startAt(100)).toBe(true);
    r2.feedAll(encodeStream(long, 160, [0]));
    expect(r2.rt.state).toBe(ST_DONE);
    expect(r2.verifier.wraps.map((w) => w.hook)).toEqual(long.slice(100));
    expect(r2.rt.status().hooksWrapped).toBe(121);
  });

  it('raises the run height with the pile; a pile that would reach the heads is an alarm (pile-full)', () => {
    const thick = refGantry();
    thick.thread.widthMm = 2; // 2.5 mm per wrap: the heads (12 mm) are reached at the 5th wrap of a hook
    thick.wrap.wrapHeightMm = 8;
    const r = homed({}, thick);
    const zigzag = [0, 80, 0, 80, 0, 80, 0, 80, 0, 80, 0, 80, 0];
    r.feedAll(encodeStream(zigzag, 160, [0]));
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_PILE_FULL);
    expect(r.verifier.violations).toEqual([]);
    expect(r.rt.status().runHeightMm).toBeGreaterThan(thick.wrap.wrapHeightMm);
  });

  it('strings a 1 cm thick pile without a hand: the run height rises with it, the nozzle never drags through it', () => {
    const thick = refGantry();
    thick.thread.widthMm = 1; // 1.25 mm per wrap: 8 wraps make a 10 mm pile
    thick.wrap.wrapHeightMm = 8; // start low, so that the run height has to rise (8 → 10.5 mm)
    const loop = [0, 80, 40, 120];
    const path: number[] = [];
    for (let i = 0; i < 8; i++) path.push(...loop);
    const r = simulate(Uint8Array.from(encodeStream(path, 160, [0])), thick, { skipEstimates: true });
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.maxPileMm).toBeCloseTo(10, 6);
    expect(r.report.runHeightMm).toBeCloseTo(10.5, 6);
  });

  it('refuses a stream made for another machine profile', () => {
    const r = homed();
    r.rt.setMachineHash(0x1234567);
    r.feedAll(encodeStream(path, 160, [0], { version: 4, machineHash: 0x7654321 }));
    expect(r.rt.state).toBe(ST_ALARM);
    expect(r.rt.error).toBe(ERR_MACHINE_MISMATCH);
    expect(Array.from(r.verifier.steps).reduce((a, b) => a + b)).toBeGreaterThan(0); // homing only
    // The same stream for this machine (and one for any machine, hash 0) runs.
    for (const hash of [0x1234567, 0]) {
      const ok = homed();
      ok.rt.setMachineHash(0x1234567);
      ok.feedAll(encodeStream(path, 160, [0], { version: 4, machineHash: hash }));
      expect(ok.rt.state).toBe(ST_DONE);
    }
  });

  it('the verifier catches over-acceleration (a planner that accelerates twice as hard as allowed)', () => {
    const strong = refGantry();
    strong.axes.x.accelMmS2 *= 2;
    strong.axes.y.accelMmS2 *= 2;
    const rr = simulate(Uint8Array.from(encodeStream(path, 160, [0])), m, { skipEstimates: true, runtimeMachine: strong });
    expect(rr.violationCounts.overaccel).toBeGreaterThan(0);
    expect(rr.ok).toBe(false);
  });
});

describe('runtime: jog', () => {
  it('moves one axis by the steps asked, homed and at rest only, never past the travel; the link takes JOG frames', () => {
    const m = refGantry();
    const r = rig(m);
    r.rt.boot();
    expect(r.rt.jog(0, 100)).toBe(false); // not homed
    r.rt.home();
    r.run(() => r.rt.state === ST_IDLE);
    const x0 = r.pos[0];
    expect(r.rt.jog(0, 400)).toBe(true);
    expect(r.rt.jog(1, 10)).toBe(false); // still moving
    r.run();
    expect(r.pos[0]).toBe(x0 + 400);
    expect(r.rt.state).toBe(ST_IDLE);
    // Past the travel: refused, nothing moves.
    const yMax = mmToSteps(m.axes.y, m.axes.y.travelMaxMm);
    const y0 = r.pos[1];
    expect(r.rt.jog(1, yMax - y0 + 1)).toBe(false);
    expect(r.rt.jog(1, -y0 - 1)).toBe(false);
    expect(r.rt.jog(3, 10)).toBe(false);
    r.run();
    expect(r.pos[1]).toBe(y0);
    // Over the link: axis u8, steps i32 (negative: two's complement).
    const events: number[][] = [];
    const dec = new FrameDecoder();
    const dev = new LinkSession(r.rt, r.hal, 0, 2, (bytes) => {
      for (const b of bytes) if (dec.push(b) === FR_OK && dec.type === T_EVENT) events.push(dec.payload.slice(0, dec.length));
    });
    const jog = (seq: number, axis: number, steps: number) => {
      const p = [CMD_JOG, axis];
      putUint(p, steps < 0 ? steps + 4294967296 : steps, 4);
      const b: number[] = [];
      encodeFrame(T_CMD, seq, 0, p, b);
      for (const x of b) dev.push(x);
    };
    jog(0, 2, -200);
    const z0 = r.pos[2];
    r.run();
    expect(r.pos[2]).toBe(z0 - 200);
    jog(1, 0, 100_000_000);
    expect(events.at(-1)).toEqual([EVT_REFUSED, CMD_JOG, ST_IDLE]);
    expect(r.verifier.violations).toEqual([]);
  });
});
