/**
 * The runtime's motion executor for the Johnny-Five target: instead of timing every step itself
 * (57600 baud carries ~5700 bytes/s, a step message per step is impossible) it sends each planned
 * block to the Arduino's AccelStepperFirmata as one move per axis and waits for the moves to finish.
 *
 * Per block of length L (mm) with nominal speed v (mm/s) and acceleration a (mm/s²), axis i moving
 * nᵢ steps gets acceleration a·nᵢ/L and maximum speed v·nᵢ/L (steps/s, steps/s²): every axis then
 * follows the same trapezoid in time (AccelStepper starts and ends each move at rest), so the path
 * stays straight between the block's ends — an exact stop at every block. The planner is put into
 * exact-stop mode so its speeds agree. Messages per block: for each moving axis acceleration and
 * speed (9 bytes each, only when changed), then all `to`s back to back (10 bytes each, most steps
 * first), so the axes start ~1.7 ms apart (corrected with the accelerations: alignStarts()); each
 * axis reports its completion (10 bytes).
 *
 * AccelStepper's step times are read on a 4 µs micros(): an interval may come out up to 4 µs short of
 * the commanded one, so the cruise interval is kept 4 µs above the axis' limit. It cruises at a whole
 * number of µs per step that the 4 µs micros() makes a multiple of 4 µs, so the axes' cruise
 * intervals are chosen together (cruiseIntervals()) to keep their ratio the block's.
 *
 * Homing seeks are AccelStepper moves the board runs itself, ramped at the axis' acceleration (see
 * seek()): a seek towards a switch is stopped by the host when the switch's digital report arrives,
 * then located to the step by single steps; back-offs are one move that brakes to rest.
 *
 * The board cannot step as fast as a profile may ask (UNO_ACCELSTEPPER: ~252 µs of AVR time per
 * step, measured on ConfigurableFirmata 3.4 in simavr): every axis' rate and the sum of the axes'
 * rates are capped (capProfile() for the planner, cruiseIntervals() per block).
 */
import { Hal } from '../hal';
import { Stepper, StepperListener } from '../stepper';
import { MachineProfile, axisAt } from '../../shared/machine';
import { Planner } from '../../shared/motion/planner';
import { Profile } from '../../shared/motion/profile';
import { FIRMATA_BAUD, FirmataIo, STEPPER_DRIVER } from './firmata-io';

const PH_IDLE = 0;
const PH_BLOCK = 1;
const PH_DWELL = 2;
const PH_SEEK = 3;
const PH_SEEK_STEP = 4;
const PH_SEEK_FENCE = 5;
const PH_SEEK_RUN = 6;
const PH_SEEK_STOP = 7;
const PH_SEEK_REST = 8;
/** micros() resolution of a 16 MHz AVR. */
const BOARD_MICROS_RES = 4;
/** Mean delay of an AccelStepper step after it is due on the Uno (measured 14–31 µs; sim/targets/firmata-board.ts POLL_LATE_US). */
const BOARD_LATE_US = 0;
/** Time an accelStepperTo (10 bytes, 8N1) takes on the line: the axes of a block start this far apart. */
const TO_MESSAGE_S = (10 * 10) / FIRMATA_BAUD;
/** Start skew (in mm an axis would be off) worth aligning the axes' starts for, at the cost of the skew in time. */
const ALIGN_MM = 0.05;
/** Most the nozzle may leave a block's straight line because the axes' cruise intervals are whole multiples of 4 µs. */
const CRUISE_DRIFT_MM = 0.25;
/** Slowest a block's cruise may become (×) to find intervals that keep the drift within CRUISE_DRIFT_MM. */
const CRUISE_MAX_SLOWDOWN = 1.25;

/**
 * What AccelStepperFirmata on a 16 MHz ATmega328p (Arduino Uno) can step, from ConfigurableFirmata
 * 3.4 in simavr (../shared/realchips; docs/targets/johnny-five.md): a pass of the sketch's loop that
 * takes a step costs ~252 µs (AccelStepper's computeNewSpeed in software float), so one axis alone
 * reached at most 3600–3800 steps/s (shortest interval 262–271 µs where 256 µs was asked) and all
 * axes together ~4000 steps/s; each step also comes 14–31 µs after it is due. The host keeps below
 * that with a margin: the steps of different axes then seldom queue behind each other.
 */
export const UNO_ACCELSTEPPER = {
  /** Most steps/s the host asks of one axis. */
  axisStepsS: 3200,
  /** Most steps/s the host asks of all axes of a block together. */
  totalStepsS: 2400,
};

