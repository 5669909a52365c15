import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError, fsErrorText } from '../errors';
import { AXIS_NAMES, type MachineProfile, axisAt, hookSpacingMm, hookXMm, hookYMm } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';

/** Any machine profile: a gantry (kind "gantry") or a ring (kind "ring"). */
export type AnyMachine = MachineProfile | RingProfile;

const finite = z.number().finite();
const positive = finite.positive();
const pin = z.number().int().min(0).max(255);
const pair = z.tuple([finite, finite]);

const axis = z.strictObject({
  stepsPerMm: positive,
  maxSpeedMmS: positive,
  accelMmS2: positive,
  jerkMmS: positive,
  travelMinMm: finite,
  travelMaxMm: finite,
  invertDir: z.boolean(),
  endstopActiveLow: z.boolean(),
  pins: z.strictObject({ step: pin, dir: pin, endstop: pin }),
  homing: z.strictObject({ seekSpeedMmS: positive, latchSpeedMmS: positive, backoffMm: positive, toMax: z.boolean().optional() }),
});

/** Fields every machine kind has. */
const common = {
  format: z.literal('hookline-machine'),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string().optional(),
  board: z.strictObject({ widthMm: positive, heightMm: positive, originMm: pair }),
  hooks: z.strictObject({
    layout: z.literal('circle'),
    count: z.number().int().min(2).max(0x7fff),
    centerMm: pair,
    diameterMm: positive,
    startAngleDeg: finite,
    hookDiameterMm: positive,
    headHeightMm: positive,
  }),
  thread: z.strictObject({ widthMm: positive }),
  pile: z.strictObject({ packing: finite.min(1).max(10), clearanceMm: finite.min(0) }),
  motion: z.strictObject({ junctionDeviationMm: positive.max(10) }),
};

const machineSchema = z.strictObject({
  ...common,
  kind: z.literal('gantry'),
  wrap: z.strictObject({
    radiusMm: positive,
    segments: z.number().int().min(3).max(256),
    travelHeightMm: positive,
    wrapHeightMm: positive,
    nozzleDiameterMm: positive,
  }),
  axes: z.strictObject({ x: axis, y: axis, z: axis }),
  motors: z.strictObject({ enablePin: pin, enableActiveLow: z.boolean() }),
  homingOrder: z.array(z.enum(['x', 'y', 'z'])).length(3),
  stepPulseUs: positive.max(1000),
});

const ringSchema = z.strictObject({
  ...common,
  kind: z.literal('ring'),
  ring: z.strictObject({
    motorStepsPerRev: z.number().int().positive(),
    gearRatio: positive,
    maxSpeedDegS: positive,
    accelDegS2: positive,
    jerkDegS: positive,
    invertDir: z.boolean(),
    hallActiveLow: z.boolean(),
    hallWidthDeg: positive.max(90),
    pins: z.strictObject({ step: pin, dir: pin, hall: pin }),
    homing: z.strictObject({ seekSpeedDegS: positive, latchSpeedDegS: positive, backoffDeg: positive }),
  }),
  arm: z.strictObject({
    angleDeg: finite,
    pin: pin,
    inOffsetMm: positive,
    outOffsetMm: positive,
    swingMs: positive.max(10000),
    tipDiameterMm: positive,
  }),
  motors: z.strictObject({ enablePin: pin, enableActiveLow: z.boolean() }),
  stepPulseUs: positive.max(1000),
});

/**
 * Fastest step rate (steps/s) a profile may ask of one axis at maxSpeed: above what the targets'
 * step generators do (Grbl on a 16 MHz AVR ~30 kHz, an ESP32's RMT well below this), and it bounds
 * the simulator's work (one event per step: a profile with 1e9 steps/mm ran for minutes).
 */
export const MAX_STEP_RATE_HZ = 100_000;
/** Largest position in steps: the runtime keeps positions as 32-bit integers (with headroom). */
export const MAX_TRAVEL_STEPS = 2 ** 30;

/** Read and validate a machine profile; every problem is a one-line UserError naming the field and the fix. */
export function loadMachine(path: string): AnyMachine {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read machine profile ${path}: ${fsErrorText(e)}; give e.g. --machine machines/ref-gantry.json`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not valid JSON (${(e as Error).message}); fix the syntax, see machines/ref-gantry.json`);
  }
  return validateMachine(json, path);
}

