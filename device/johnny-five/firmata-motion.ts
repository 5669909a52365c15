/**
 * The runtime's motion executor for the Johnny-Five target: instead of timing every step itself
 * (57600 baud carries ~5700 bytes/s, a step message per step is impossible) it sends each planned
 * block to the Arduino's AccelStepperFirmata as one move per axis and waits for the moves to finish.
 *
 * A block that moves two or three axes is one MultiStepper group move (all axes arrive together
 * at constant speeds the board derives from the remaining distances), re-aimed by the host along the
 * block's line at every speed level of a staircase ramp and every REAIM_S of the cruise (see
 * startGroup()): separate AccelStepper moves per axis held the faster axis to the slower one's pace
 * on the Uno (28 mm off a 390 mm tangent). The planner is put into exact-stop mode, so every block
 * starts and ends at rest.
 *
 * A block that moves one axis is one AccelStepper move: the board ramps it itself. For such a block
 * of length L (mm) with nominal speed v (mm/s) and acceleration a (mm/s²), the axis moving n steps
 * gets acceleration a·n/L and maximum speed v·n/L (steps/s, steps/s²). (Multi-axis blocks went
 * this way before; useGroup = false still does, for measurements: for each moving axis
 * acceleration and speed (9 bytes each, only when changed), then all `to`s back to back (10 bytes
 * each, most steps first), so the axes start ~1.7 ms apart (corrected with the accelerations:
 * alignStarts()); each axis reports its completion (10 bytes).)
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
 * AccelStepper step, ~65 µs per group step, measured on ConfigurableFirmata 3.4 in simavr): every
 * axis' rate and the sum of the axes' rates are capped (capProfile() for the planner, startGroup()
 * and cruiseIntervals() per block).
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
const PH_GROUP = 9;
/** A group reported done at its final aim: the moving axes' positions are asked to confirm it. */
const PH_GROUP_CONFIRM = 10;
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
/**
 * Blocks moving two or three axes run as a MultiStepper group (see startGroup()). Its timer is a
 * fourth AccelStepper on two pins no driver is wired to (the Uno's 12 and 13; 13 is the LED), which
 * steps at PHANTOM_STEPS_S: AccelStepperFirmata sets a group's speed only through its steppers'
 * maximum speeds, and a maximum speed changed while a stepper runs makes AccelStepper recompute its
 * acceleration ramp on the spot (a jump in that axis' speed until the next group move).
 */
export const PHANTOM_DEVICE = 3;
export const PHANTOM_STEP_PIN = 12;
export const PHANTOM_DIR_PIN = 13;
const PHANTOM_STEPS_S = 500;
/** The group's real axes' maximum speed: above any speed asked, so the phantom sets the group's time. */
const GROUP_AXIS_MAX_S = 4000;
/** A speed level changes each axis' speed by at most this share of its jerkMmS. */
const LEVEL_JERK_SHARE = 0.7;
/** A group move (4 positions, 25 bytes) on the line, s: levels are at least this + 1 ms apart. */
const GROUP_MESSAGE_S = (25 * 10) / FIRMATA_BAUD;
/** A cruise is re-aimed at the block's end this often, s (each re-aim bounds the axes' drift). */
const REAIM_S = 0.02;
/**
 * How far ahead on the line each update aims, mm: several re-aims' travel at the top speed, so a
 * host timer that runs late still finds the group moving. The off-line error of the group's steps
 * (their lateness differs between axes: ~1.5 % of the step ratio on ConfigurableFirmata in simavr)
 * settles at about that error × the lookahead. Tangents' worst deviation on the real firmware at
 * real time: 0.17–0.75 mm with 10 mm (two runs); 0.31–1.35 mm with 60 ms of travel (1–10 mm)
 * instead, which stopped more groups at their aim (fake board: 0.08–0.13 mm either way).
 */
const LOOKAHEAD_MM = 10;
/** Slowest a block's cruise may become (×) to find intervals that keep the drift within CRUISE_DRIFT_MM. */
const CRUISE_MAX_SLOWDOWN = 1.25;

