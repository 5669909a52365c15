/**
 * Step/dir pulse generation through the HAL: the blocks of the look-ahead planner
 * (shared/motion/planner.ts), executed back to back with their planned entry and exit speeds, and
 * homing seeks. One pending timer at a time; nothing is allocated per step.
 *
 * Homing seeks keep the axis' limits like every other motion: each starts from rest and
 * accelerates at the axis' accelMmS2 to its rate; a seek of a fixed distance (clearing or backing
 * off the switch) decelerates to rest at its end. A seek until the switch cruises until the switch
 * closes and stops at that step: that stop is abrupt by nature (Grbl's homing cycle stops the same
 * way), so the axis then rests SETTLE_FACTOR × its braking time before anything else moves (Grbl's
 * homing debounce delay), and a verifier that judges speed from step intervals sees a stop within
 * the acceleration limit.
 *
 * Step timing, per axis: a block moves axis i by n_i steps along a straight path of length L; the
 * axis' position is n_i·s/L after path distance s, so its j-th step (j = 1..n_i) is due when that
 * position reaches j − ½, at s = (j − ½)·L/n_i, i.e. at time profile.timeAt(s) (rounded to the HAL's
 * tick). Every axis therefore steps exactly n_i times (integer positions are exact on every target)
 * and its steps are as evenly spaced as its own motion, not jittered by another axis (which a
 * Bresenham DDA slaved to the dominant axis would do); a timer event serves every axis due at its
 * time. Block times are whole µs added to an integer base, and delays are formed from clock
 * differences, so a wrapping 32-bit µs counter (NodeMCU Lua) is fine.
 *
 * Positions are integer steps in machine coordinates (0 = where the min endstop triggers).
 */
import { Hal } from './hal';
import { MachineProfile, axisAt, maxSteps, minSteps } from '../shared/machine';
import { Planner } from '../shared/motion/planner';
import { Profile } from '../shared/motion/profile';

/** Who hears about finished blocks, the end of motion and unexpected endstops. */
export interface StepperListener {
  /** A planner block finished (tag as queued); called before the next block is taken. */
  blockDone(tag: number): void;
  /** The machine is at rest: the planner ran dry after the last block's end, or a seek ended. */
  motionDone(): void;
  endstopHit(axis: number): void;
  /** A block's target is outside the travel (defence in depth; nothing of it moved). */
  limitHit(axis: number): void;
}

const MODE_IDLE = 0;
const MODE_BLOCK = 1;
const MODE_SEEK = 2;
const MODE_END = 3;
const MODE_DWELL = 4;
const NEVER = 1e15;
/** Rest after a seek stopped at the switch: this many times the time an in-limits stop from the seek rate would take (at least MIN_SETTLE_US). */
const SETTLE_FACTOR = 2;
const MIN_SETTLE_US = 20000;

export class Stepper {
  /** Current position, integer steps per axis. */
  pos: number[] = [0, 0, 0];
  busy = false;
  /** After a seek with untilEndstop: whether the endstop was reached. */
  seekFound = false;
  /** Test-only fault: false lets targets outside the travel through. */
  checkLimits = true;
  /** Steps issued so far (all axes), for status and speed measurements. */
  stepCount = 0;
  /** Seconds of planned block time executed so far. */
  motionSeconds = 0;
  /**
   * Per axis: whether its endstop is a limit switch (pressed only at or below 0, so pressed anywhere
   * else means lost steps: alarm). A ring's hall sensor is not: it passes the magnet every turn.
   */
  limitSwitch: boolean[] = [true, true, true];