/**
 * The profile the runtime plans with on this target: each axis' maxSpeedMmS capped to
 * UNO_ACCELSTEPPER.axisStepsS (ref-gantry's Z: 20 → 8 mm/s; X/Y 200 → 160 mm/s), homing speeds
 * too. The sum of the axes' rates is capped per block by FirmataMotion.
 */
export function capProfile(m: MachineProfile): MachineProfile {
  const c = JSON.parse(JSON.stringify(m)) as MachineProfile;
  for (let i = 0; i < 3; i++) {
    const a = axisAt(c, i);
    const top = UNO_ACCELSTEPPER.axisStepsS / a.stepsPerMm;
    if (a.maxSpeedMmS > top) a.maxSpeedMmS = top;
    if (a.homing.seekSpeedMmS > top) a.homing.seekSpeedMmS = top;
    if (a.homing.latchSpeedMmS > top) a.homing.latchSpeedMmS = top;
  }
  return c;
}

/** Messages sent and their bytes (for the docs' latency figures and tests). */
export interface FirmataTraffic {
  /** Every `to` sent (homing steps included), and those of planned blocks. */
  moves: number;
  blocks: number;
  blockMoves: number;
  /** Steps the blocks' moves made (all axes). */
  blockSteps: number;
  messages: number;
  bytes: number;
}

export class FirmataMotion extends Stepper {
  readonly traffic: FirmataTraffic = { moves: 0, blocks: 0, blockMoves: 0, blockSteps: 0, messages: 0, bytes: 0 };
  private io: FirmataIo;
  private clock: Hal;
  private owner: StepperListener;
  private plan: Planner;
  private profile = new Profile();
  private phase = PH_IDLE;
  private configured = false;
  private stepPins: number[] = [];
  private dirPins: number[] = [];
  private endActive: number[] = [];
  /** Board position = sign · runtime position + offset (invertDir flips the sign). */
  private sign: number[] = [1, 1, 1];
  private offset: number[] = [0, 0, 0];
  private boardPos: number[] = [0, 0, 0];
  /** Shortest cruise interval, µs (a multiple of 4 µs at least 4 µs above the axis' speed limit). */
  private minInterval: number[] = [0, 0, 0];
  private interval: number[] = [0, 0, 0];
  private accel: number[] = [0, 0, 0];
  /** The block's axes by decreasing step count: the order their `to`s are sent in. */
  private order: number[] = [0, 1, 2];
  private spm: number[] = [1, 1, 1];
  /** When each axis' schedule effectively starts, s, relative to the first `to` sent. */
  private startAt: number[] = [0, 0, 0];
  private lastAccel: number[] = [-1, -1, -1];
  private lastSpeed: number[] = [-1, -1, -1];
  private pending: boolean[] = [false, false, false];
  private moveSign: number[] = [0, 0, 0];
  private blockTagNow = -1;
  private seekAx = 0;
  private seekUntil = false;
  private seekDir = 1;
  private seekLeft = 0;
  private seekGapUs = 0;
  private seekStartUs = 0;
  private readonly seekStepFn: () => void;

  constructor(hal: Hal, m: MachineProfile, planner: Planner, listener: StepperListener, io: FirmataIo) {
    super(hal, m, planner, listener);
    this.io = io;
    this.clock = hal;
    this.owner = listener;
    this.plan = planner;
    this.machine = m;
    planner.lookAhead = false;
    this.seekStepFn = () => this.seekStep();
    for (let i = 0; i < 3; i++) {
      const a = axisAt(m, i);
      this.stepPins.push(a.pins.step);
      this.dirPins.push(a.pins.dir);
      this.endActive.push(a.endstopActiveLow ? 0 : 1);
      this.sign[i] = a.invertDir ? -1 : 1;
      // The shortest interval whose 4 µs-short steps still keep within maxSpeedMmS.
      this.spm[i] = a.stepsPerMm;
      this.minInterval[i] = Math.ceil((1e6 / (a.maxSpeedMmS * a.stepsPerMm) + BOARD_MICROS_RES) / BOARD_MICROS_RES) * BOARD_MICROS_RES;
      const axis = i;
      io.on(`stepper-done-${i}`, (v: number) => this.onDone(axis, v));
      io.on(`stepper-position-${i}`, (v: number) => this.onPosition(axis, v));
      io.on(`digital-read-${a.pins.endstop}`, (v: number) => this.onEndstop(axis, v));
    }
  }