function zodProblem(error: z.ZodError, where: string): never {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : '(top level)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') msg = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (misspelt?)`;
  throw new UserError(`${where}: field ${field}: ${msg}; fix it as described in docs/machines.md`);
}

export function validateMachine(json: unknown, where: string): AnyMachine {
  if (json !== null && typeof json === 'object' && (json as { kind?: unknown }).kind === 'ring') return validateRing(json, where);
  return validateGantry(json, where);
}

/** A ring profile (machines/ref-ring.json). */
export function validateRing(json: unknown, where: string): RingProfile {
  const r = ringSchema.safeParse(json);
  if (!r.success) zodProblem(r.error, where);
  const m = r.data as RingProfile;
  const bad = (field: string, problem: string, fix: string): never => {
    throw new UserError(`${where}: field ${field}: ${problem}; ${fix}`);
  };
  checkHooksAndThread(m, bad);
  const g = m.ring;
  const stepsPerDeg = (g.motorStepsPerRev * g.gearRatio) / 360;
  checkStepRate('ring.maxSpeedDegS', g.maxSpeedDegS, stepsPerDeg, '°/s', m.stepPulseUs, bad);
  const pitchDeg = 360 / m.hooks.count;
  if (!(1 / stepsPerDeg <= pitchDeg / 10)) bad('ring.motorStepsPerRev', `${fmtN(1 / stepsPerDeg)}° per step is too coarse for hooks ${fmtN(pitchDeg)}° apart (at most a tenth of that)`, 'use microstepping or a higher gear ratio');
  if (g.homing.latchSpeedDegS > g.homing.seekSpeedDegS) bad('ring.homing.latchSpeedDegS', 'is faster than seekSpeedDegS', 'make the second approach the slower one');
  if (g.homing.seekSpeedDegS > g.maxSpeedDegS) bad('ring.homing.seekSpeedDegS', 'is above maxSpeedDegS', `use at most ${g.maxSpeedDegS}`);
  if (g.homing.backoffDeg <= g.hallWidthDeg) bad('ring.homing.backoffDeg', `${g.homing.backoffDeg}° does not get off the hall sensor (hallWidthDeg ${g.hallWidthDeg})`, 'back off further than the sensor is wide');
  const pins = new Map<number, string>();
  for (const [p, field] of [[g.pins.step, 'ring.pins.step'], [g.pins.dir, 'ring.pins.dir'], [g.pins.hall, 'ring.pins.hall'], [m.arm.pin, 'arm.pin'], [m.motors.enablePin, 'motors.enablePin']] as [number, string][]) {
    if (p >= 250) bad(field, `pin ${p} is reserved (250–255 stand in for the axes a ring does not have)`, 'use a pin below 250');
    const other = pins.get(p);
    if (other) bad(field, `pin ${p} is already used by ${other}`, 'give every signal its own pin');
    pins.set(p, field);
  }
  const pitch = m.hooks.diameterMm * Math.sin(Math.PI / m.hooks.count);
  const clear = (m.hooks.hookDiameterMm + m.arm.tipDiameterMm) / 2;
  // The arm swings between two hooks, 0.8 × half the pitch from the one it wraps.
  if (!(0.4 * pitch > clear)) bad('hooks.count', `${m.hooks.count} hooks are ${pitch.toFixed(2)} mm apart: the arm tip cannot swing between them (needs more than ${(clear / 0.4).toFixed(2)} mm)`, 'use fewer hooks, a bigger ring or a thinner tip');
  if (!(m.arm.inOffsetMm > clear)) bad('arm.inOffsetMm', `${m.arm.inOffsetMm} mm would hit the hooks (hook and tip need ${clear} mm)`, `use more than ${clear}`);
  if (!(m.arm.outOffsetMm > clear)) bad('arm.outOffsetMm', `${m.arm.outOffsetMm} mm would hit the hooks (hook and tip need ${clear} mm)`, `use more than ${clear}`);
  return m;
}

/** A gantry profile (machines/ref-gantry.json). */
export function validateGantry(json: unknown, where: string): MachineProfile {
  const r = machineSchema.safeParse(json);
  if (!r.success) zodProblem(r.error, where);
  const m = r.data as MachineProfile;
  const bad = (field: string, problem: string, fix: string): never => {
    throw new UserError(`${where}: field ${field}: ${problem}; ${fix}`);
  };

  for (let a = 0; a < 3; a++) {
    const ax = axisAt(m, a);
    const name = AXIS_NAMES[a];
    checkStepRate(`axes.${name}.maxSpeedMmS`, ax.maxSpeedMmS, ax.stepsPerMm, 'mm/s', m.stepPulseUs, bad);
    const far = Math.max(Math.abs(ax.travelMinMm), Math.abs(ax.travelMaxMm)) * ax.stepsPerMm;
    if (!(far <= MAX_TRAVEL_STEPS)) bad(`axes.${name}.stepsPerMm`, `${ax.stepsPerMm} steps/mm over ${ax.travelMaxMm} mm of travel is ${far.toExponential(2)} steps, more than the runtime's positions hold (${MAX_TRAVEL_STEPS})`, 'check the steps/mm (motor steps × microsteps / mm per turn)');
    // Resolution: x/y must place the nozzle on its wrap circle (a tenth of its radius), z between
    // the wrap height and the hook heads (a quarter of the gap).
    const need = a === 2 ? (m.hooks.headHeightMm - m.wrap.wrapHeightMm) / 4 : m.wrap.radiusMm / 10;
    if (need > 0 && !(1 / ax.stepsPerMm <= need)) bad(`axes.${name}.stepsPerMm`, `${ax.stepsPerMm} steps/mm moves ${fmtN(1 / ax.stepsPerMm)} mm per step, coarser than the ${fmtN(need)} mm the ${a === 2 ? 'drop below the hook heads' : 'wrap circle'} needs`, `use at least ${fmtN(1 / need)} (microstepping)`);
    if (!(ax.travelMaxMm > ax.travelMinMm)) bad(`axes.${name}.travelMaxMm`, `${ax.travelMaxMm} is not above travelMinMm ${ax.travelMinMm}`, 'give the far end of the travel');
    if (ax.travelMinMm < 0) bad(`axes.${name}.travelMinMm`, `${ax.travelMinMm} is below 0, past the min endstop (homing makes the switch point 0)`, 'use 0 or more');
    if (ax.homing.backoffMm * 2 >= ax.travelMaxMm - ax.travelMinMm) bad(`axes.${name}.homing.backoffMm`, `${ax.homing.backoffMm} mm is too long for the travel`, 'use a few mm');
    if (ax.homing.latchSpeedMmS > ax.homing.seekSpeedMmS) bad(`axes.${name}.homing.latchSpeedMmS`, 'is faster than seekSpeedMmS', 'make the second approach the slower one');
    if (ax.homing.seekSpeedMmS > ax.maxSpeedMmS) bad(`axes.${name}.homing.seekSpeedMmS`, 'is above maxSpeedMmS', `use at most ${ax.maxSpeedMmS}`);
  }
  if (new Set(m.homingOrder).size !== 3) bad('homingOrder', `${JSON.stringify(m.homingOrder)} must name x, y and z once each`, 'e.g. ["z", "x", "y"]');

  const pins = new Map<number, string>();
  const claim = (p: number, field: string) => {
    const other = pins.get(p);
    if (other) bad(field, `pin ${p} is already used by ${other}`, 'give every step, dir, endstop and enable signal its own pin');
    pins.set(p, field);
  };
  for (const name of AXIS_NAMES) {
    const ax = m.axes[name as 'x' | 'y' | 'z'];
    claim(ax.pins.step, `axes.${name}.pins.step`);
    claim(ax.pins.dir, `axes.${name}.pins.dir`);
    claim(ax.pins.endstop, `axes.${name}.pins.endstop`);
  }
  claim(m.motors.enablePin, 'motors.enablePin');

  const w = m.wrap;
  const h = m.hooks;
  if (!(w.wrapHeightMm < h.headHeightMm)) bad('wrap.wrapHeightMm', `${w.wrapHeightMm} mm is not below the hook heads (hooks.headHeightMm ${h.headHeightMm})`, 'the nozzle must circle below the head to catch the hook');
  if (!(w.travelHeightMm > h.headHeightMm)) bad('wrap.travelHeightMm', `${w.travelHeightMm} mm is not above the hook heads (hooks.headHeightMm ${h.headHeightMm})`, 'cross the ring above the heads');
  if (!(w.travelHeightMm <= m.axes.z.travelMaxMm)) bad('wrap.travelHeightMm', `${w.travelHeightMm} mm is beyond the z travel (${m.axes.z.travelMaxMm} mm)`, 'lower it or extend axes.z.travelMaxMm');
  const clearance = (h.hookDiameterMm + w.nozzleDiameterMm) / 2;
  if (!(w.radiusMm > clearance)) bad('wrap.radiusMm', `${w.radiusMm} mm would hit the hook (hook and nozzle need ${clearance} mm)`, `use more than ${clearance}`);
  checkHooksAndThread(m, bad);
  const spacing = hookSpacingMm(m);
  if (!(w.radiusMm + clearance < spacing)) bad('wrap.radiusMm', `${w.radiusMm} mm would hit the neighbouring hook (hooks are ${spacing.toFixed(2)} mm apart)`, `use less than ${(spacing - clearance).toFixed(2)} or fewer hooks`);

  // Every hook's wrap circle must lie inside the X/Y travel (the runtime refuses it otherwise).
  const rad = w.radiusMm;
  for (let i = 0; i < h.count; i++) {
    const x = hookXMm(m, i) + m.board.originMm[0];
    const y = hookYMm(m, i) + m.board.originMm[1];
    if (x - rad < m.axes.x.travelMinMm || x + rad > m.axes.x.travelMaxMm) {
      bad('board.originMm', `hook ${i} is wrapped at x ${(x - rad).toFixed(1)}..${(x + rad).toFixed(1)} mm, outside axes.x travel ${m.axes.x.travelMinMm}..${m.axes.x.travelMaxMm}`, 'move the board origin or extend the travel');
    }
    if (y - rad < m.axes.y.travelMinMm || y + rad > m.axes.y.travelMaxMm) {
      bad('board.originMm', `hook ${i} is wrapped at y ${(y - rad).toFixed(1)}..${(y + rad).toFixed(1)} mm, outside axes.y travel ${m.axes.y.travelMinMm}..${m.axes.y.travelMaxMm}`, 'move the board origin or extend the travel');
    }
  }
  return m;
}