  private hal: Hal;
  private planner: Planner;
  private listener: StepperListener;
  private stepPin: number[] = [0, 0, 0];
  private dirPin: number[] = [0, 0, 0];
  private endPin: number[] = [0, 0, 0];
  private endLevel: number[] = [0, 0, 0];
  private dirPlus: number[] = [1, 1, 1];
  private dirLevel: number[] = [-1, -1, -1];
  private lo: number[] = [0, 0, 0];
  private hi: number[] = [0, 0, 0];
  private sgn: number[] = [0, 0, 0];
  private pulseUs: number;
  private prof = new Profile();
  private mode = MODE_IDLE;
  /** Integer µs (HAL clock) at which the current block started. */
  private baseUs = 0;
  /** Offset of the pending timer event from baseUs. */
  private dueUs = 0;
  private blockUs = 0;
  private blockTag = -1;
  private blockLen = 0;
  private nSteps: number[] = [0, 0, 0];
  private done: number[] = [0, 0, 0];
  private nextUs: number[] = [NEVER, NEVER, NEVER];
  private seekAxis = 0;
  private seekCount = 0;
  private seekMax = 0;
  private seekUntilEndstop = false;
  private settling = false;
  /** The speed a seek until the switch cruises at (steps/s): what it stops from. */
  private seekTop = 0;
  /** Acceleration per axis, steps/s². */
  private accSteps: number[] = [0, 0, 0];
  private tickFn: () => void;

  constructor(hal: Hal, m: MachineProfile, planner: Planner, listener: StepperListener) {
    this.hal = hal;
    this.planner = planner;
    this.listener = listener;
    this.pulseUs = m.stepPulseUs;
    for (let i = 0; i < 3; i++) {
      const a = axisAt(m, i);
      this.stepPin[i] = a.pins.step;
      this.dirPin[i] = a.pins.dir;
      this.endPin[i] = a.pins.endstop;
      this.endLevel[i] = a.endstopActiveLow ? 0 : 1;
      this.dirPlus[i] = a.invertDir ? 0 : 1;
      this.lo[i] = minSteps(a);
      this.hi[i] = maxSteps(a);
      // (`/ 1` makes it a float in Lua 5.3: products with it must not overflow fengari's 32-bit integers.)
      this.accSteps[i] = (a.accelMmS2 * a.stepsPerMm) / 1;
    }
    const self = this;
    this.tickFn = function () {
      self.tick();
    };
  }

  /** Whether axis's endstop input reads "pressed". */
  endstopPressed(axis: number): boolean {
    return this.hal.read(this.endPin[axis]) === this.endLevel[axis];
  }

  /** Whether a position is inside the axis travel. */
  inTravel(axis: number, steps: number): boolean {
    return steps >= this.lo[axis] && steps <= this.hi[axis];
  }

  /** Stop at once (alarm): no further steps, no callbacks. */
  stop(): void {
    this.hal.cancelTimer();
    this.busy = false;
    this.mode = MODE_IDLE;
  }

  /** Start executing the planner's blocks if the machine is at rest. */
  kick(): void {
    if (this.busy || this.planner.count === 0) return;
    this.busy = true;
    this.mode = MODE_BLOCK;
    this.baseUs = this.hal.micros();
    this.blockUs = 0;
    this.nextBlock();
  }

  /**
   * Motion of one axis by up to maxCount steps in direction dir (+1/−1) at up to rateStepsS, from
   * rest at the axis' acceleration. With untilEndstop the endstop is read before every step and the
   * seek ends (seekFound = true) when it is pressed, at speed, followed by a rest (see the top);
   * otherwise the seek brakes to rest at its last step.
   */
  seek(axis: number, dir: number, rateStepsS: number, maxCount: number, untilEndstop: boolean): void {
    this.busy = true;
    this.mode = MODE_SEEK;
    this.seekAxis = axis;
    this.seekCount = 0;
    this.seekMax = maxCount;
    this.seekUntilEndstop = untilEndstop;
    this.seekFound = false;
    this.settling = false;
    this.setDir(axis, dir);
    // Positions in steps: the profile's unit length is one step. A seek until the switch does not
    // plan to brake (it may still be cruising at maxCount: then it failed and an alarm follows).
    const acc = this.accSteps[axis];
    let exit = 0;
    if (untilEndstop) {
      exit = rateStepsS;
      const reach = Math.sqrt(2 * acc * maxCount);
      if (exit > reach) exit = reach;
    }
    this.seekTop = exit;
    this.prof.plan(maxCount, 0, rateStepsS, exit, acc);
    this.baseUs = this.hal.micros();
    this.scheduleAt(this.seekStepUs(1));
  }

