/**
 * The device runtime: one state machine that homes the machine, takes the nail-index stream byte by
 * byte, turns each hook into a wrap path and the wrap path into step/dir pulses through the HAL.
 * Described in docs/runtime.md (states, feeding, alarms, wrap path).
 *
 *   BOOT ─boot()─▶ UNHOMED ─home()─▶ HOMING ──▶ IDLE ─header─▶ RUNNING ⇄ PAUSED (colour change)
 *                                                                 └──end──▶ DONE
 *   any state ──error──▶ ALARM ─home()─▶ HOMING
 *
 * Memory: the decoder, a ring of QUEUE_SIZE stream operations, one wrap path (segments + 5 points)
 * and a few numbers. Nothing is allocated per byte or per step.
 */
import { Hal, PIN_INPUT, PIN_INPUT_PULLUP, PIN_OUTPUT } from './hal';
import {
  ERR_BAD_PROFILE, ERR_ENDSTOP_HIT, ERR_ENDSTOP_STUCK, ERR_HOMING_FAILED, ERR_HOOK_COUNT,
  ERR_INPUT_OVERFLOW, ERR_NONE, ERR_NOT_HOMED, ERR_SOFT_LIMIT, ERR_STREAM, runtimeErrorName,
} from './errors';
import { Stepper, StepperListener } from './stepper';
import {
  AXIS_Z, MachineProfile, axisAt, axisIndex, hookSpacingMm, mmToSteps,
} from '../shared/machine';
import { wrapDirection, wrapPath, wrapPointCount } from '../shared/geometry/wrap';
import { EV_COLOR, EV_END, EV_HEADER, EV_HOOK, StreamDecoder } from '../shared/stream/decoder';

export const ST_BOOT = 0;
export const ST_UNHOMED = 1;
export const ST_HOMING = 2;
export const ST_IDLE = 3;
export const ST_RUNNING = 4;
export const ST_PAUSED = 5;
export const ST_DONE = 6;
export const ST_ALARM = 7;

const STATE_NAMES = ['boot', 'unhomed', 'homing', 'idle', 'running', 'paused', 'done', 'alarm'];

export function stateName(state: number): string {
  return STATE_NAMES[state];
}

/** Stream operations buffered between the decoder and the motion (hooks ≥ 0, colour c as −(c+1)). */
export const QUEUE_SIZE = 8;
/** Progress ("line") is written to storage every this many lines, and at pause, done and alarm. */
export const PROGRESS_EVERY = 50;

/** Test-only faults, to prove that the simulator's verifier catches a misbehaving machine. */
export interface RuntimeFaults {
  /** Sequence index (0-based, in stream order) of a hook to leave out; −1 = none. */
  skipHook: number;
  /** Sequence index of a hook to wind the wrong way round; −1 = none. */
  reverseWrap: number;
  /** Pretend to be homed at power-on position without touching the endstops. */
  skipHoming: boolean;
  /** Let targets outside the travel through (no soft limits). */
  ignoreSoftLimits: boolean;
  /** Multiply every move's speed limit (1 = honest). */
  speedFactor: number;
}

export function noFaults(): RuntimeFaults {
  return { skipHook: -1, reverseWrap: -1, skipHoming: false, ignoreSoftLimits: false, speedFactor: 1 };
}

/** What the runtime reports about itself (also printed on state changes). */
export interface RuntimeStatus {
  state: number;
  stateName: string;
  /** Alarm code (0 = none), its name, and a code-specific detail (decoder code, axis, ...). */
  error: number;
  errorName: string;
  detail: number;
  /** Lines completed (hooks wrapped − 1, never below 0) and the stream's line count. */
  line: number;
  lineCount: number;
  hooksWrapped: number;
  /** Last hook wrapped completely, −1 before the first. */
  hook: number;
  color: number;
  /** Position in integer steps, machine coordinates. */
  x: number;
  y: number;
  z: number;
  queued: number;
  steps: number;
}

const H_START = 0;
const H_CLEAR = 1;
const H_SEEK = 2;
const H_BACKOFF = 3;
const H_LATCH = 4;
const H_FINAL = 5;
const H_LIFT = 6;