type Bad = (field: string, problem: string, fix: string) => never;

/** The step rate at top speed, against MAX_STEP_RATE_HZ and the step pulse width; both kinds. */
function checkStepRate(field: string, speed: number, stepsPerUnit: number, unit: string, pulseUs: number, bad: Bad): void {
  const limit = Math.min(MAX_STEP_RATE_HZ, 1e6 / (2 * pulseUs));
  const rate = speed * stepsPerUnit;
  if (!(rate <= limit)) {
    bad(field, `${speed} ${unit} at ${fmtN(stepsPerUnit)} steps per ${unit.split('/')[0]} is ${fmtN(rate)} steps/s, above the ${fmtN(limit)} steps/s a step generator can give (${pulseUs} µs pulses, at most ${MAX_STEP_RATE_HZ})`, `use at most ${fmtN(limit / stepsPerUnit)} ${unit}, or check the steps per ${unit.split('/')[0]}`);
  }
}

/**
 * Both kinds: the hook circle lies on the board, neighbouring hooks leave room for the thread
 * (centre spacing > hook diameter + thread width), and a hook holds at least one wrap (the
 * runtime's pile rule, shared/motion/pile.ts, after one layer).
 */
function checkHooksAndThread(m: AnyMachine, bad: Bad): void {
  const h = m.hooks;
  const r = h.diameterMm / 2;
  const slack = h.hookDiameterMm / 2;
  const [cx, cy] = h.centerMm;
  if (cx - r < -slack || cy - r < -slack || cx + r > m.board.widthMm + slack || cy + r > m.board.heightMm + slack) {
    bad('hooks.diameterMm', `the ${h.diameterMm} mm hook circle round (${cx}, ${cy}) does not lie on the ${m.board.widthMm}×${m.board.heightMm} mm board`, 'fix hooks.centerMm, hooks.diameterMm or the board size');
  }
  const spacing = h.diameterMm * Math.sin(Math.PI / h.count);
  const gap = spacing - h.hookDiameterMm;
  if (!(gap > m.thread.widthMm)) {
    bad(gap > 0 ? 'thread.widthMm' : 'hooks.hookDiameterMm', gap > 0
      ? `${m.thread.widthMm} mm thread does not pass between hooks ${fmtN(gap)} mm apart (${h.count} hooks of ${h.hookDiameterMm} mm on a ${h.diameterMm} mm circle)`
      : `${h.count} hooks of ${h.hookDiameterMm} mm on a ${h.diameterMm} mm circle overlap (centres ${fmtN(spacing)} mm apart)`, 'use fewer or thinner hooks, a bigger circle or thinner thread');
  }
  const layer = m.thread.widthMm * m.pile.packing;
  const wrapHeight = m.kind === 'ring' ? h.headHeightMm - 1 : m.wrap.wrapHeightMm;
  const run = Math.max(wrapHeight, layer + m.pile.clearanceMm);
  if (!(run <= h.headHeightMm - m.pile.clearanceMm)) {
    bad('thread.widthMm', `one wrap of ${m.thread.widthMm} mm thread (× pile.packing ${m.pile.packing}) does not fit under the ${h.headHeightMm} mm hook heads with ${m.pile.clearanceMm} mm clearance`, 'use thinner thread or longer hooks');
  }
}

function fmtN(v: number): string {
  return String(Number(v.toPrecision(4)));
}
