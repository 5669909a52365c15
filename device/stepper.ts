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
import { Hal, StepOutput } from './hal';
import { MachineProfile, axisAt, maxSteps, minSteps } from '../shared/machine';
import { Planner } from '../shared/motion/planner';
import { Profile } from '../shared/motion/profile';

/** Who hears about finished blocks, the end of motion and unexpected endstops. */
export interface StepperListener {
  /** A planner block finished (tag as queued); called before the next block is taken. */
  blockDone(tag: number): void;
  /** The machine is at rest: the planner ran dry after the last block's end, or a seek ended. */
  motionDone(): void;
  /**
   * A block left the planner for the step generator (hal.steps targets queue motion ahead of time):
   * the planner has room again.
   */
  blockTaken(): void;
  endstopHit(axis: number): void;
  /** A block's target is outside the travel (defence in depth; nothing of it moved). */
  limitHit(axis: number): void;
}

const MODE_IDLE = 0;
const MODE_BLOCK = 1;
const MODE_SEEK = 2;
const MODE_END = 3;
const MODE_DWELL = 4;
/** Blocks are being turned into step segments for the HAL's hardware step generator. */
const MODE_GEN = 5;
/** Blocks handed to the generator and not yet finished (a ring): more than the planner holds. */
const FLIGHT = 40;
/** A seek (homing) run by the step generator. */
const MODE_GEN_SEEK = 6;
/** While a generator seeks a switch, the switch is read this often (µs): the overtravel is at most that much motion. */
export const SEEK_POLL_US = 5000;
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

  // ---- hardware step generator (hal.steps) ----
  private gen: StepOutput | null;
  /** HAL time (µs) of the generator's time 0, and the positions there. */
  private genStartUs = 0;
  /** The generator's StepOutput.lateUs already added to genStartUs. */
  private lateSeen = 0;
  private genBase: number[] = [0, 0, 0];
  /** Generator time (µs) at which the queued motion ends: the start of the next block taken. */
  private genEndUs = 0;
  /** The block being cut into segments: whether there is one, and its start (generator µs). */
  private segActive = false;
  private segStartUs = 0;
  /** Per axis: the block's next step to queue (1-based), the time of its last queued step, chunk size to try. */
  private segNext: number[] = [0, 0, 0];
  private segLast: number[] = [0, 0, 0];
  /** Per axis of the block being cut: setChunkScale's bound scale and ramp-end distances (steps). */
  private segC: number[] = [0, 0, 0];
  private segS0: number[] = [0, 0, 0];
  private segS1: number[] = [0, 0, 0];
  /** Per axis: the last step of the block's acceleration phase and of its cruise. */
  private segAccEnd: number[] = [0, 0, 0];
  private segCruiseEnd: number[] = [0, 0, 0];
  /** Blocks in flight: start and end (generator µs), tag, a pin to write at the start (dwell; −1 none). */
  private flStart: number[] = [];
  private flEnd: number[] = [];
  private flTag: number[] = [];
  private flPin: number[] = [];
  private flLevel: number[] = [];
  private flHead = 0;
  private flCount = 0;
  /** An axis whose next block leaves the travel: alarm once the queued motion has been made. */
  private pendingLimit = -1;
  /** Generator time by which a full queue will have drained about half way (refill then); NEVER if none is full. */
  private drainUs = NEVER;

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
    this.gen = hal.steps;
    if (this.gen !== null) {
      for (let i = 0; i < 3; i++) this.gen.setup(i, this.stepPin[i], this.dirPin[i], this.dirPlus[i], this.pulseUs);
      for (let i = 0; i < FLIGHT; i++) {
        this.flStart.push(0);
        this.flEnd.push(0);
        this.flTag.push(-1);
        this.flPin.push(-1);
        this.flLevel.push(0);
      }
    }
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
    if ((this.mode === MODE_GEN || this.mode === MODE_GEN_SEEK) && this.gen !== null) {
      this.gen.stop();
      this.readGenPosition();
      this.segActive = false;
      this.flCount = 0;
    }
    this.busy = false;
    this.mode = MODE_IDLE;
  }

  /** Start executing the planner's blocks if the machine is at rest. */
  kick(): void {
    if (this.busy || this.planner.count === 0) return;
    this.busy = true;
    if (this.gen !== null) {
      this.startGen(this.gen);
      return;
    }
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
    if (this.gen !== null) {
      this.startGenSeek(this.gen, axis, dir, maxCount);
      return;
    }
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
    else if (mode === MODE_GEN) this.refill();
    else if (mode === MODE_GEN_SEEK) this.seekRefill();
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
      this.settle(axis);
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

  /** After a seek stopped at the switch: rest SETTLE_FACTOR × the time an in-limits stop would take, then finishSeek. */
  private settle(axis: number): void {
    this.settling = true;
    // (Divide first: the product 2·10⁶·rate overflows the 32-bit integers of some Lua builds.)
    let us = Math.floor((this.seekTop / this.accSteps[axis]) * SETTLE_FACTOR * 1000000) + 1;
    if (us < MIN_SETTLE_US) us = MIN_SETTLE_US;
    this.baseUs = this.hal.micros();
    this.scheduleAt(us);
  }

  private finishSeek(): void {
    this.settling = false;
    this.busy = false;
    this.mode = MODE_IDLE;
    this.listener.motionDone();
  }

  // ---- hardware step generator ------------------------------------------------------------------
  //
  // Blocks leave the planner up to leadUs ahead of the generator's clock. A generator that integrates
  // constant acceleration itself (StepOutput.phases) takes each phase of a block's profile whole
  // (queuePhase): at most three segments per axis and block, exact. Otherwise each axis' steps in a
  // block are cut into chunks whose step times fit one segment (interval, count, add) through the
  // axis' previous step, the chunk's first step and its last, as long as the ramp's error bound
  // allows (queueChunk, setChunkScale); a chunk never spans two phases (the time is smooth inside each).
  // The interpreter's work is per chunk and per refill, never per step (docs/runtime.md).

  /**
   * Start the generator's clock startDelayUs (default one refill period) from now (the interpreter queues the first
   * segments meanwhile; on a slow chip that takes milliseconds each), positions counted from here.
   */
  private beginGen(gen: StepOutput): void {
    const delay = gen.startDelayUs;
    this.genStartUs = this.hal.micros() + (delay === undefined ? gen.refillUs : delay);
    gen.start(this.genStartUs);
    this.lateSeen = 0;
    for (let i = 0; i < 3; i++) {
      this.genBase[i] = this.pos[i];
      this.segLast[i] = 0;
    }
  }

  private startGen(gen: StepOutput): void {
    this.mode = MODE_GEN;
    this.beginGen(gen);
    this.genEndUs = 0;
    this.segActive = false;
    this.flHead = 0;
    this.flCount = 0;
    this.pendingLimit = -1;
    this.refill();
  }

  /**
   * A seek on the step generator: the seek's profile (planned by seek(), in steps) is one block of
   * maxCount steps on the axis, queued like any other; a seek until the switch reads it every
   * SEEK_POLL_US and stops the generator when it closes (an overtravel of at most that much motion,
   * the per-step seek's stop being at the closing step), then rests as the per-step seek does.
   */
  private startGenSeek(gen: StepOutput, axis: number, dir: number, maxCount: number): void {
    this.mode = MODE_GEN_SEEK;
    this.beginGen(gen);
    for (let i = 0; i < 3; i++) this.nSteps[i] = 0;
    this.nSteps[axis] = maxCount;
    this.sgn[axis] = dir > 0 ? 1 : -1;
    this.blockLen = maxCount;
    this.segStartUs = 0;
    this.segNext[axis] = 1;
    this.segAccEnd[axis] = phaseEnd(this.prof.accelDist, maxCount, maxCount, true);
    this.segCruiseEnd[axis] = phaseEnd(maxCount - this.prof.decelDist, maxCount, maxCount, false);
    if (gen.phases !== true) this.setChunkScale(axis, gen.maxErrorUs);
    this.genEndUs = wholeUs(this.prof.totalTime);
    this.stepCount = this.stepCount + maxCount;
    this.seekRefill();
  }

  private seekRefill(): void {
    const gen = this.gen;
    if (gen === null) return;
    const axis = this.seekAxis;
    const now = this.genNow();
    this.readGenPosition();
    const moved = this.pos[axis] - this.genBase[axis];
    this.seekCount = moved < 0 ? -moved : moved;
    if (this.seekUntilEndstop && this.endstopPressed(axis)) {
      gen.stop();
      this.readGenPosition();
      this.seekFound = true;
      this.mode = MODE_SEEK;
      this.settle(axis);
      return;
    }
    if (now >= this.genEndUs) {
      gen.stop();
      this.readGenPosition();
      this.finishSeek();
      return;
    }
    const n = this.nSteps[axis];
    this.queueAxis(gen, axis, now + gen.leadUs);
    let next = now + (this.seekUntilEndstop && SEEK_POLL_US < gen.refillUs ? SEEK_POLL_US : gen.refillUs);
    if (this.segNext[axis] <= n && gen.free(axis) <= 0) {
      const half = now + (this.segLast[axis] - now) / 2;
      if (half < next) next = half;
    }
    if (this.genEndUs < next) next = this.genEndUs;
    let delay = this.genStartUs + next - this.hal.micros();
    if (delay < 0) delay = 0;
    this.hal.setTimer(delay, this.tickFn);
  }

  private readGenPosition(): void {
    const gen = this.gen;
    if (gen === null) return;
    for (let i = 0; i < 3; i++) this.pos[i] = this.genBase[i] + gen.position(i);
  }

  /**
   * Generator time now (µs), a hundredth of a µs ahead: an event at the time a timer was set for
   * counts as reached even when the clock's floating-point sum lands a hair before it (else the
   * refill would set a timer for that hair, which the clock cannot represent, for ever).
   */
  private genNow(): number {
    return this.hal.micros() - this.genStartUs + 0.01;
  }

  private refill(): void {
    const gen = this.gen;
    if (gen === null) return;
    // A generator that fell behind moved its clock on (StepOutput.lateUs): so does ours.
    const late = gen.lateUs;
    if (late !== undefined && late !== this.lateSeen) {
      this.genStartUs = this.genStartUs + late - this.lateSeen;
      this.lateSeen = late;
    }
    const now = this.genNow();
    this.readGenPosition();
    // A limit switch pressed anywhere but at or below 0 means lost steps: alarm (checked per refill).
    for (let i = 0; i < 3; i++) {
      if (this.pos[i] > 0 && this.limitSwitch[i] && this.endstopPressed(i)) {
        this.stop();
        this.listener.endstopHit(i);
        return;
      }
    }
    // Blocks whose time has come: dwell outputs at their start, blockDone at their end.
    while (this.flCount > 0) {
      const k = this.flHead;
      if (this.flPin[k] >= 0 && this.flStart[k] <= now) {
        this.hal.write(this.flPin[k], this.flLevel[k]);
        this.flPin[k] = -1;
      }
      if (this.flEnd[k] > now) break;
      this.flHead = (k + 1) % FLIGHT;
      this.flCount = this.flCount - 1;
      this.listener.blockDone(this.flTag[k]);
      if (this.mode !== MODE_GEN) return;
    }
    this.fill(gen, now, now + gen.leadUs);
    if (this.mode !== MODE_GEN) return;
    if (this.flCount === 0 && !this.segActive && (this.planner.count === 0 || this.pendingLimit >= 0)) {
      // Everything queued has been made: at rest.
      if (this.pendingLimit >= 0) return this.limit(this.pendingLimit);
      gen.stop();
      this.mode = MODE_IDLE;
      this.busy = false;
      this.listener.motionDone();
      return;
    }
    let next = now + gen.refillUs;
    if (this.drainUs < next) next = this.drainUs;
    if (this.flCount > 0) {
      const k = this.flHead;
      if (this.flPin[k] >= 0 && this.flStart[k] < next) next = this.flStart[k];
      if (this.flEnd[k] < next) next = this.flEnd[k];
    }
    let delay = this.genStartUs + next - this.hal.micros();
    if (delay < 0) delay = 0;
    this.hal.setTimer(delay, this.tickFn);
  }

  /** Queue segments until every axis is queued up to horizon (generator µs), or a queue is full. */
  private fill(gen: StepOutput, now: number, horizon: number): void {
    this.drainUs = NEVER;
    for (;;) {
      if (this.segActive) {
        let left = false;
        for (let i = 0; i < 3; i++) {
          const n = this.nSteps[i];
          this.queueAxis(gen, i, horizon);
          if (this.segNext[i] <= n) {
            left = true;
            if (gen.free(i) <= 0) {
              // Its queue is full short of the horizon: come back when about half of it has been made.
              const half = now + (this.segLast[i] - now) / 2;
              if (half < this.drainUs) this.drainUs = half;
            }
          }
        }
        if (left) return;
        this.segActive = false;
      }
      if (this.genEndUs >= horizon || this.pendingLimit >= 0 || this.planner.count === 0) return;
      if (this.flCount >= FLIGHT) return;
      // Behind: the generator has made everything queued before this block could be written (the
      // interpreter fell behind; the generator reports that). The block starts a refill period from
      // now, not in the past, so one late refill does not make every later block late too.
      const t = this.genNow();
      if (this.genEndUs < t) this.genEndUs = t + gen.refillUs;
      this.takeBlock();
      if (this.mode !== MODE_GEN) return;
    }
  }

  /** Queue the axis' steps of the block being cut up to horizon (generator µs), or until its queue is full. */
  private queueAxis(gen: StepOutput, axis: number, horizon: number): void {
    const n = this.nSteps[axis];
    const phases = gen.phases === true;
    while (this.segNext[axis] <= n && this.segLast[axis] < horizon && gen.free(axis) > 0) {
      if (phases) this.queuePhase(gen, axis);
      else this.queueChunk(gen, axis);
    }
  }

  /** Move the planner's head block to the generator's schedule (no steps queued yet). */
  private takeBlock(): void {
    const pl = this.planner;
    const k = pl.head;
    const dx = pl.dx[k];
    const dy = pl.dy[k];
    const dz = pl.dz[k];
    if (this.checkLimits) {
      let bad = -1;
      if (dx !== 0 && !this.inTravel(0, pl.tx[k])) bad = 0;
      else if (dy !== 0 && !this.inTravel(1, pl.ty[k])) bad = 1;
      else if (dz !== 0 && !this.inTravel(2, pl.tz[k])) bad = 2;
      if (bad >= 0) {
        // Nothing of it moves; the blocks before it are made first, as without a generator.
        this.pendingLimit = bad;
        return;
      }
    }
    const f = (this.flHead + this.flCount) % FLIGHT;
    this.flCount = this.flCount + 1;
    this.flStart[f] = this.genEndUs;
    this.flTag[f] = pl.tag[k];
    this.flPin[f] = -1;
    if (pl.dwell[k] > 0) {
      this.flPin[f] = pl.outPin[k];
      this.flLevel[f] = pl.outLevel[k];
      this.genEndUs = this.genEndUs + pl.dwell[k];
      const late = this.gen === null ? undefined : this.gen.outputLateUs;
      if (late !== undefined && pl.outPin[k] >= 0) this.genEndUs = this.genEndUs + late;
      this.flEnd[f] = this.genEndUs;
      this.motionSeconds = this.motionSeconds + pl.dwell[k] / 1000000;
      pl.pop();
      this.listener.blockTaken();
      return;
    }
    this.blockLen = pl.len[k];
    this.prof.plan(pl.len[k], pl.vEntry[k], pl.vNom[k], pl.headExit(), pl.acc[k]);
    pl.pop();
    const dur = wholeUs(this.prof.totalTime);
    this.segStartUs = this.genEndUs;
    this.genEndUs = this.genEndUs + dur;
    this.flEnd[f] = this.genEndUs;
    this.motionSeconds = this.motionSeconds + this.prof.totalTime;
    this.nSteps[0] = dx < 0 ? -dx : dx;
    this.nSteps[1] = dy < 0 ? -dy : dy;
    this.nSteps[2] = dz < 0 ? -dz : dz;
    this.sgn[0] = dx < 0 ? -1 : 1;
    this.sgn[1] = dy < 0 ? -1 : 1;
    this.sgn[2] = dz < 0 ? -1 : 1;
    const len = this.blockLen;
    const accEnd = this.prof.accelDist;
    const cruiseEnd = len - this.prof.decelDist;
    // (chunks only: a generator with phases takes each phase whole)
    const tol = this.gen !== null && this.gen.phases !== true ? this.gen.maxErrorUs : 0;
    let any = false;
    for (let i = 0; i < 3; i++) {
      const n = this.nSteps[i];
      this.segNext[i] = 1;
      if (n > 0) {
        any = true;
        this.stepCount = this.stepCount + n;
        // Step j is at s = (j − ½)·len/n: the last j with s < accEnd, and with s ≤ cruiseEnd.
        this.segAccEnd[i] = phaseEnd(accEnd, len, n, true);
        this.segCruiseEnd[i] = phaseEnd(cruiseEnd, len, n, false);
        if (tol > 0) this.setChunkScale(i, tol);
      }
    }
    this.segActive = any;
    this.listener.blockTaken();
  }

  /** Generator time (µs) of axis' step j (1-based) in the block being cut. */
  private segStepUs(axis: number, j: number): number {
    return this.segStartUs + this.prof.timeAt(((j - 0.5) * this.blockLen) / this.nSteps[axis]) * 1000000;
  }

  /**
   * Queue the axis' next phase of the block (acceleration, cruise or deceleration) as one segment
   * of a generator that integrates constant acceleration (StepOutput.pushPhase): the phase's start
   * time, where the axis is then relative to its next step (step j lies at j − ½ steps into the
   * block), its speed and acceleration, all in the axis' steps.
   */
  private queuePhase(gen: StepOutput, axis: number): void {
    const j = this.segNext[axis];
    const n = this.nSteps[axis];
    const p = this.prof;
    const d = this.blockLen / n;
    let end = n;
    let x = (this.blockLen - p.decelDist) / d;
    let t = p.accelTime + p.cruiseTime;
    let v = p.peak;
    let acc = -p.accel;
    let tEnd = p.totalTime;
    if (j <= this.segAccEnd[axis]) {
      end = this.segAccEnd[axis];
      x = 0;
      t = 0;
      v = p.v0;
      acc = p.accel;
      tEnd = p.accelTime;
    } else if (j <= this.segCruiseEnd[axis]) {
      end = this.segCruiseEnd[axis];
      x = p.accelDist / d;
      t = p.accelTime;
      acc = 0;
      tEnd = p.accelTime + p.cruiseTime;
    }
    let p0 = x - j + 1.5;
    if (p0 < 0) p0 = 0;
    gen.pushPhase!(axis, this.sgn[axis], end - j + 1, this.segStartUs + t * 1000000, p0, v / d / 1000000, acc / d / 1000000000000);
    this.segNext[axis] = end + 1;
    this.segLast[axis] = this.segStartUs + tEnd * 1000000;
  }

  /**
   * Per axis of the block being cut: the scale of the chunk-length bound (queueChunk) and the
   * block's ends as distances σ (in the axis' steps) from the ramps' virtual standstills.
   *
   * In a ramp of acceleration a, t(σ) = T1·√σ with σ in steps of d (the path per step of the axis)
   * from where the ramp would start or end at rest, and T1 = √(2d/a); so t‴ = (3/8)·T1·σ^(−5/2).
   * A chunk of k steps whose segment passes through the step before it (x = 0), its first (x = 1)
   * and its last (x = k), all on the ramp, is off by at most max|t‴|/6 · max|x(x−1)(x−k)| ≤
   * max|t‴|·k³·4/162 at every step, which is within tol for k ≤ (108·tol/T1)^(1/3)·σ^(5/6),
   * σ taken at the chunk's slow end (its first node in acceleration, its last in deceleration).
   */
  private setChunkScale(axis: number, tol: number): void {
    const d = this.blockLen / this.nSteps[axis];
    const a = this.prof.accel;
    // (0.9: a margin for Espruino's Math.pow, exp(log(x)·y) in its flash-saving builds)
    this.segC[axis] = Math.pow((0.9 * 108 * tol) / (1000000 * Math.sqrt((2 * d) / a)), 1 / 3);
    this.segS0[axis] = (this.prof.v0 * this.prof.v0) / (2 * a * d);
    this.segS1[axis] = (this.prof.v1 * this.prof.v1) / (2 * a * d);
  }

  /**
   * Queue the axis' next chunk of steps as one segment: (interval, count, add) through the step
   * before it, its first and its last step. The first chunk of each phase of the profile has at
   * most 2 steps (exact: the step before it lies on another curve); a cruise chunk is the rest of
   * the cruise (exact: evenly spaced); a ramp chunk is as long as setChunkScale's bound allows.
   */
  private queueChunk(gen: StepOutput, axis: number): void {
    const j = this.segNext[axis];
    const n = this.nSteps[axis];
    const accEnd = this.segAccEnd[axis];
    const cruiseEnd = this.segCruiseEnd[axis];
    let end = n;
    if (j <= accEnd) end = accEnd;
    else if (j <= cruiseEnd) end = cruiseEnd;
    let k = end - j + 1;
    if (j === 1 || j === accEnd + 1 || j === cruiseEnd + 1) {
      if (k > 2) k = 2;
    } else if (j <= accEnd) {
      const kb = Math.floor(this.segC[axis] * Math.pow(this.segS0[axis] + j - 1.5, 5 / 6));
      if (kb < k) k = kb;
    } else if (j > cruiseEnd) {
      // σ at the last step j + k − 1 is r − k: the longest valid k solves k = g(k) = C·(r − k)^(5/6).
      // g is concave, so its tangent at 0 meets k at kt ≥ that k, and g(kt) is valid and close to it.
      const c = this.segC[axis];
      const r = this.segS1[axis] + n - j + 1.5;
      const g0 = c * Math.pow(r, 5 / 6);
      let kt = g0 / (1 + (5 * g0) / (6 * r));
      if (kt > r - 0.5) kt = r - 0.5;
      const kb = Math.floor(c * Math.pow(r - kt, 5 / 6));
      if (kb < k) k = kb;
    }
    if (k < 1) k = 1;
    const last = this.segLast[axis];
    const tFirst = this.segStepUs(axis, j);
    const interval = tFirst - last;
    let add = 0;
    let tLast = tFirst;
    if (k > 1) {
      tLast = this.segStepUs(axis, j + k - 1);
      add = (2 * (tLast - last - k * interval)) / (k * (k - 1));
    }
    gen.push(axis, this.sgn[axis], interval, k, add);
    this.segLast[axis] = tLast;
    this.segNext[axis] = j + k;
  }
}

/**
 * The last step j (1..n) of a block's phase that ends at path position at (of len), where step j is
 * at (j − ½)·len/n: with strict, the last with s < at (acceleration), else the last with s ≤ at.
 */
function phaseEnd(at: number, len: number, n: number, strict: boolean): number {
  const x = (at * n) / len + 0.5;
  let j = Math.floor(x);
  if (strict && j === x) j = j - 1;
  if (j < 0) j = 0;
  if (j > n) j = n;
  return j;
}

/**
 * Seconds to whole µs, as a float: the generator's times add up from its start, and a Lua 5.3 build
 * with 32-bit integers (NodeMCU's) would wrap an integer sum after 2^31 µs (35.8 min into a job).
 * `/ 1` makes a float there (math.floor gives an integer); elsewhere it changes nothing.
 */
function wholeUs(seconds: number): number {
  return Math.floor(seconds * 1000000 + 0.5) / 1;
}