export class Runtime implements StepperListener {
  state = ST_BOOT;
  error = ERR_NONE;
  detail = 0;

  private hal: Hal;
  private m: MachineProfile;
  private faults: RuntimeFaults;
  private stepper: Stepper;
  private decoder = new StreamDecoder();
  private queue: number[] = [];
  private qHead = 0;
  private qCount = 0;
  private endSeen = false;
  private lineCount = 0;
  private hooksStarted = 0;
  private hooksWrapped = 0;
  private prevHook = -1;
  private lastHook = -1;
  private curHook = -1;
  private inWrap = false;
  private color = 0;
  private pendingColor = -1;
  private wp: number[] = [];
  private wpSteps: number[] = [];
  private wpCount = 0;
  private wpIndex = 0;
  private homeOrder: number[] = [];
  private homeIdx = 0;
  private homePhase = H_START;
  private travelZ = 0;

  constructor(hal: Hal, machine: MachineProfile, faults?: RuntimeFaults) {
    this.hal = hal;
    this.m = machine;
    this.faults = faults ? faults : noFaults();
    this.stepper = new Stepper(hal, machine, this);
    this.stepper.speedFactor = this.faults.speedFactor;
    this.stepper.checkLimits = !this.faults.ignoreSoftLimits;
    for (let i = 0; i < QUEUE_SIZE; i++) this.queue.push(0);
    const n = wrapPointCount(machine) * 3;
    for (let i = 0; i < n; i++) {
      this.wp.push(0);
      this.wpSteps.push(0);
    }
  }

  /** Configure pins and check the profile: → UNHOMED (or ALARM bad-profile). Motors stay disabled. */
  boot(): void {
    const m = this.m;
    for (let i = 0; i < 3; i++) {
      const a = axisAt(m, i);
      this.hal.pinMode(a.pins.step, PIN_OUTPUT);
      this.hal.pinMode(a.pins.dir, PIN_OUTPUT);
      this.hal.pinMode(a.pins.endstop, a.endstopActiveLow ? PIN_INPUT_PULLUP : PIN_INPUT);
      this.hal.write(a.pins.step, 0);
    }
    this.hal.pinMode(m.motors.enablePin, PIN_OUTPUT);
    this.enableMotors(false);
    const bad = this.checkProfile();
    if (bad !== 0) {
      this.alarm(ERR_BAD_PROFILE, bad);
      return;
    }
    this.travelZ = mmToSteps(m.axes.z, m.wrap.travelHeightMm);
    this.setState(ST_UNHOMED);
  }

  /** Start homing (from UNHOMED, IDLE, DONE or ALARM). Clears the alarm and any job. */
  home(): boolean {
    const s = this.state;
    if (s !== ST_UNHOMED && s !== ST_IDLE && s !== ST_DONE && s !== ST_ALARM) return false;
    if (s === ST_ALARM && this.error === ERR_BAD_PROFILE) return false;
    this.error = ERR_NONE;
    this.detail = 0;
    this.resetJob();
    this.enableMotors(true);
    this.setState(ST_HOMING);
    if (this.faults.skipHoming) {
      this.setState(ST_IDLE);
      return true;
    }
    this.homeIdx = 0;
    this.homePhase = H_START;
    this.homeStep();
    return true;
  }

  /** True when feed() will take one more byte (backpressure: the host waits otherwise). */
  canAccept(): boolean {
    const s = this.state;
    return (s === ST_IDLE || s === ST_RUNNING || s === ST_PAUSED) && this.qCount < QUEUE_SIZE;
  }

