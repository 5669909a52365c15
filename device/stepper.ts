/**
 * Step/dir pulse generation through the HAL: straight moves (Bresenham DDA + trapezoid, exact stop
 * at the end of each move) and constant-rate homing seeks. One pending timer at a time; every
 * step is one timer callback scheduled at the step's exact time (rounded to the HAL's tick), so
 * nothing is allocated per step and the pulse train does not drift.
 *
 * Positions are integer steps in machine coordinates (0 = where the min endstop triggers).
 */
import { Hal } from './hal';
import { ERR_NONE, ERR_SOFT_LIMIT } from './errors';
import { MachineProfile, axisAt, maxSteps, minSteps } from '../shared/machine';
import { Dda3 } from '../shared/motion/dda';
import { MoveLimits } from '../shared/motion/limits';
import { Trapezoid } from '../shared/motion/trapezoid';

/** Who hears about the end of a move or an unexpected endstop. */
export interface StepperListener {
  moveDone(): void;
  endstopHit(axis: number): void;
}

const MODE_IDLE = 0;
const MODE_LINE = 1;
const MODE_SEEK = 2;

export class Stepper {
  /** Current position, integer steps per axis. */
  pos: number[] = [0, 0, 0];
  busy = false;
  /** After a seek with untilEndstop: whether the endstop was reached. */
  seekFound = false;
  /** Test-only fault: multiply every move's rate limit (1 = honest). */
  speedFactor = 1;
  /** Test-only fault: false lets targets outside the travel through. */
  checkLimits = true;
  /** Steps issued so far (all axes), for status and speed measurements. */
  stepCount = 0;

  private hal: Hal;
  private m: MachineProfile;
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
  private dda = new Dda3();
  private prof = new Trapezoid();
  private lim = new MoveLimits();
  private mode = MODE_IDLE;
  private startUs = 0;
  private seekAxis = 0;
  private seekCount = 0;
  private seekMax = 0;
  private seekIntervalUs = 0;
  private seekUntilEndstop = false;
  private tickFn: () => void;

  constructor(hal: Hal, m: MachineProfile, listener: StepperListener) {
    this.hal = hal;
    this.m = m;
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

  /** Stop at once (alarm): no further steps, no moveDone. */
  stop(): void {
    this.hal.cancelTimer();
    this.busy = false;
    this.mode = MODE_IDLE;
  }

  /**
   * Start a straight move to (x, y, z) steps. Refuses (ERR_SOFT_LIMIT, nothing moves) when an axis
   * that moves would end outside its travel. moveDone() follows when the last step is out.
   */
  moveTo(x: number, y: number, z: number): number {
    const p = this.pos;
    const dx = x - p[0];
    const dy = y - p[1];
    const dz = z - p[2];
    if (this.checkLimits) {
      if (dx !== 0 && !this.inTravel(0, x)) return ERR_SOFT_LIMIT;
      if (dy !== 0 && !this.inTravel(1, y)) return ERR_SOFT_LIMIT;
      if (dz !== 0 && !this.inTravel(2, z)) return ERR_SOFT_LIMIT;
    }
    this.busy = true;
    this.mode = MODE_LINE;
    this.startUs = this.hal.micros();
    if (!this.lim.compute(this.m, dx, dy, dz)) {
      this.dda.begin(0, 0, 0);
      this.hal.setTimer(0, this.tickFn);
      return ERR_NONE;
    }
    this.setDir(0, dx);
    this.setDir(1, dy);
    this.setDir(2, dz);
    this.dda.begin(dx < 0 ? -dx : dx, dy < 0 ? -dy : dy, dz < 0 ? -dz : dz);
    this.prof.plan(this.dda.n, this.lim.rate * this.speedFactor, this.lim.accel);
    this.scheduleLine();
    return ERR_NONE;
  }

  /**
   * Constant-rate motion of one axis by up to maxSteps in direction dir (+1/−1). With untilEndstop
   * the endstop is read before every step and the seek ends (seekFound = true) when it is pressed.
   */
  seek(axis: number, dir: number, rateStepsS: number, maxCount: number, untilEndstop: boolean): void {
    this.busy = true;
    this.mode = MODE_SEEK;
    this.seekAxis = axis;
    this.seekCount = 0;
    this.seekMax = maxCount;
    this.seekIntervalUs = 1000000 / rateStepsS;
    this.seekUntilEndstop = untilEndstop;
    this.seekFound = false;
    this.setDir(axis, dir);
    this.startUs = this.hal.micros();
    this.scheduleAt(this.seekIntervalUs);
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

  /**
   * Arm the timer for offsetUs after the start of the current motion. The delay is formed from
   * clock differences, so a µs counter that wraps around (Lua builds with 32-bit integers) gives the
   * right delay as long as the HAL's integer arithmetic wraps too (test/runtime-lua.test.ts).
   */
  private scheduleAt(offsetUs: number): void {
    const tick = this.hal.tickUs;
    const target = Math.floor(offsetUs / tick + 0.5) * tick;
    let delay = target - (this.hal.micros() - this.startUs);
    if (delay < 0) delay = 0;
    this.hal.setTimer(delay, this.tickFn);
  }

  private scheduleLine(): void {
    this.scheduleAt(this.prof.timeAt(this.dda.tick + 1) * 1000000);
  }

  private tick(): void {
    if (this.mode === MODE_LINE) this.lineTick();
    else if (this.mode === MODE_SEEK) this.seekTick();
  }

  private lineTick(): void {
    const d = this.dda;
    if (d.next()) {
      if (d.sx === 1) this.stepAxis(0);
      if (d.sy === 1) this.stepAxis(1);
      if (d.sz === 1) this.stepAxis(2);
      if (this.mode !== MODE_LINE) return; // stopped by an endstop alarm
    }
    if (d.tick >= d.n) {
      this.busy = false;
      this.mode = MODE_IDLE;
      this.listener.moveDone();
      return;
    }
    this.scheduleLine();
  }

  private stepAxis(axis: number): void {
    this.hal.pulse(this.stepPin[axis], this.pulseUs);
    const s = this.sgn[axis];
    const p = this.pos[axis] + s;
    this.pos[axis] = p;
    this.stepCount = this.stepCount + 1;
    // A min endstop may only be pressed at or below position 0: anything else is lost steps or a crash.
    if (s < 0 && p > 0 && this.hal.read(this.endPin[axis]) === this.endLevel[axis]) {
      this.stop();
      this.listener.endstopHit(axis);
    }
  }

  private seekTick(): void {
    const axis = this.seekAxis;
    if (this.seekUntilEndstop && this.endstopPressed(axis)) {
      this.seekFound = true;
      this.finishSeek();
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
    this.scheduleAt((this.seekCount + 1) * this.seekIntervalUs);
  }

  private finishSeek(): void {
    this.busy = false;
    this.mode = MODE_IDLE;
    this.listener.moveDone();
  }
}