  private send(bytes: number): void {
    this.traffic.messages++;
    this.traffic.bytes += bytes;
  }

  private configure(): void {
    if (this.configured) return;
    this.configured = true;
    for (let i = 0; i < 3; i++) {
      this.io.accelStepperConfig({ deviceNum: i, type: STEPPER_DRIVER, stepPin: this.stepPins[i], directionPin: this.dirPins[i] });
      this.send(9);
      this.boardPos[i] = 0;
    }
  }

  /** The runtime may have set pos itself (homing): re-derive the offsets from where the board is. */
  private sync(): void {
    for (let i = 0; i < 3; i++) this.offset[i] = this.boardPos[i] - this.sign[i] * this.pos[i];
  }

  private toBoard(axis: number, p: number): number {
    return this.sign[axis] * p + this.offset[axis];
  }

  private fromBoard(axis: number, b: number): number {
    return this.sign[axis] * (b - this.offset[axis]);
  }

  private setRate(axis: number, accel: number, speed: number): void {
    if (accel !== this.lastAccel[axis]) {
      this.io.accelStepperAcceleration(axis, accel);
      this.send(9);
      this.lastAccel[axis] = accel;
    }
    if (speed !== this.lastSpeed[axis]) {
      this.io.accelStepperSpeed(axis, speed);
      this.send(9);
      this.lastSpeed[axis] = speed;
    }
  }

  private moveTo(axis: number, runtimeTarget: number): void {
    this.pending[axis] = true;
    this.io.accelStepperTo(axis, this.toBoard(axis, runtimeTarget));
    this.send(10);
    this.traffic.moves++;
  }

  stop(): void {
    this.clock.cancelTimer();
    this.phase = PH_IDLE;
    this.busy = false;
    for (let i = 0; i < 3; i++) {
      if (this.pending[i]) {
        this.io.accelStepperStop(i);
        this.send(5);
      }
      this.pending[i] = false;
    }
  }

  kick(): void {
    if (this.busy || this.plan.count === 0) return;
    this.configure();
    this.sync();
    this.busy = true;
    this.phase = PH_BLOCK;
    this.sendNextBlock();
  }

  /** Take blocks until one moves; send it; or report the machine at rest when the planner is dry. */
  private sendNextBlock(): void {
    const pl = this.plan;
    for (;;) {
      if (this.phase !== PH_BLOCK) return;
      if (pl.count === 0) {
        this.phase = PH_IDLE;
        this.busy = false;
        this.owner.motionDone();
        return;
      }
      const k = pl.head;
      const d = [pl.dx[k], pl.dy[k], pl.dz[k]];
      const t = [pl.tx[k], pl.ty[k], pl.tz[k]];
      if (this.checkLimits) {
        for (let i = 0; i < 3; i++) {
          if (d[i] !== 0 && !this.inTravel(i, t[i])) {
            this.stop();
            this.owner.limitHit(i);
            return;
          }
        }
      }
      const tag = pl.tag[k];
      if (pl.dwell[k] > 0) {
        if (pl.outPin[k] >= 0) this.clock.write(pl.outPin[k], pl.outLevel[k]);
        const us = pl.dwell[k];
        this.motionSeconds = this.motionSeconds + us / 1e6;
        pl.pop();
        this.phase = PH_DWELL;
        this.clock.setTimer(us, () => {
          if (this.phase !== PH_DWELL) return;
          this.phase = PH_BLOCK;
          this.owner.blockDone(tag);
          this.sendNextBlock();
        });
        return;
      }
      const len = pl.len[k];
      const v = pl.vNom[k];
      const acc = pl.acc[k];
      pl.pop();
      let any = false;
      for (let i = 0; i < 3; i++) {
        this.moveSign[i] = d[i] > 0 ? 1 : d[i] < 0 ? -1 : 0;
        if (d[i] !== 0) any = true;
      }
      if (any) {
        const o = this.order;
        o[0] = 0;
        o[1] = 1;
        o[2] = 2;
        for (let j = 1; j < 3; j++) {
          for (let q = j; q > 0 && Math.abs(d[o[q]]) > Math.abs(d[o[q - 1]]); q--) {
            const tmp = o[q];
            o[q] = o[q - 1];
            o[q - 1] = tmp;
          }
        }
        const dom = this.cruiseIntervals(d, len, v);
        // Ramp time to the speed the block reaches (its cruise, or the middle of a triangle).
        const vCruise = (len * 1e6) / (this.interval[dom] * Math.abs(d[dom]));
        this.profile.plan(len, 0, vCruise, 0, acc);
        this.motionSeconds = this.motionSeconds + this.profile.totalTime;
        let ramp = vCruise / acc;
        if (ramp * vCruise > len) ramp = Math.sqrt(len / acc);
        this.alignStarts(d, len, acc, ramp);
      }
      for (let i = 0; i < 3; i++) {
        if (d[i] === 0) continue;
        // Half a µs above the interval wanted: AccelStepper truncates 1e6/maxSpeed to whole µs.
        this.setRate(i, this.accel[i], 1e6 / (this.interval[i] + 0.5));
      }
      if (!any) {
        this.owner.blockDone(tag);
        continue;
      }
      this.blockTagNow = tag;
      this.traffic.blocks++;
      for (let k = 0; k < 3; k++) {
        const i = this.order[k];
        if (d[i] !== 0) {
          this.traffic.blockMoves++;
          this.traffic.blockSteps += Math.abs(d[i]);
          this.moveTo(i, t[i]);
        }
      }
      return;
    }
  }