  /**
   * Give the runtime one stream byte. Returns false when the byte was refused; refusing always
   * raises an alarm (not homed, input overflow) unless the runtime is already in alarm.
   */
  feed(byte: number): boolean {
    const s = this.state;
    if (s === ST_ALARM) return false;
    if (s === ST_BOOT || s === ST_UNHOMED || s === ST_HOMING) {
      this.alarm(ERR_NOT_HOMED, 0);
      return false;
    }
    if (s !== ST_DONE && this.qCount >= QUEUE_SIZE) {
      this.alarm(ERR_INPUT_OVERFLOW, 0);
      return false;
    }
    const ev = this.decoder.push(byte);
    if (ev < 0) {
      this.alarm(ERR_STREAM, ev);
      return false;
    }
    if (ev === EV_HEADER) {
      if (this.decoder.hookCount !== this.m.hooks.count) {
        this.alarm(ERR_HOOK_COUNT, this.decoder.hookCount);
        return false;
      }
      this.lineCount = this.decoder.lineCount;
      this.setState(ST_RUNNING);
    } else if (ev === EV_HOOK) {
      this.enqueue(this.decoder.hook);
    } else if (ev === EV_COLOR) {
      const op = -(this.decoder.color + 1);
      // Consecutive colour changes collapse into the last one, so the queue always has room for the
      // hook after the next one (the wrap direction needs it).
      if (this.qCount > 0 && this.queue[(this.qHead + this.qCount - 1) % QUEUE_SIZE] < 0) {
        this.queue[(this.qHead + this.qCount - 1) % QUEUE_SIZE] = op;
      } else this.enqueue(op);
    } else if (ev === EV_END) {
      this.endSeen = true;
    }
    if (ev !== 0 && !this.stepper.busy) this.advance();
    return true;
  }

  /** Continue after a thread change (PAUSED → RUNNING). */
  resume(): boolean {
    if (this.state !== ST_PAUSED) return false;
    this.color = this.pendingColor;
    this.pendingColor = -1;
    this.setState(ST_RUNNING);
    this.advance();
    return true;
  }

  status(): RuntimeStatus {
    const p = this.stepper.pos;
    return {
      state: this.state,
      stateName: stateName(this.state),
      error: this.error,
      errorName: runtimeErrorName(this.error),
      detail: this.detail,
      line: this.hooksWrapped > 0 ? this.hooksWrapped - 1 : 0,
      lineCount: this.lineCount,
      hooksWrapped: this.hooksWrapped,
      hook: this.lastHook,
      color: this.pendingColor >= 0 ? this.pendingColor : this.color,
      x: p[0],
      y: p[1],
      z: p[2],
      queued: this.qCount,
      steps: this.stepper.stepCount,
    };
  }

  // StepperListener
  moveDone(): void {
    if (this.state === ST_HOMING) this.homeStep();
    else if (this.state === ST_RUNNING) this.advance();
  }

  endstopHit(axis: number): void {
    this.alarm(ERR_ENDSTOP_HIT, axis);
  }

  // ---- job --------------------------------------------------------------------------------

  private resetJob(): void {
    this.decoder.reset();
    this.qHead = 0;
    this.qCount = 0;
    this.endSeen = false;
    this.lineCount = 0;
    this.hooksStarted = 0;
    this.hooksWrapped = 0;
    this.prevHook = -1;
    this.lastHook = -1;
    this.curHook = -1;
    this.inWrap = false;
    this.color = 0;
    this.pendingColor = -1;
    this.wpCount = 0;
    this.wpIndex = 0;
  }

  private enqueue(op: number): void {
    this.queue[(this.qHead + this.qCount) % QUEUE_SIZE] = op;
    this.qCount = this.qCount + 1;
  }

  private dequeue(): void {
    this.qHead = (this.qHead + 1) % QUEUE_SIZE;
    this.qCount = this.qCount - 1;
  }

