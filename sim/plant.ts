/**
 * The physical gantry behind the virtual microcontroller: stepper drivers that move an axis one
 * step per rising edge on its step pin (in the direction its dir pin says, only while the motors
 * are enabled), and min endstops that read "pressed" while the axis is at or below step 0.
 * Positions are reconstructed from the pin edges alone, never from the firmware's own state.
 */
import { AXIS_NAMES, type MachineProfile, axisAt, homeSign, maxSteps } from '../shared/machine';
import { type EdgeListener, MAX_PINS, type VirtualMcu } from './mcu';

/** Physical faults the simulator can inject (tests; the CLI never does). */
export interface PlantFaults {
  /** Axis names whose endstop never reads pressed (broken wire). */
  endstopDead?: string[];
  /** Axis names whose endstop always reads pressed (stuck switch). */
  endstopStuck?: string[];
  /** Lose every Nth step towards + on `loseStepAxis` (a motor that stalls against the load). */
  loseStepEvery?: number;
  loseStepAxis?: string;
}

/** Who watches the plant (the verifier). */
export interface PlantObserver {
  /** Axis moved one step in direction dir (+1/−1); the plant's positions are already updated. */
  step(axis: number, dir: number, timeUs: number): void;
  /** A step pulse arrived while the drivers were disabled (the axis did not move). */
  disabledPulse(axis: number, timeUs: number): void;
  endstop(axis: number, pressed: boolean, timeUs: number): void;
}

const ROLE_NONE = 0;
const ROLE_STEP = 1;
const ROLE_DIR = 2;
const ROLE_ENABLE = 3;

export class GantryPlant implements EdgeListener {
  /** Physical position of each axis, whole steps (0 = where the endstop switches); starts as given. */
  readonly pos: Float64Array;
  /** Current direction of each driver from its dir pin, +1 / −1. */
  readonly dirSign = new Int8Array(3);
  enabled = false;
  readonly pressed = [false, false, false];
  /** Step pulses seen per axis (including ignored ones). */
  readonly pulses = new Float64Array(3);
  private role = new Uint8Array(MAX_PINS);
  private roleAxis = new Int8Array(MAX_PINS);
  private dirPlusLevel = new Uint8Array(3);
  private endPin = new Int16Array(3);
  private endActive = new Uint8Array(3);
  private dead = [false, false, false];
  private stuck = [false, false, false];
  /** Where each axis' switch closes, steps: 0 for a min endstop, the travel maximum for a max one (−1: min). */
  private switchAt = [0, 0, 0];
  private atMax = [false, false, false];
  private loseEvery = 0;
  private loseAxis = -1;
  private plusPulses = 0;
  private enableOnLevel: number;

  constructor(
    private mcu: VirtualMcu,
    m: MachineProfile,
    pos: Float64Array,
    private observer: PlantObserver,
    faults: PlantFaults = {},
  ) {
    this.pos = pos;
    const claim = (pin: number, role: number, axis: number) => {
      if (this.role[pin] !== ROLE_NONE) throw new RangeError(`pin ${pin} is used twice in the machine profile`);
      this.role[pin] = role;
      this.roleAxis[pin] = axis;
    };
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(m, a);
      claim(ax.pins.step, ROLE_STEP, a);
      claim(ax.pins.dir, ROLE_DIR, a);
      this.dirPlusLevel[a] = ax.invertDir ? 0 : 1;
      this.endPin[a] = ax.pins.endstop;
      this.endActive[a] = ax.endstopActiveLow ? 0 : 1;
      this.dirSign[a] = ax.invertDir ? 1 : -1; // dir pins start low
      this.dead[a] = (faults.endstopDead ?? []).includes(AXIS_NAMES[a]);
      this.stuck[a] = (faults.endstopStuck ?? []).includes(AXIS_NAMES[a]);
      this.atMax[a] = homeSign(ax) > 0;
      this.switchAt[a] = this.atMax[a] ? maxSteps(ax) : 0;
    }
    claim(m.motors.enablePin, ROLE_ENABLE, -1);
    this.enableOnLevel = m.motors.enableActiveLow ? 0 : 1;
    this.enabled = mcu.levels[m.motors.enablePin] === this.enableOnLevel;
    if (faults.loseStepEvery && faults.loseStepAxis) {
      this.loseEvery = faults.loseStepEvery;
      this.loseAxis = AXIS_NAMES.indexOf(faults.loseStepAxis);
    }
    for (let a = 0; a < 3; a++) this.updateEndstop(a, true);
  }

  edge(pin: number, level: number, timeUs: number): void {
    const role = this.role[pin];
    if (role === ROLE_STEP) {
      if (level !== 1) return;
      const a = this.roleAxis[pin];
      ++this.pulses[a];
      if (!this.enabled) {
        this.observer.disabledPulse(a, timeUs);
        return;
      }
      if (a === this.loseAxis && this.dirSign[a] > 0 && ++this.plusPulses % this.loseEvery === 0) return; // stalled: no motion, no trace
      this.pos[a] += this.dirSign[a];
      if (this.atMax[a] ? this.pos[a] >= this.switchAt[a] - 1 : this.pos[a] <= 1) this.updateEndstop(a, false);
      this.observer.step(a, this.dirSign[a], timeUs);
    } else if (role === ROLE_DIR) {
      const a = this.roleAxis[pin];
      this.dirSign[a] = level === this.dirPlusLevel[a] ? 1 : -1;
    } else if (role === ROLE_ENABLE) {
      this.enabled = level === this.enableOnLevel;
    }
  }

  private updateEndstop(a: number, force: boolean): void {
    const reached = this.atMax[a] ? this.pos[a] >= this.switchAt[a] : this.pos[a] <= 0;
    const p = this.stuck[a] || (!this.dead[a] && reached);
    if (p === this.pressed[a] && !force) return;
    this.pressed[a] = p;
    const active = this.endActive[a];
    this.mcu.drive(this.endPin[a], p ? active : 1 - active);
    this.observer.endstop(a, p, this.mcu.now);
  }
}

/** Where a simulated gantry is at power-on unless told otherwise (machine mm): mid-travel in X and Y,
 * two thirds up in Z. Every simulator entry point starts here, so their reports agree. */
export function gantryStartMm(m: MachineProfile): number[] {
  return [
    (m.axes.x.travelMinMm + m.axes.x.travelMaxMm) / 2,
    (m.axes.y.travelMinMm + m.axes.y.travelMaxMm) / 2,
    m.axes.z.travelMinMm + ((m.axes.z.travelMaxMm - m.axes.z.travelMinMm) * 2) / 3,
  ];
}
