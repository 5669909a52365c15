/**
 * The machine profile as the device sees it (machines/*.json, reference in docs/machines.md).
 * The host validates a profile with zod (host/machine/load.ts) and hands the same object to the
 * device runtime and the simulator. Device-safe subset: plain data, small functions.
 *
 * Coordinates
 * - board mm: origin at the board's top-left corner, x right, y down (the plan's coordinates).
 * - machine mm: board mm + board.originMm (x, y); z is the nozzle height above the board surface.
 * - machine steps: machine mm × stepsPerMm, rounded to the nearest integer. Step 0 of each axis is
 *   where its minimum endstop triggers (set by homing).
 */

export interface AxisPins {
  step: number;
  dir: number;
  endstop: number;
}

export interface AxisHoming {
  /** Constant speed of the first, fast approach to the endstop. */
  seekSpeedMmS: number;
  /** Constant speed of the second, slow approach that sets the zero. */
  latchSpeedMmS: number;
  /** Distance moved off the switch after each touch; the axis ends homing at this position. */
  backoffMm: number;
  /** The endstop is at the axis' maximum (travelMaxMm) instead of its minimum; homing seeks towards +.
   * For Z this homes away from the board, so re-homing after a power cut never drives the nozzle
   * into the hooks or the thread pile. */
  toMax?: boolean;
}

/** Direction (+1/−1) in which an axis seeks its endstop. */
export function homeSign(a: AxisProfile): number {
  return a.homing.toMax === true ? 1 : -1;
}

export interface AxisProfile {
  stepsPerMm: number;
  maxSpeedMmS: number;
  accelMmS2: number;
  travelMinMm: number;
  travelMaxMm: number;
  /** When true, the dir pin is LOW for motion towards +. */
  invertDir: boolean;
  /** When true, the endstop input reads LOW while the switch is pressed (switch to ground, pull-up). */
  endstopActiveLow: boolean;
  /**
   * Largest instantaneous speed change of this axis, mm/s (Marlin's classic "jerk"): the planner
   * never asks for a bigger velocity step at a junction, the verifier allows no bigger one.
   */
  jerkMmS: number;
  /** A rotary axis without ends (a ring): its endstop is a home sensor it passes every turn. */
  rotary?: boolean;
  pins: AxisPins;
  homing: AxisHoming;
}

export interface CircleHooks {
  layout: 'circle';
  count: number;
  /** Centre of the hook circle, board mm. */
  centerMm: number[];
  /** Diameter of the circle through the hook centres. */
  diameterMm: number;
  /** Angle of hook 0, degrees from +x towards +y (y points down, so +angle is clockwise on screen). */
  startAngleDeg: number;
  /** Diameter of one hook's shaft. */
  hookDiameterMm: number;
  /** Height of the hook head above the board: below it the nozzle is "low" and winds thread. */
  headHeightMm: number;
}

export interface WrapProfile {
  /** Radius of the circle the nozzle centre describes around a hook centre. */
  radiusMm: number;
  /** Straight segments per full turn around a hook. */
  segments: number;
  /** Nozzle height for crossing the board and the hook ring (above the hook heads). */
  travelHeightMm: number;
  /** Nozzle height while circling a hook (below the hook head). */
  wrapHeightMm: number;
  /** Outer diameter of the nozzle tip, for clearance checks. */
  nozzleDiameterMm: number;
}

/** Look-ahead motion planning (shared/motion/planner.ts). */
export interface MotionProfile {
  /** Grbl's junction deviation: how far a junction may be rounded off, mm (0.01). */
  junctionDeviationMm: number;
}

/** The thread pile that grows on each hook (shared/motion/pile.ts). */
export interface PileProfile {
  /** Height one wrap adds to a hook's pile = thread.widthMm × packing. */
  packing: number;
  /** The nozzle stays this far above the highest pile, mm. */
  clearanceMm: number;
}

export interface MachineProfile {
  format: 'hookline-machine';
  version: 1;
  name: string;
  kind: 'gantry';
  board: { widthMm: number; heightMm: number; originMm: number[] };
  hooks: CircleHooks;
  thread: { widthMm: number };
  wrap: WrapProfile;
  motion: MotionProfile;
  pile: PileProfile;
  axes: { x: AxisProfile; y: AxisProfile; z: AxisProfile };
  motors: { enablePin: number; enableActiveLow: boolean };
  /** Axis names in homing order, e.g. ["z", "x", "y"]. */
  homingOrder: string[];
  /** Width of one step pulse. */
  stepPulseUs: number;
}

export const AXIS_X = 0;
export const AXIS_Y = 1;
export const AXIS_Z = 2;
export const AXIS_NAMES = ['x', 'y', 'z'];

/** The axis profile by index 0..2 (x, y, z). */
export function axisAt(m: MachineProfile, axis: number): AxisProfile {
  if (axis === AXIS_X) return m.axes.x;
  if (axis === AXIS_Y) return m.axes.y;
  return m.axes.z;
}

/** Axis index for a name, or -1. */
export function axisIndex(name: string): number {
  for (let i = 0; i < 3; i++) if (AXIS_NAMES[i] === name) return i;
  return -1;
}

/** Nearest whole step for a position in mm on this axis. */
export function mmToSteps(a: AxisProfile, mm: number): number {
  return Math.floor(mm * a.stepsPerMm + 0.5);
}

export function minSteps(a: AxisProfile): number {
  return Math.ceil(a.travelMinMm * a.stepsPerMm - 1e-9);
}

export function maxSteps(a: AxisProfile): number {
  return Math.floor(a.travelMaxMm * a.stepsPerMm + 1e-9);
}

/** Angle of hook i around the circle centre, radians, board coordinates. */
export function hookAngle(m: MachineProfile, i: number): number {
  return (m.hooks.startAngleDeg * Math.PI) / 180 + (2 * Math.PI * i) / m.hooks.count;
}

/** Hook i's centre, board mm, x. Same layout as the planner's (host/plan/layout.ts, circle). */
export function hookXMm(m: MachineProfile, i: number): number {
  return m.hooks.centerMm[0] + (m.hooks.diameterMm / 2) * Math.cos(hookAngle(m, i));
}

/** Hook i's centre, board mm, y. */
export function hookYMm(m: MachineProfile, i: number): number {
  return m.hooks.centerMm[1] + (m.hooks.diameterMm / 2) * Math.sin(hookAngle(m, i));
}

/** Distance between neighbouring hook centres (chord). */
export function hookSpacingMm(m: MachineProfile): number {
  return m.hooks.diameterMm * Math.sin(Math.PI / m.hooks.count);
}
