import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { ERR_BODY_CRC } from '../shared/stream/format';
import { mmToSteps } from '../shared/machine';
import {
  QUEUE_SIZE, ST_ALARM, ST_DONE, ST_HOMING, ST_IDLE, ST_PAUSED, ST_RUNNING, ST_UNHOMED,
} from '../device/runtime';
import {
  ERR_ENDSTOP_HIT, ERR_ENDSTOP_STUCK, ERR_HOMING_FAILED, ERR_HOOK_COUNT, ERR_INPUT_OVERFLOW, ERR_NOT_HOMED,
  ERR_SOFT_LIMIT, ERR_STREAM, ERR_BAD_PROFILE,
} from '../device/errors';
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

    // Reconstruct from edges: the first step of each axis goes towards − and its endstop is pressed
    // (pin goes low, active-low) before the axis ever steps towards +.
    const dirLevel = [0, 0, 0];
    const pressedAt = [-1, -1, -1];
    const firstStepAt = [-1, -1, -1];
    r.edges.forEach((e, i) => {
      const d = dirPins.indexOf(e.pin);
      if (d >= 0) dirLevel[d] = e.level;
      const s = stepPins.indexOf(e.pin);
      if (s >= 0 && e.level === 1) {
        if (firstStepAt[s] < 0) firstStepAt[s] = i;
        if (dirLevel[s] === 1) expect(pressedAt[s], `axis ${s} stepped + before its endstop`).toBeGreaterThanOrEqual(0);
      }
      const p = endPins.indexOf(e.pin);
      if (p >= 0 && e.level === 0 && pressedAt[p] < 0) pressedAt[p] = i;
    });
    expect(pressedAt.every((i) => i >= 0)).toBe(true);
    // Order: z homes completely before x moves, x before y.
    expect(pressedAt[2]).toBeLessThan(firstStepAt[0]);
    expect(pressedAt[0]).toBeLessThan(firstStepAt[1]);
    // Physical positions: x, y backed off; z lifted to travel height. The runtime agrees.
    const st = r.rt.status();
    expect(Array.from(r.pos)).toEqual([st.x, st.y, st.z]);
    expect(st.x).toBe(mmToSteps(m.axes.x, m.axes.x.homing.backoffMm));
    expect(st.z).toBe(mmToSteps(m.axes.z, m.wrap.travelHeightMm));
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