  /** Time offset (integer µs from baseUs, rounded to the tick) of the seek's step j (1-based): when the axis reaches j − ½. */
  private seekStepUs(j: number): number {
    const tick = this.hal.tickUs;
    return Math.floor((this.prof.timeAt(j - 0.5) * 1000000) / tick + 0.5) * tick;
  }

  private setDir(axis: number, d: number): void {
    if (d === 0) {
      this.sgn[axis] = 0;
      return;
    }
    const plus = d > 0;
    this.sgn[axis] = plus ? 1 : -1;
    const level = plus ? this.dirPlus[axis] : 1 - this.dirPlus[axis];
    if (this.dirLevel[axis] !== level) {
      this.hal.write(this.dirPin[axis], level);
      this.dirLevel[axis] = level;
    }
  }

  /** Arm the timer for offsetUs (an integer) after baseUs. */
  private scheduleAt(offsetUs: number): void {
    this.dueUs = offsetUs;
    let delay = this.baseUs - this.hal.micros() + offsetUs;
    if (delay < 0) delay = 0;
    this.hal.setTimer(delay, this.tickFn);
  }

  /** Time offset (integer µs from baseUs, rounded to the tick) of axis' step j (1-based). */
  private stepUs(axis: number, j: number): number {
    const s = ((j - 0.5) * this.blockLen) / this.nSteps[axis];
    const tick = this.hal.tickUs;
    return Math.floor((this.prof.timeAt(s) * 1000000) / tick + 0.5) * tick;
  }

  /**
   * Take blocks from the planner until one has steps (tagged zero-length blocks finish at once);
   * schedule its first step, or the end of motion when the planner is dry.
   */
  private nextBlock(): void {
    const pl = this.planner;
    for (;;) {
      if (this.mode !== MODE_BLOCK) return;
      if (pl.count === 0) {
        // Dry: the machine comes to rest at the end of the last block.
        this.mode = MODE_END;
        this.scheduleAt(this.blockUs);
        return;
      }
      this.baseUs = this.baseUs + this.blockUs;
      const k = pl.head;
      const dx = pl.dx[k];
      const dy = pl.dy[k];
      const dz = pl.dz[k];
      if (this.checkLimits) {
        if (dx !== 0 && !this.inTravel(0, pl.tx[k])) return this.limit(0);
        if (dy !== 0 && !this.inTravel(1, pl.ty[k])) return this.limit(1);
        if (dz !== 0 && !this.inTravel(2, pl.tz[k])) return this.limit(2);
      }
      this.blockLen = pl.len[k];
      this.blockTag = pl.tag[k];
      if (pl.dwell[k] > 0) {
        if (pl.outPin[k] >= 0) this.hal.write(pl.outPin[k], pl.outLevel[k]);
        this.blockUs = pl.dwell[k];
        this.motionSeconds = this.motionSeconds + pl.dwell[k] / 1000000;
        pl.pop();
        this.mode = MODE_DWELL;
        this.scheduleAt(this.blockUs);
        return;
      }
      this.prof.plan(pl.len[k], pl.vEntry[k], pl.vNom[k], pl.headExit(), pl.acc[k]);
      pl.pop();
      this.blockUs = Math.floor(this.prof.totalTime * 1000000 + 0.5);
      this.motionSeconds = this.motionSeconds + this.prof.totalTime;
      this.nSteps[0] = dx < 0 ? -dx : dx;
      this.nSteps[1] = dy < 0 ? -dy : dy;
      this.nSteps[2] = dz < 0 ? -dz : dz;
      let any = false;
      for (let i = 0; i < 3; i++) {
        this.done[i] = 0;
        if (this.nSteps[i] > 0) {
          this.setDir(i, i === 0 ? dx : i === 1 ? dy : dz);
          this.nextUs[i] = this.stepUs(i, 1);
          any = true;
        } else this.nextUs[i] = NEVER;
      }
      if (any) {
        this.scheduleNext();
        return;
      }
      this.listener.blockDone(this.blockTag);
    }
  }