  /**
   * Accelerations (steps/s², into this.accel) that put every axis of a block on the same line.
   * Scaled to its share (a·nᵢ/L) each axis would follow the same trapezoid, but not from the same
   * moment: the `to`s go out one message time (TO_MESSAGE_S) apart, and AccelStepper takes a move's
   * first step at once instead of after its first interval c₀ = 0.676·√(2/aᵢ), which starts axis i's
   * whole schedule c₀ᵢ early — the more, the fewer steps it has. The `to`s go out with the most steps
   * first (that skew partly cancels the c₀ one); an axis that still starts λ before the latest one
   * ramps 2λ longer (acceleration × T/(T + 2λ), T the block's ramp time): its cruise then runs on the
   * latest axis' line and it arrives λ after it. Uncorrected, X led Y by ~3 ms on long tangents:
   * 0.4 mm off the line at full speed. The correction costs λ per block, so it is made only where the
   * skew would move an axis more than ALIGN_MM (λ·its peak speed, at most its whole travel): long
   * and fast blocks, not the arcs' short ones. A fixed point: c₀ depends on the acceleration.
   */
  private alignStarts(d: number[], len: number, acc: number, ramp: number): void {
    let worst = 0;
    for (let iter = 0; iter < 4; iter++) {
      if (iter === 1 && worst <= ALIGN_MM) return;
      let latest = -Infinity;
      for (let k = 0; k < 3; k++) {
        const i = this.order[k];
        if (d[i] === 0) continue;
        if (iter === 0) this.accel[i] = (acc * Math.abs(d[i])) / len;
        this.startAt[i] = k * TO_MESSAGE_S - 0.676 * Math.sqrt(2 / this.accel[i]);
        if (this.startAt[i] > latest) latest = this.startAt[i];
      }
      for (let i = 0; i < 3; i++) {
        const n = Math.abs(d[i]);
        if (n === 0) continue;
        const lambda = latest - this.startAt[i];
        if (iter === 0) {
          const steps = Math.min(((ramp * acc * n) / len) * lambda, n);
          if (steps / this.spm[i] > worst) worst = steps / this.spm[i];
          continue;
        }
        this.accel[i] = ((acc * n) / len) * (ramp / (ramp + 2 * lambda));
      }
    }
  }