  /** The next thing to do when the motion is idle: next waypoint, next hook, pause, or done. */
  private advance(): void {
    for (;;) {
      if (this.state !== ST_RUNNING || this.stepper.busy) return;
      if (this.wpIndex < this.wpCount) {
        const i = this.wpIndex * 3;
        this.wpIndex = this.wpIndex + 1;
        const err = this.stepper.moveTo(this.wpSteps[i], this.wpSteps[i + 1], this.wpSteps[i + 2]);
        if (err !== ERR_NONE) this.alarm(err, this.curHook);
        return;
      }
      if (this.inWrap) {
        this.inWrap = false;
        this.lastHook = this.curHook;
        this.hooksWrapped = this.hooksWrapped + 1;
        const line = this.hooksWrapped - 1;
        if (line > 0 && line % PROGRESS_EVERY === 0) this.hal.storageWrite('line', line);
      }
      // Colour changes at the head of the queue.
      while (this.qCount > 0 && this.queue[this.qHead] < 0) {
        const c = -this.queue[this.qHead] - 1;
        this.dequeue();
        if (this.hooksWrapped > 0 && c !== this.color) {
          this.pendingColor = c;
          this.saveProgress();
          this.setState(ST_PAUSED);
          return;
        }
        this.color = c;
      }
      if (this.qCount === 0) {
        if (this.endSeen) {
          this.saveProgress();
          this.setState(ST_DONE);
        }
        return;
      }
      const hook = this.queue[this.qHead];
      let next = -1;
      let found = false;
      for (let k = 1; k < this.qCount && !found; k++) {
        const op = this.queue[(this.qHead + k) % QUEUE_SIZE];
        if (op >= 0) {
          next = op;
          found = true;
        }
      }
      if (!found && !this.endSeen) return; // the wrap direction needs the next hook: wait for input
      const index = this.hooksStarted;
      this.hooksStarted = index + 1;
      this.dequeue();
      // (No `continue` anywhere: Lua 5.1 has none.) A skipped hook (test fault) just loops on.
      if (index !== this.faults.skipHook) {
        let dir = wrapDirection(this.m, this.prevHook, hook, next);
        if (index === this.faults.reverseWrap) dir = -dir;
        if (!this.planWrap(hook, dir)) return;
        this.prevHook = hook;
        this.curHook = hook;
        this.inWrap = true;
      }
    }
  }

  /** Fill the waypoint buffer for one hook, in steps, refusing the hook if any point is outside travel. */
  private planWrap(hook: number, dir: number): boolean {
    const m = this.m;
    const n = wrapPath(m, hook, dir, this.wp);
    const ox = m.board.originMm[0];
    const oy = m.board.originMm[1];
    for (let i = 0; i < n; i++) {
      const x = mmToSteps(m.axes.x, this.wp[i * 3] + ox);
      const y = mmToSteps(m.axes.y, this.wp[i * 3 + 1] + oy);
      const z = mmToSteps(m.axes.z, this.wp[i * 3 + 2]);
      if (!this.faults.ignoreSoftLimits) {
        if (!this.stepper.inTravel(0, x) || !this.stepper.inTravel(1, y) || !this.stepper.inTravel(2, z)) {
          this.alarm(ERR_SOFT_LIMIT, hook);
          return false;
        }
      }
      this.wpSteps[i * 3] = x;
      this.wpSteps[i * 3 + 1] = y;
      this.wpSteps[i * 3 + 2] = z;
    }
    this.wpCount = n;
    this.wpIndex = 0;
    return true;
  }

  // ---- homing -----------------------------------------------------------------------------