/**
 * What AccelStepperFirmata on a 16 MHz ATmega328p (Arduino Uno) can step, from ConfigurableFirmata
 * 3.4 in simavr (../shared/realchips; docs/targets/johnny-five.md). One axis as an AccelStepper move
 * reached at most 3600–3800 steps/s (shortest interval 262–271 µs where 256 µs was asked): the
 * per-axis cap keeps below that. A MultiStepper group's step costs ~65 µs (two axes held together
 * ran at 5450 steps/s in all), so the CPU no longer sets the total: the group's steps come late by
 * different amounts per axis and the faster the axes, the farther the nozzle settles off the line.
 * On the fake board's long tangents (the test plan in test/johnny-five-target.test.ts) the worst
 * deviation was 0.13 mm with 2400 steps/s in all, 0.24 mm with 3200 (hook 121 at 2.98 mm, under the
 * test's 3 mm) and 0.37 mm with 4000 (machine time 54.2, 48.4, 45.6 s): 2400 is the largest of
 * these that keeps the planned clearance; the real firmware already settles farther off (0.17–0.75
 * mm at 2400).
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
  /** The phantom's board position (it only ever moves forwards, PHANTOM_STEPS_S while a group runs). */
  private phantomPos = 0;
  /** The running group block: update times (µs from its start), phantom targets, real axes' board targets. */
  private grpAt: number[] = [];
  private grpPh: number[] = [];
  private grpNext = 0;
  private grpT0 = 0;
  private grpEndUs = 0;
  private grpTarget: number[] = [0, 0, 0, 0];
  private grpAim: number[] = [];
  private grpFrom: number[] = [0, 0, 0];
  private grpEnd: number[] = [0, 0, 0];
  private grpD: number[] = [0, 0, 0];
  /** Position reports still awaited in PH_GROUP_CONFIRM. */
  private confirmLeft = 0;
  private readonly groupFn: () => void;

  constructor(hal: Hal, m: MachineProfile, planner: Planner, listener: StepperListener, io: FirmataIo) {
    super(hal, m, planner, listener);
    this.io = io;
    this.clock = hal;
    this.owner = listener;
    this.plan = planner;
    this.machine = m;
    planner.lookAhead = false;
    this.seekStepFn = () => this.seekStep();
    this.groupFn = () => this.groupUpdate();
    io.on('multi-stepper-done-0', () => this.onGroupDone());
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
    this.io.accelStepperConfig({ deviceNum: PHANTOM_DEVICE, type: STEPPER_DRIVER, stepPin: PHANTOM_STEP_PIN, directionPin: PHANTOM_DIR_PIN });
    this.io.accelStepperSpeed(PHANTOM_DEVICE, PHANTOM_STEPS_S);
    this.io.multiStepperConfig({ groupNum: 0, devices: [0, 1, 2, PHANTOM_DEVICE] });
    this.send(9 + 9 + 8);
    this.phantomPos = 0;
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
    if (this.phase === PH_GROUP || this.phase === PH_GROUP_CONFIRM) {
      this.io.multiStepperStop(0);
      this.send(5);
    }
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
      let moving = 0;
      for (let i = 0; i < 3; i++) {
        this.moveSign[i] = d[i] > 0 ? 1 : d[i] < 0 ? -1 : 0;
        if (d[i] !== 0) {
          any = true;
          moving++;
        }
      }
      if (moving >= 2 && this.useGroup) {
        this.blockTagNow = tag;
        this.traffic.blocks++;
        this.startGroup(d, t, len, v, acc);
        return;
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

  /** Multi-axis blocks as MultiStepper groups (false: one AccelStepper move per axis, as before; for measurements). */
  useGroup = true;

  /**
   * A block moving two or three axes, as a MultiStepper group: MultiStepper::moveTo gives every
   * stepper of the group the constant speed that makes all arrive together, and runs them by
   * runSpeed() alone. Separate AccelStepper moves drifted off the line: a step costs the Uno ~252 µs
   * (AccelStepper's computeNewSpeed), and an axis due while another one steps waits for it and times
   * its next step from then, so an axis up to ~250 µs per step faster than another was held to the
   * other's pace (X and Y of a 390 mm tangent at 905 and 772 µs both stepped every ~934 µs: 28 mm off
   * the line on ConfigurableFirmata 3.4 in simavr, as in the fake board). A group's step costs ~65 µs
   * and every group move re-aims all axes from where they are at the block's end, so the host:
   * - ramps the block as a staircase of speed levels (each changes every axis' speed by at most
   *   LEVEL_JERK_SHARE of its jerk, at most acc on average, at least GROUP_MESSAGE_S + 1 ms apart),
   *   arriving at the first level's speed;
   * - re-aims the cruise every REAIM_S;
   * - sets each level's speed through the phantom stepper's target: the phantom runs at
   *   PHANTOM_STEPS_S, so a target PHANTOM_STEPS_S·T ahead makes the group take T to arrive.
   * The updates are timed by the host's clock from the first group move; the board's steps come
   * late (its loop), so it runs behind that schedule, never ahead: a level comes early, not late.
   */
  private startGroup(d: number[], t: number[], len: number, vNom: number, acc: number): void {
    let v = vNom;
    let sum = 0;
    let dv = Infinity;
    for (let i = 0; i < 3; i++) {
      const n = Math.abs(d[i]);
      if (n === 0) continue;
      sum += n;
      v = Math.min(v, (UNO_ACCELSTEPPER.axisStepsS * len) / n);
      const a = axisAt(this.machine, i);
      dv = Math.min(dv, (LEVEL_JERK_SHARE * a.jerkMmS * len * a.stepsPerMm) / n);
    }
    v = Math.min(v, (UNO_ACCELSTEPPER.totalStepsS * len) / sum);
    const tau = Math.max(dv / acc, GROUP_MESSAGE_S + 0.001);
    // Levels u_k = k·dv (k < K), u_K = the cruise; K as high as the block's length allows: ramps of
    // K−1 levels up and down, the first level once more at the end (a margin: the board runs late).
    let K = Math.max(1, Math.ceil(v / dv));
    const ramp = (k: number) => (tau * dv * k * (k - 1)) / 2;
    while (K > 1 && 2 * ramp(K) + tau * dv > len) K--;
    const top = K === 1 ? Math.min(v, dv) : Math.min(v, K * dv);
    const at: number[] = [];
    const speed: number[] = [];
    const dur: number[] = [];
    if (K === 1) {
      at.push(0);
      speed.push(top);
      dur.push(len / top);
    } else {
      let time = 0;
      for (let k = 1; k < K; k++) {
        at.push(time);
        speed.push(k * dv);
        dur.push(tau);
        time += tau;
      }
      at.push(time);
      speed.push(top);
      dur.push((len - 2 * ramp(K) - tau * dv) / top);
      time += dur[dur.length - 1];
      for (let k = K - 1; k >= 1; k--) {
        at.push(time);
        speed.push(k * dv);
        dur.push(k === 1 ? 2 * tau : tau);
        time += k === 1 ? 2 * tau : tau;
      }
    }
    // Updates: every level, and every REAIM_S within a longer one. Each aims at the point of the
    // line LOOKAHEAD_MM beyond where the schedule has the nozzle then (the end, once within reach),
    // so an axis that ran behind is pulled back onto the line, not only towards the end.
    let x = 0;
    let total = 0;
    this.grpAt.splice(0, this.grpAt.length);
    this.grpPh.splice(0, this.grpPh.length);
    this.grpAim.splice(0, this.grpAim.length);
    for (let j = 0; j < at.length; j++) {
      const parts = Math.max(1, Math.floor(dur[j] / REAIM_S));
      for (let p = 0; p < parts; p++) {
        const t0 = at[j] + (dur[j] * p) / parts;
        const aim = Math.min(len, x + LOOKAHEAD_MM);
        this.grpAt.push(Math.round(t0 * 1e6));
        this.grpAim.push(aim / len);
        this.grpPh.push(this.phantomPos + Math.max(1, Math.round(PHANTOM_STEPS_S * (t0 + (aim - x) / speed[j]))));
        x += (speed[j] * dur[j]) / parts;
      }
      total = at[j] + dur[j];
    }
    this.grpAim[this.grpAim.length - 1] = 1;
    this.motionSeconds = this.motionSeconds + total;
    for (let i = 0; i < 3; i++) {
      this.grpD[i] = d[i];
      this.grpFrom[i] = this.boardPos[i];
      this.grpEnd[i] = d[i] !== 0 ? this.toBoard(i, t[i]) : this.boardPos[i];
      if (d[i] !== 0 && this.lastSpeed[i] !== GROUP_AXIS_MAX_S) {
        this.io.accelStepperSpeed(i, GROUP_AXIS_MAX_S);
        this.send(9);
        this.lastSpeed[i] = GROUP_AXIS_MAX_S;
      }
      this.pending[i] = false;
    }
    this.grpEndUs = Math.round(total * 1e6);
    this.phase = PH_GROUP;
    this.grpNext = 0;
    this.grpT0 = this.clock.micros();
    this.traffic.blockMoves++;
    this.traffic.blockSteps += sum;
    this.groupUpdate();
  }

  /** Send the group's next update (re-aim at the block's end at the next level's speed) and time the one after. */
  private groupUpdate(): void {
    if (this.phase !== PH_GROUP) return;
    const j = this.grpNext;
    if (j >= this.grpAt.length) return;
    const now = this.clock.micros() - this.grpT0;
    // An update so late that the group may already be done would start it again: skipped.
    if (j > 0 && this.grpAim[j - 1] >= 1 && now > this.grpEndUs - (this.grpEndUs - this.grpAt[this.grpAt.length - 1]) / 2) return;
    const f = this.grpAim[j];
    for (let i = 0; i < 3; i++) this.grpTarget[i] = f >= 1 ? this.grpEnd[i] : this.grpFrom[i] + Math.round(f * (this.grpEnd[i] - this.grpFrom[i]));
    this.grpTarget[3] = this.grpPh[j];
    this.io.multiStepperTo(0, this.grpTarget);
    this.send(25);
    this.traffic.moves++;
    this.grpNext = j + 1;
    if (j + 1 < this.grpAt.length) {
      const wait = this.grpAt[j + 1] - (this.clock.micros() - this.grpT0);
      this.clock.setTimer(wait > 0 ? wait : 0, this.groupFn);
    }
  }

  private onGroupDone(): void {
    if (this.phase !== PH_GROUP) return;
    if (this.grpAim[this.grpNext - 1] < 1) {
      // The group reached an update's aim short of the end before the next update: the host ran
      // late (or the board fast: a test rig's speed-up). Go on at once, from rest.
      this.clock.cancelTimer();
      this.grpT0 = this.clock.micros() - this.grpAt[this.grpNext];
      this.groupUpdate();
      return;
    }
    this.clock.cancelTimer();
    // A group's done report names no move: one can come from an earlier running spell (an update
    // that reached the board after the group had finished makes it run, and report, again). So
    // the moving axes' positions decide: the block is done when they are at its end.
    this.phase = PH_GROUP_CONFIRM;
    this.confirmLeft = 0;
    for (let i = 0; i < 3; i++) {
      if (this.grpD[i] === 0) continue;
      this.confirmLeft++;
      this.io.accelStepperReportPosition(i);
      this.send(5);
    }
    if (this.confirmLeft === 0) this.groupConfirmed();
  }

  private groupConfirmed(): void {
    this.phantomPos = this.grpTarget[3];
    for (let i = 0; i < 3; i++) {
      if (this.grpD[i] === 0) continue;
      this.boardPos[i] = this.grpEnd[i];
      const p = this.fromBoard(i, this.grpEnd[i]);
      this.stepCount = this.stepCount + Math.abs(p - this.pos[i]);
      this.pos[i] = p;
    }
    this.phase = PH_BLOCK;
    this.owner.blockDone(this.blockTagNow);
    this.sendNextBlock();
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
    const moving = (this.phase === PH_BLOCK && this.pending[axis]) || ((this.phase === PH_GROUP || this.phase === PH_GROUP_CONFIRM) && this.grpD[axis] !== 0);
    if (moving && this.moveSign[axis] < 0 && this.limitSwitch[axis]) {
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
    if (this.phase === PH_GROUP_CONFIRM && this.grpD[axis] !== 0 && --this.confirmLeft === 0) {
      let there = true;
      for (let i = 0; i < 3; i++) if (this.grpD[i] !== 0 && this.boardPos[i] !== this.grpEnd[i]) there = false;
      if (there) this.groupConfirmed();
      else this.phase = PH_GROUP; // an earlier spell's report: the group is still on its way
      return;
    }
    if (this.phase !== PH_SEEK_FENCE || axis !== this.seekAx) return;
    this.phase = PH_SEEK_STEP;
    const wait = this.seekStartUs + this.seekGapUs - this.clock.micros();
    this.clock.setTimer(wait > 0 ? wait : 0, this.seekStepFn);
  }
}