  /**
   * Cruise intervals (µs per step) of a block's moving axes, into this.interval. AccelStepper cruises
   * at trunc(1e6/maxSpeed) µs per step and a step falls on the 4 µs micros(), so every axis really
   * cruises at a multiple of 4 µs. Rounded each on its own (as the speeds v·nᵢ/L were), X and Y ran
   * up to ~1.5 % off each other's pace: over a 300 mm tangent the nozzle drifted ~2 mm off the line,
   * into a hook it passed 3 mm away. So the dominant axis' interval is stepped up from the nominal
   * speed's (at most CRUISE_MAX_SLOWDOWN slower) until every other axis' nearest multiple of 4 µs
   * matches the block's step ratio within CRUISE_DRIFT_MM over the block; failing that, the closest.
   * Blocks too short to drift (the arcs) keep the nominal speed. Returns the dominant axis.
   */
  private cruiseIntervals(d: number[], len: number, v: number): number {
    const res = BOARD_MICROS_RES;
    let dom = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(d[i]) > Math.abs(d[dom])) dom = i;
    const nd = Math.abs(d[dom]);
    let first = Math.ceil(1e6 / ((v * nd) / len) / res) * res;
    if (first < this.minInterval[dom]) first = this.minInterval[dom];
    // All axes together within the board's step budget: Σ rateᵢ = rate_dom · Σ nᵢ / n_dom.
    const sum = Math.abs(d[0]) + Math.abs(d[1]) + Math.abs(d[2]);
    const byTotal = Math.ceil((1e6 * sum) / (UNO_ACCELSTEPPER.totalStepsS * nd) / res) * res;
    if (first < byTotal) first = byTotal;
    const last = first * CRUISE_MAX_SLOWDOWN;
    let best = first;
    let bestDrift = Infinity;
    // Each step comes ~BOARD_LATE_US after it is due and AccelStepper times the next from there:
    // an axis really cruises at its interval + BOARD_LATE_US, and those must keep the block's ratio.
    const late = BOARD_LATE_US;
    for (let id = first; id <= last; id += res) {
      const dur = (id + late) * nd;
      let drift = 0;
      for (let i = 0; i < 3; i++) {
        const n = Math.abs(d[i]);
        if (n === 0 || i === dom) continue;
        let ii = Math.round((dur / n - late) / res) * res;
        if (ii < this.minInterval[i]) ii = this.minInterval[i];
        const e = (Math.abs((ii + late) * n - dur) / dur) * len;
        if (e > drift) drift = e;
      }
      if (drift < bestDrift) {
        bestDrift = drift;
        best = id;
      }
      if (drift <= CRUISE_DRIFT_MM) break;
    }
    const dur = (best + late) * nd;
    for (let i = 0; i < 3; i++) {
      const n = Math.abs(d[i]);
      if (n === 0) continue;
      let ii = i === dom ? best : Math.round((dur / n - late) / res) * res;
      if (ii < this.minInterval[i]) ii = this.minInterval[i];
      this.interval[i] = ii;
    }
    return dom;
  }

  /**
   * A homing seek, run by the board: one AccelStepper move of maxCount steps at the axis'
   * acceleration and at most rateStepsS. Without untilEndstop (clearing or backing off the switch)
   * it brakes to rest at its end. With untilEndstop the host stops it when the switch's digital
   * report arrives: STOP (AccelStepperFirmata stops the stepper at once — it clears isRunning and
   * AccelStepper::stop()'s braking move is never run — and reports the position) then ZERO
   * (setCurrentPosition(0): clears AccelStepper's speed, else its next move would first "brake" on
   * in the old direction). The axis has then run past the switch by the report's round trip
   * (a few steps: docs/targets/johnny-five.md), rests as device/stepper.ts does after an abrupt stop
   * (twice an in-limits stop from the seek rate, at least 20 ms), and is located to the step: single
   * steps away from the switch until it releases, then towards it until it closes, each step
   * followed by a position query as a fence (the board reports an input change on the loop pass
   * after the step, so the reply to the query comes after it). The seek ends on the first closed
   * step coming from the free side: exactly where the native stepper's "read the switch before every
   * step" stops.
   */
  seek(axis: number, dir: number, rateStepsS: number, maxCount: number, untilEndstop: boolean): void {
    this.configure();
    this.sync();
    this.busy = true;
    this.seekAx = axis;
    this.seekUntil = untilEndstop;
    this.seekFound = false;
    this.moveSign[axis] = dir;
    this.seekDir = dir;
    this.seekLeft = maxCount;
    const a = axisAt(this.machine, axis);
    const rate = Math.min(rateStepsS, UNO_ACCELSTEPPER.axisStepsS);
    const accel = a.accelMmS2 * a.stepsPerMm;
    // Single locating steps: no faster than the seek, nor a jump beyond the axis' jerk from rest.
    this.seekGapUs = Math.max(1e6 / rate, 1e6 / (a.jerkMmS * a.stepsPerMm));
    this.seekRestUs = Math.max(20000, (2 * rate * 1e6) / accel);
    if (untilEndstop && this.endstopPressed(axis)) {
      this.phase = PH_SEEK_REST;
      this.clock.setTimer(0, () => this.endSeek(true));
      return;
    }
    this.setRate(axis, accel, rate);
    this.phase = untilEndstop ? PH_SEEK_RUN : PH_SEEK;
    this.moveTo(axis, this.pos[axis] + dir * maxCount);
  }

  /** Steps the last seek until the switch ran past the closing step before the STOP took hold (for the docs and tests). */
  readonly seekOvershoot: number[] = [0, 0, 0];
  private seekRestUs = 0;
  private stopPos = 0;
  private locateDir = 0;
  private readonly machine: MachineProfile;

  /** The seek's STOP has been reported: rest, then locate the switch by single steps. */
  private locate(): void {
    this.phase = PH_SEEK_REST;
    this.locateDir = -this.seekDir;
    this.setRate(this.seekAx, 0, 1e6 / this.seekGapUs);
    this.seekStartUs = this.clock.micros() + this.seekRestUs - this.seekGapUs;
    this.clock.setTimer(this.seekRestUs, this.seekStepFn);
  }

  private seekStep(): void {
    if (this.phase !== PH_SEEK_REST && this.phase !== PH_SEEK_STEP) return;
    this.phase = PH_SEEK_STEP;
    const axis = this.seekAx;
    const pressed = this.endstopPressed(axis);
    if (this.locateDir !== this.seekDir && !pressed) this.locateDir = this.seekDir;
    else if (this.locateDir === this.seekDir && pressed) {
      this.seekOvershoot[axis] = Math.abs(this.stopPos - this.pos[axis]);
      this.endSeek(true);
      return;
    }
    if (this.seekLeft <= 0) {
      this.endSeek(false);
      return;
    }
    this.seekLeft--;
    this.seekStartUs = this.clock.micros();
    this.moveTo(axis, this.pos[axis] + this.locateDir);
  }

  private endSeek(found: boolean): void {
    this.seekFound = this.seekUntil && found;
    this.phase = PH_IDLE;
    this.busy = false;
    this.owner.motionDone();
  }

  private onEndstop(axis: number, level: number): void {
    const pressed = level === this.endActive[axis];
    if (!pressed) return;
    if (this.phase === PH_SEEK_RUN && axis === this.seekAx && this.pending[axis]) {
      this.phase = PH_SEEK_STOP;
      this.io.accelStepperStop(axis);
      this.io.accelStepperZero(axis);
      this.send(10);
      return;
    }
    // A min switch pressed while moving towards it above 0: lost steps or a crash (as Stepper).
    if (this.phase === PH_BLOCK && this.pending[axis] && this.moveSign[axis] < 0 && this.limitSwitch[axis]) {
      this.stop();
      this.owner.endstopHit(axis);
    }
  }

  private onDone(axis: number, boardPosition: number): void {
    this.boardPos[axis] = boardPosition;
    const seeking = this.phase === PH_SEEK || this.phase === PH_SEEK_RUN || this.phase === PH_SEEK_STOP || this.phase === PH_SEEK_STEP;
    if (seeking && axis === this.seekAx && this.pending[axis]) {
      this.pending[axis] = false;
      const p = this.fromBoard(axis, boardPosition);
      this.stepCount = this.stepCount + Math.abs(p - this.pos[axis]);
      this.pos[axis] = p;
      if (this.phase === PH_SEEK_STOP) {
        // The ZERO sent after the STOP has set the board's count to 0 here.
        this.boardPos[axis] = 0;
        this.sync();
        this.stopPos = p;
        this.locate();
      } else if (this.phase === PH_SEEK || this.phase === PH_SEEK_RUN) this.endSeek(false);
      else {
        this.phase = PH_SEEK_FENCE;
        this.io.accelStepperReportPosition(axis);
        this.send(5);
      }
      return;
    }
    if (this.phase !== PH_BLOCK || !this.pending[axis]) {
      if (this.phase === PH_IDLE) this.pos[axis] = this.fromBoard(axis, boardPosition);
      return;
    }
    this.pending[axis] = false;
    if (this.pending[0] || this.pending[1] || this.pending[2]) return;
    for (let i = 0; i < 3; i++) {
      if (this.moveSign[i] !== 0) {
        const p = this.fromBoard(i, this.boardPos[i]);
        this.stepCount = this.stepCount + Math.abs(p - this.pos[i]);
        this.pos[i] = p;
      }
    }
    this.owner.blockDone(this.blockTagNow);
    this.sendNextBlock();
  }

  private onPosition(axis: number, boardPosition: number): void {
    this.boardPos[axis] = boardPosition;
    if (this.phase !== PH_SEEK_FENCE || axis !== this.seekAx) return;
    this.phase = PH_SEEK_STEP;
    const wait = this.seekStartUs + this.seekGapUs - this.clock.micros();
    this.clock.setTimer(wait > 0 ? wait : 0, this.seekStepFn);
  }
}