  /**
   * One step of the homing sequence; called to start it and after every homing motion.
   * homePhase names the motion that just finished. Per axis (in homingOrder):
   * [off the switch if pressed] → fast seek to the endstop → back off → slow seek (sets 0) → back
   * off; after Z, lift to travel height before the next axis moves.
   */
  private homeStep(): void {
    const st = this.stepper;
    if (this.homeIdx >= this.homeOrder.length) {
      this.setState(ST_IDLE);
      return;
    }
    const axis = this.homeOrder[this.homeIdx];
    const a = axisAt(this.m, axis);
    const seekRate = a.homing.seekSpeedMmS * a.stepsPerMm;
    const latchRate = a.homing.latchSpeedMmS * a.stepsPerMm;
    const backoff = mmToSteps(a, a.homing.backoffMm);
    const phase = this.homePhase;
    if (phase === H_START && st.endstopPressed(axis)) {
      this.homePhase = H_CLEAR;
      st.seek(axis, 1, seekRate, backoff, false);
      return;
    }
    if (phase === H_START || phase === H_CLEAR) {
      if (phase === H_CLEAR && st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      this.homePhase = H_SEEK;
      const range = mmToSteps(a, a.travelMaxMm - a.travelMinMm + 2 * a.homing.backoffMm);
      st.seek(axis, -1, seekRate, Math.floor(range * 1.2) + 10, true);
      return;
    }
    if (phase === H_SEEK) {
      if (!st.seekFound) {
        this.alarm(ERR_HOMING_FAILED, axis);
        return;
      }
      this.homePhase = H_BACKOFF;
      st.seek(axis, 1, seekRate, backoff, false);
      return;
    }
    if (phase === H_BACKOFF) {
      if (st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      this.homePhase = H_LATCH;
      st.seek(axis, -1, latchRate, 2 * backoff + 10, true);
      return;
    }
    if (phase === H_LATCH) {
      if (!st.seekFound) {
        this.alarm(ERR_HOMING_FAILED, axis);
        return;
      }
      st.pos[axis] = 0;
      this.homePhase = H_FINAL;
      st.seek(axis, 1, latchRate, backoff, false);
      return;
    }
    if (phase === H_FINAL) {
      if (st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      if (axis === AXIS_Z && st.pos[AXIS_Z] !== this.travelZ) {
        this.homePhase = H_LIFT;
        const err = st.moveTo(st.pos[0], st.pos[1], this.travelZ);
        if (err !== ERR_NONE) this.alarm(err, AXIS_Z);
        return;
      }
    }
    // H_FINAL without a lift, or H_LIFT: this axis is done.
    this.homeIdx = this.homeIdx + 1;
    this.homePhase = H_START;
    this.homeStep();
  }

  // ---- state, alarms, checks ------------------------------------------------------------------

  private setState(s: number): void {
    this.state = s;
    if (s === ST_IDLE || s === ST_RUNNING) return; // frequent, not worth a line each
    this.hal.print('state ' + STATE_NAMES[s] + ' line ' + (this.hooksWrapped > 0 ? this.hooksWrapped - 1 : 0));
  }

  private alarm(code: number, detail: number): void {
    if (this.state === ST_ALARM) return;
    this.stepper.stop();
    this.error = code;
    this.detail = detail;
    this.state = ST_ALARM;
    this.enableMotors(false);
    this.saveProgress();
    this.hal.print('alarm ' + code + ' ' + runtimeErrorName(code) + ' detail ' + detail);
  }

  private saveProgress(): void {
    this.hal.storageWrite('line', this.hooksWrapped > 0 ? this.hooksWrapped - 1 : 0);
  }

  private enableMotors(on: boolean): void {
    const lowActive = this.m.motors.enableActiveLow;
    this.hal.write(this.m.motors.enablePin, on === lowActive ? 0 : 1);
  }

  /** The device's own sanity check of the profile (the host validates fully). 0 = fine, else a field number. */
  private checkProfile(): number {
    const m = this.m;
    this.homeOrder = [];
    for (let i = 0; i < m.homingOrder.length; i++) {
      const ax = axisIndex(m.homingOrder[i]);
      if (ax < 0) return 1;
      this.homeOrder.push(ax);
    }
    if (this.homeOrder.length !== 3) return 1;
    for (let i = 0; i < 3; i++) {
      const a = axisAt(m, i);
      if (!(a.stepsPerMm > 0 && a.maxSpeedMmS > 0 && a.accelMmS2 > 0)) return 2 + i;
      if (!(a.travelMaxMm > a.travelMinMm)) return 2 + i;
      if (!(a.homing.seekSpeedMmS > 0 && a.homing.latchSpeedMmS > 0 && a.homing.backoffMm > 0)) return 2 + i;
    }
    if (!(m.hooks.count >= 2 && m.wrap.segments >= 3)) return 5;
    if (!(m.wrap.wrapHeightMm < m.hooks.headHeightMm && m.hooks.headHeightMm < m.wrap.travelHeightMm)) return 6;
    const w = m.wrap;
    const clearance = (m.hooks.hookDiameterMm + w.nozzleDiameterMm) / 2;
    if (!(w.radiusMm > clearance && w.radiusMm + clearance < hookSpacingMm(m))) return 7;
    return 0;
  }
}