  private limit(axis: number): void {
    this.stop();
    this.listener.limitHit(axis);
  }

  private scheduleNext(): void {
    let t = this.nextUs[0];
    if (this.nextUs[1] < t) t = this.nextUs[1];
    if (this.nextUs[2] < t) t = this.nextUs[2];
    this.scheduleAt(t);
  }

  private tick(): void {
    const mode = this.mode;
    if (mode === MODE_BLOCK) this.blockTick();
    else if (mode === MODE_SEEK) this.seekTick();
    else if (mode === MODE_DWELL) {
      this.mode = MODE_BLOCK;
      this.listener.blockDone(this.blockTag);
      if (this.mode === MODE_BLOCK) this.nextBlock();
    }
    else if (mode === MODE_END) {
      this.mode = MODE_IDLE;
      this.busy = false;
      this.listener.motionDone();
    }
  }

  private blockTick(): void {
    const due = this.dueUs;
    let left = false;
    for (let i = 0; i < 3; i++) {
      if (this.nextUs[i] <= due) {
        this.stepAxis(i);
        if (this.mode !== MODE_BLOCK) return; // stopped by an endstop alarm
        const d = this.done[i] + 1;
        this.done[i] = d;
        this.nextUs[i] = d < this.nSteps[i] ? this.stepUs(i, d + 1) : NEVER;
      }
      if (this.nextUs[i] < NEVER) left = true;
    }
    if (left) {
      this.scheduleNext();
      return;
    }
    this.listener.blockDone(this.blockTag);
    if (this.mode === MODE_BLOCK) this.nextBlock();
  }

  private stepAxis(axis: number): void {
    this.hal.pulse(this.stepPin[axis], this.pulseUs);
    const s = this.sgn[axis];
    const p = this.pos[axis] + s;
    this.pos[axis] = p;
    this.stepCount = this.stepCount + 1;
    // A min endstop may only be pressed at or below position 0: anything else is lost steps or a crash.
    if (s < 0 && p > 0 && this.limitSwitch[axis] && this.hal.read(this.endPin[axis]) === this.endLevel[axis]) {
      this.stop();
      this.listener.endstopHit(axis);
    }
  }

  private seekTick(): void {
    const axis = this.seekAxis;
    if (this.settling) {
      this.finishSeek();
      return;
    }
    if (this.seekUntilEndstop && this.endstopPressed(axis)) {
      this.seekFound = true;
      // Stopped at the switch: rest before the next motion (see the top).
      this.settling = true;
      // (Divide first: the product 2·10⁶·rate overflows the 32-bit integers of some Lua builds.)
      let settle = Math.floor((this.seekTop / this.accSteps[axis]) * SETTLE_FACTOR * 1000000) + 1;
      if (settle < MIN_SETTLE_US) settle = MIN_SETTLE_US;
      this.baseUs = this.hal.micros();
      this.scheduleAt(settle);
      return;
    }
    if (this.seekCount >= this.seekMax) {
      this.finishSeek();
      return;
    }
    this.hal.pulse(this.stepPin[axis], this.pulseUs);
    this.pos[axis] = this.pos[axis] + this.sgn[axis];
    this.stepCount = this.stepCount + 1;
    this.seekCount = this.seekCount + 1;
    if (this.seekCount >= this.seekMax) {
      // The last step: a fixed-distance seek is at rest when the axis reaches its target.
      this.scheduleAt(Math.floor((this.prof.totalTime * 1000000) / this.hal.tickUs + 0.5) * this.hal.tickUs);
      return;
    }
    this.scheduleAt(this.seekStepUs(this.seekCount + 1));
  }

  private finishSeek(): void {
    this.settling = false;
    this.busy = false;
    this.mode = MODE_IDLE;
    this.listener.motionDone();
  }
}
