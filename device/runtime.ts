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
  ERR_INPUT_OVERFLOW, ERR_MACHINE_MISMATCH, ERR_NONE, ERR_NOT_HOMED, ERR_PILE_FULL, ERR_SOFT_LIMIT, ERR_STREAM,
  runtimeErrorName,
} from './errors';
import { Stepper, StepperListener } from './stepper';
import {
  AXIS_Z, MachineProfile, axisAt, axisIndex, hookSpacingMm, mmToSteps, homeSign, maxSteps,
} from '../shared/machine';
import { flankDirection, wrapDirection } from '../shared/geometry/wrap';
import { Planner } from '../shared/motion/planner';
import { JobPath, PT_STRIDE, PathMaker } from '../shared/motion/job';
import { Pile } from '../shared/motion/pile';
import { EV_COLOR, EV_END, EV_HEADER, EV_HOOK, DecoderField, StreamDecoder } from '../shared/stream/decoder';

/** Makes the runtime's motion executor (the Runtime constructor's makeStepper). */
export type StepperFactory = (hal: Hal, machine: MachineProfile, planner: Planner, listener: StepperListener) => Stepper;

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
  /** Look-ahead off: exact stop at the end of every block (for comparison; not a fault). */
  exactStop: boolean;
}

export function noFaults(): RuntimeFaults {
  return { skipHook: -1, reverseWrap: -1, skipHoming: false, ignoreSoftLimits: false, speedFactor: 1, exactStop: false };
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
  /** Highest thread pile on any hook (mm) and the nozzle's run height above the board (mm). */
  pileMm: number;
  runHeightMm: number;
  /** Line stored in flash at boot (−1: none): where an interrupted piece can resume (startAt). */
  storedLine: number;
  /** Planned motion time executed so far, s. */
  motionSeconds: number;
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
  private color = 0;
  private pendingColor = -1;
  private planner: Planner;
  private path: PathMaker;
  private pile: Pile;
  private wpCount = 0;
  private wpIndex = 0;
  /** Hook whose path is in the point buffer (its last point carries the tag), −1 none. */
  private wpHook = -1;
  private started = false;
  private finished = false;
  /** Stop adding motion: 1 pause (colour change or operator), 2 abort. */
  private hold = 0;
  private skipUntil = 0;
  private storedLine = -1;
  private lastSaved = 0;
  private machineHash = 0;
  /** Stream indices per hook: 1 (an index is a hook), 2 (format 5: index = 2·hook + flank). */
  private flanks = 1;
  /** The decoder may hold more operations from the last byte (format 4). */
  private decoderBusy = false;
  private homeOrder: number[] = [];
  private homeIdx = 0;
  private homePhase = H_START;
  private travelZ = 0;

  /**
   * path: the machine's path maker (default JobPath, the gantry's; a ring passes RingPath).
   * makeStepper: the motion executor (default Stepper: step pulses through the HAL); a host-side
   * target that sends whole moves to a board (device/johnny-five) passes its own Stepper.
   */
  constructor(hal: Hal, machine: MachineProfile, faults?: RuntimeFaults, path?: PathMaker, makeStepper?: StepperFactory) {
    this.hal = hal;
    this.m = machine;
    this.faults = faults ? faults : noFaults();
    this.planner = new Planner(machine);
    this.planner.speedFactor = this.faults.speedFactor;
    this.planner.lookAhead = !this.faults.exactStop;
    this.stepper = makeStepper ? makeStepper(hal, machine, this.planner, this) : new Stepper(hal, machine, this.planner, this);
    this.stepper.checkLimits = !this.faults.ignoreSoftLimits;
    this.path = path ? path : new JobPath(machine);
    for (let i = 0; i < 3; i++) this.stepper.limitSwitch[i] = axisAt(machine, i).rotary !== true;
    this.pile = new Pile(machine);
    for (let i = 0; i < QUEUE_SIZE; i++) this.queue.push(0);
  }

  /**
   * The profile hash this device was configured with (shared/machine-hash.ts, computed by the host
   * when it writes the device's profile); a stream whose header names another machine is refused.
   * 0 = do not check.
   */
  setMachineHash(hash: number): void {
    this.machineHash = hash;
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
    this.storedLine = this.hal.storageRead('line');
    if (this.storedLine >= 0) this.hal.print('stored line ' + this.storedLine);
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
    const p = this.stepper.pos;
    this.planner.reset(p[0], p[1], p[2]);
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
    return (s === ST_IDLE || s === ST_RUNNING || s === ST_PAUSED) && this.qCount < QUEUE_SIZE && !this.decoderBusy;
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
    if (s !== ST_DONE && (this.qCount >= QUEUE_SIZE || this.decoderBusy)) {
      this.alarm(ERR_INPUT_OVERFLOW, 0);
      return false;
    }
    const ok = this.onEvent(this.decoder.push(byte));
    if (ok) this.drainDecoder();
    if (this.state === ST_RUNNING) this.advance();
    return ok;
  }

  /**
   * Take further operations the last byte completed (a format 4 decoder can complete several per
   * byte: next() until EV_NONE) while the queue has room; otherwise they wait in the decoder and
   * canAccept() stays false until advance() has made room.
   */
  private drainDecoder(): void {
    const d = this.decoder;
    this.decoderBusy = true;
    while (this.qCount < QUEUE_SIZE && this.state !== ST_ALARM) {
      const ev = d.next();
      if (ev === 0) {
        this.decoderBusy = false;
        return;
      }
      if (!this.onEvent(ev)) return;
    }
  }

  /** One decoder event; false on an error (the alarm is raised). */
  private onEvent(ev: number): boolean {
    if (ev < 0) {
      this.alarm(ERR_STREAM, ev);
      return false;
    }
    if (ev === EV_HEADER) {
      this.flanks = this.decoder.flanks();
      if (this.decoder.get(DecoderField.HOOK_COUNT) !== this.m.hooks.count * this.flanks) {
        this.alarm(ERR_HOOK_COUNT, this.decoder.get(DecoderField.HOOK_COUNT));
        return false;
      }
      const hash = this.decoder.get(DecoderField.MACHINE_HASH);
      if (this.machineHash !== 0 && hash !== 0 && hash !== this.machineHash) {
        this.alarm(ERR_MACHINE_MISMATCH, 0);
        return false;
      }
      this.lineCount = this.decoder.lineCount();
      this.setState(ST_RUNNING);
    } else if (ev === EV_HOOK) {
      this.enqueue(this.decoder.hook());
    } else if (ev === EV_COLOR) {
      const op = -(this.decoder.color() + 1);
      // Consecutive colour changes collapse into the last one, so the queue always has room for the
      // hooks after the next one (the wrap directions need them).
      if (this.qCount > 0 && this.queue[(this.qHead + this.qCount - 1) % QUEUE_SIZE] < 0) {
        this.queue[(this.qHead + this.qCount - 1) % QUEUE_SIZE] = op;
      } else this.enqueue(op);
    } else if (ev === EV_END) {
      this.endSeen = true;
    }
    return true;
  }

  /** Continue after a thread change or an operator pause (PAUSED → RUNNING), on the same line. */
  resume(): boolean {
    if (this.state !== ST_PAUSED) return false;
    if (this.pendingColor >= 0) this.color = this.pendingColor;
    this.pendingColor = -1;
    this.hold = 0;
    this.setState(ST_RUNNING);
    this.advance();
    return true;
  }

  /**
   * Operator pause: queue no more motion, let the planned blocks decelerate to a stop (at most
   * PLANNER_BLOCKS blocks ahead), then PAUSED until resume().
   */
  pause(): boolean {
    if (this.state !== ST_RUNNING) return false;
    if (this.hold === 0) this.hold = 1;
    if (!this.stepper.busy) this.advance();
    return true;
  }

  /**
   * Jog: move one axis (0 x, 1 y, 2 z) by `steps` at its speed and acceleration limits. Only when
   * homed and at rest with no job (IDLE or DONE); a target outside the axis' travel is refused and
   * nothing moves (a rotary axis has no travel limits). The state does not change.
   */
  jog(axis: number, steps: number): boolean {
    const s = this.state;
    if ((s !== ST_IDLE && s !== ST_DONE) || this.stepper.busy) return false;
    if (axis < 0 || axis > 2 || steps === 0 || Math.floor(steps) !== steps) return false;
    const a = axisAt(this.m, axis);
    const p = this.stepper.pos;
    const to = p[axis] + steps;
    if (a.rotary !== true && (to < mmToSteps(a, a.travelMinMm) || to > mmToSteps(a, a.travelMaxMm))) return false;
    this.planner.reset(p[0], p[1], p[2]);
    this.planner.add(axis === 0 ? to : p[0], axis === 1 ? to : p[1], axis === 2 ? to : p[2], 0, 0, -1);
    this.stepper.kick();
    return true;
  }

  /** Abort the job: decelerate to a stop like pause(), then drop the job and go IDLE (still homed). */
  abort(): boolean {
    const s = this.state;
    if (s !== ST_RUNNING && s !== ST_PAUSED) return false;
    if (s === ST_PAUSED) {
      // Already at rest (PAUSED is entered only with the stepper idle and the planner empty), and
      // advance() does nothing outside RUNNING: drop the job now.
      this.saveProgress();
      this.resetJob();
      this.hal.print('aborted');
      this.setState(ST_IDLE);
      return true;
    }
    this.hold = 2;
    if (!this.stepper.busy) this.advance();
    return true;
  }

  /**
   * Resume an interrupted piece (IDLE, before the stream): the first `line` hooks of the stream are
   * taken as already wrapped (their pile counted), motion starts at hook number `line`.
   */
  startAt(line: number): boolean {
    if (this.state !== ST_IDLE || line < 0) return false;
    this.skipUntil = line;
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
      pileMm: this.pile.maxMm(),
      runHeightMm: this.pile.runHeightMm(),
      storedLine: this.storedLine,
      motionSeconds: this.stepper.motionSeconds,
    };
  }

  // StepperListener
  blockDone(tag: number): void {
    if (tag >= 0) {
      this.lastHook = tag;
      this.hooksWrapped = this.hooksWrapped + 1;
      const line = this.hooksWrapped - 1;
      if (line - this.lastSaved >= PROGRESS_EVERY) this.saveProgress();
    }
    if (this.state === ST_RUNNING) this.advance();
  }

  blockTaken(): void {
    if (this.state === ST_RUNNING) this.advance();
  }

  motionDone(): void {
    if (this.state === ST_HOMING) this.homeStep();
    else if (this.state === ST_RUNNING) this.advance();
  }

  endstopHit(axis: number): void {
    this.alarm(ERR_ENDSTOP_HIT, axis);
  }

  limitHit(axis: number): void {
    this.alarm(ERR_SOFT_LIMIT, this.wpHook);
  }

  // ---- job --------------------------------------------------------------------------------

  private resetJob(): void {
    this.decoder.reset();
    this.decoderBusy = false;
    this.qHead = 0;
    this.qCount = 0;
    this.endSeen = false;
    this.lineCount = 0;
    this.hooksStarted = 0;
    this.hooksWrapped = 0;
    this.prevHook = -1;
    this.lastHook = -1;
    this.color = 0;
    this.pendingColor = -1;
    this.wpCount = 0;
    this.wpIndex = 0;
    this.wpHook = -1;
    this.started = false;
    this.finished = false;
    this.hold = 0;
    this.lastSaved = 0;
    this.pile.reset();
    this.path.reset();
    const p = this.stepper.pos;
    this.planner.reset(p[0], p[1], p[2]);
  }

  private enqueue(op: number): void {
    this.queue[(this.qHead + this.qCount) % QUEUE_SIZE] = op;
    this.qCount = this.qCount + 1;
  }

  private dequeue(): void {
    this.qHead = (this.qHead + 1) % QUEUE_SIZE;
    this.qCount = this.qCount - 1;
  }

  /** The k-th hook (0-based) in the op queue after its head, skipping colours; −1 if not there. */
  private queuedHook(k: number): number {
    let seen = 0;
    for (let i = 1; i < this.qCount; i++) {
      const op = this.queue[(this.qHead + i) % QUEUE_SIZE];
      if (op >= 0) {
        if (seen === k) return op;
        seen = seen + 1;
      }
    }
    return -1;
  }

  /** The hook a stream index names. */
  private hookOf(op: number): number {
    return op < 0 || this.flanks === 1 ? op : Math.floor(op / this.flanks);
  }

  /**
   * Winding direction of the hook op (a stream index) by its sequence index, with the test fault
   * applied: the planned flank's (format 5: flank 0 winds +1, flank 1 winds −1, docs/runtime.md),
   * else the way the thread turns from prev to next.
   */
  private dirFor(index: number, prev: number, op: number, nextOp: number): number {
    const d = this.flanks === 2 ? flankDirection(op) : wrapDirection(this.m, prev, op, nextOp);
    return index === this.faults.reverseWrap ? -d : d;
  }

  /**
   * Keep the planner full: copy buffered path points into it, and when the buffer is empty make the
   * next piece of path (start, a hook, the finish), pause at a colour change, or finish the job.
   * Called whenever something changed (input, a block done, motion at rest).
   */
  private advance(): void {
    const pl = this.planner;
    for (;;) {
      if (this.state !== ST_RUNNING) return;
      if (this.decoderBusy && this.qCount < QUEUE_SIZE) this.drainDecoder();
      while (this.wpIndex < this.wpCount && !pl.full()) {
        const i = this.wpIndex * PT_STRIDE;
        const pts = this.path.pts;
        this.wpIndex = this.wpIndex + 1;
        const tag = this.wpIndex === this.wpCount ? this.wpHook : -1;
        if (pts[i + 4] < 0) pl.addDwell(pts[i + 3], pts[i], pts[i + 1], tag);
        else pl.add(pts[i], pts[i + 1], pts[i + 2], pts[i + 3], pts[i + 4], tag);
      }
      if (this.wpIndex < this.wpCount) break; // planner full
      if (this.hold !== 0) {
        if (!this.stepper.busy && pl.count === 0) {
          if (this.hold === 2) {
            this.saveProgress();
            this.resetJob();
            this.hal.print('aborted');
            this.setState(ST_IDLE);
            return;
          }
          this.saveProgress();
          this.setState(ST_PAUSED);
          return;
        }
        break;
      }
      if (!this.nextPiece()) break;
    }
    if (this.state === ST_RUNNING) this.stepper.kick();
  }

  /** Put the next piece of path into the point buffer; false when there is none yet. */
  private nextPiece(): boolean {
    const m = this.m;
    this.wpHook = -1;
    if (!this.started) {
      // The first piece starts where the planner's last block ends (the machine is at rest there).
      const pl = this.planner;
      this.started = true;
      this.wpCount = this.path.start(
        pl.px / m.axes.x.stepsPerMm - m.board.originMm[0], pl.py / m.axes.y.stepsPerMm - m.board.originMm[1],
        m.wrap.travelHeightMm, this.pile.runHeightMm(),
      );
      this.wpIndex = 0;
      return this.checkPoints(-1);
    }
    // Colour changes at the head of the queue.
    while (this.qCount > 0 && this.queue[this.qHead] < 0) {
      const c = -this.queue[this.qHead] - 1;
      this.dequeue();
      if (this.hooksStarted > 0 && c !== this.color) {
        this.pendingColor = c;
        this.hold = 1;
        return true;
      }
      this.color = c;
    }
    if (this.qCount === 0) {
      if (this.endSeen && !this.finished) {
        this.finished = true;
        this.wpCount = this.path.finish(this.pile.runHeightMm(), m.wrap.travelHeightMm);
        this.wpIndex = 0;
        return this.checkPoints(-1);
      }
      if (this.endSeen && !this.stepper.busy && this.planner.count === 0) {
        this.saveProgress();
        this.setState(ST_DONE);
      }
      return false;
    }
    const op = this.queue[this.qHead];
    const nextOp = this.queuedHook(0);
    const nextOp2 = this.queuedHook(1);
    // The wrap directions of this hook and of the next need the two hooks after it (or the end).
    if (nextOp2 < 0 && !this.endSeen) return false;
    const hook = this.hookOf(op);
    const next = this.hookOf(nextOp);
    const index = this.hooksStarted;
    this.hooksStarted = index + 1;
    this.dequeue();
    if (index < this.skipUntil) {
      // Resuming a piece: this hook was wrapped before the interruption.
      this.pile.add(hook);
      this.hooksWrapped = this.hooksWrapped + 1;
      this.lastHook = hook;
      this.prevHook = hook; // the thread comes from this hook: the next wrap turns the planned way
      this.path.reset();
      return true;
    }
    // (No `continue` anywhere: Lua 5.1 has none.) A skipped hook (test fault) is just dropped.
    if (index === this.faults.skipHook) return true;
    const dir = this.dirFor(index, this.prevHook, op, nextOp);
    let nextDir = 0;
    let nextIndex = index + 1;
    if (nextIndex === this.faults.skipHook) nextIndex = nextIndex + 1;
    if (next >= 0) nextDir = this.dirFor(nextIndex, hook, nextOp, nextOp2);
    this.pile.add(hook);
    if (!this.pile.fits()) {
      this.alarm(ERR_PILE_FULL, hook);
      return false;
    }
    this.wpCount = this.path.hook(hook, dir, next, nextDir, this.pile.runHeightMm());
    this.wpIndex = 0;
    this.wpHook = hook;
    this.prevHook = hook;
    return this.checkPoints(hook);
  }

  /** Soft limits: refuse a piece of path with any point outside the travel (nothing of it moves). */
  private checkPoints(hook: number): boolean {
    if (this.faults.ignoreSoftLimits) return true;
    const st = this.stepper;
    const pts = this.path.pts;
    for (let i = 0; i < this.wpCount; i++) {
      const j = i * PT_STRIDE;
      if (pts[j + 4] >= 0 && !st.inTravel(0, pts[j]) || !st.inTravel(1, pts[j + 1]) || !st.inTravel(2, pts[j + 2])) {
        this.wpCount = 0;
        this.wpIndex = 0;
        this.alarm(ERR_SOFT_LIMIT, hook);
        return false;
      }
    }
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
      this.planner.reset(st.pos[0], st.pos[1], st.pos[2]);
      this.setState(ST_IDLE);
      return;
    }
    const axis = this.homeOrder[this.homeIdx];
    const a = axisAt(this.m, axis);
    const seekRate = a.homing.seekSpeedMmS * a.stepsPerMm;
    const latchRate = a.homing.latchSpeedMmS * a.stepsPerMm;
    const backoff = mmToSteps(a, a.homing.backoffMm);
    const phase = this.homePhase;
    const toward = homeSign(a);
    if (phase === H_START && st.endstopPressed(axis)) {
      this.homePhase = H_CLEAR;
      st.seek(axis, -toward, seekRate, backoff, false);
      return;
    }
    if (phase === H_START || phase === H_CLEAR) {
      if (phase === H_CLEAR && st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      this.homePhase = H_SEEK;
      // A rotary axis finds its home sensor within a turn (its "travel" is how far it may wind).
      const span = a.rotary === true ? 360 : a.travelMaxMm - a.travelMinMm;
      const range = mmToSteps(a, span + 2 * a.homing.backoffMm);
      st.seek(axis, toward, seekRate, Math.floor(range * 1.2) + 10, true);
      return;
    }
    if (phase === H_SEEK) {
      if (!st.seekFound) {
        this.alarm(ERR_HOMING_FAILED, axis);
        return;
      }
      this.homePhase = H_BACKOFF;
      st.seek(axis, -toward, seekRate, backoff, false);
      return;
    }
    if (phase === H_BACKOFF) {
      if (st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      this.homePhase = H_LATCH;
      st.seek(axis, toward, latchRate, 2 * backoff + 10, true);
      return;
    }
    if (phase === H_LATCH) {
      if (!st.seekFound) {
        this.alarm(ERR_HOMING_FAILED, axis);
        return;
      }
      st.pos[axis] = toward > 0 ? maxSteps(a) : 0;
      this.homePhase = H_FINAL;
      st.seek(axis, -toward, latchRate, backoff, false);
      return;
    }
    if (phase === H_FINAL) {
      if (st.endstopPressed(axis)) {
        this.alarm(ERR_ENDSTOP_STUCK, axis);
        return;
      }
      // Z homed at its minimum ends low: lift before x and y move. Homed at its maximum it stays
      // high until the job's first move brings it down at a known position.
      if (axis === AXIS_Z && toward < 0 && st.pos[AXIS_Z] !== this.travelZ) {
        this.homePhase = H_LIFT;
        this.planner.reset(st.pos[0], st.pos[1], st.pos[2]);
        this.planner.add(st.pos[0], st.pos[1], this.travelZ, 0, 0, -1);
        st.kick();
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

  /** Progress to flash: every PROGRESS_EVERY lines, at pause, done, abort and alarm. */
  private saveProgress(): void {
    const line = this.hooksWrapped > 0 ? this.hooksWrapped - 1 : 0;
    this.lastSaved = line;
    this.hal.storageWrite('line', line);
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
    if (this.homeOrder.length < 1) return 1;
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

