/**
 * StepOutput on the ESP8266's gpio.pulse (app/modules/gpio_pulse.c in nodemcu-firmware, release
 * branch): step segments become stages of ONE pulse program, a single timeline for all pins that
 * the FRC1 timer interrupt runs, while Lua links new stages in ahead of it. docs/targets/nodemcu.md
 * ("Step generation") has the firmware facts this relies on; in short:
 * - a program has at most 100 stages; a stage sets/clears its pins, waits `delay` µs (integer), then
 *   goes to the next stage or, with `loop`, to stage `loop` while its hidden counter lasts (a goto
 *   for about 2^31 visits with count = 2^31 − 1);
 * - update() replaces delay/loop/count of a stage atomically, but OR-s pins into its masks: a
 *   stage's pins are fixed when the program is built, so every stage has one job forever;
 * - a stage's delay and goto are taken when it STARTS: linking must happen before that;
 * - stages with delay < 3 run back to back inside the same interrupt;
 * - min/max make a stage's delay absorb the interrupt's lateness against the program's own
 *   schedule (desired_end_time), which start() never resets: stage 1 {delay 0, min 0, max 0}
 *   re-anchors it.
 *
 * Program (100 stages): 1 SYNC, 2 LEAD (the wait from start() to the first step), 3 IDLE (a
 * self-loop where a chain that ran out ends), then per axis a DIR+ and a DIR− stage and PAIRS
 * step pairs: A {STEP high, delay = pulse} falling through to B {STEP low, delay = gap to the
 * next event, goto the next event's first stage}. Events (one step of one axis) are linked in
 * time order over all axes: the merged timeline. A chain that reaches IDLE is cancelled and,
 * when more steps come, restarted through SYNC/LEAD with the wait computed from the clock; a
 * restart whose first step is already due passes the lateness to start() as a negative adjust,
 * which the firmware cannot absorb (LEAD clamps at min 0): the shim reports that as a late step.
 *
 * Limits that follow: PAIRS (15) steps in flight per axis; coincident steps of different axes
 * are serialised (each pair takes ≥ pulse + MIN_GAP_US); Lua work per step (two update() calls),
 * which is what bounds the step rate on an 80 MHz ESP8266 (measured in docs).
 */
import { StepOutput } from '../hal';
import { SegmentQueue } from './segments';

/** gpio_pulse.c: "table is too large: %d entries is more than 100". */
export const PULSE_MAX_STAGES = 100;
/** Stage 1 re-anchors the schedule (built first; never linked to). */
export const PULSE_SYNC = 1;
const LEAD = 2;
const IDLE = 3;
const AXIS_BASE = 4;
/** Step pairs per axis: 4 + 3 × (2 + 2 × 15) = 100 stages. */
export const PULSE_PAIRS = 15;
const PER_AXIS = 2 + 2 * PULSE_PAIRS;
/** A goto that holds for ~2^31 visits (count is a C int in fill_entry_from_table). */
const FOREVER = 2147483647;
/** gpio_pulse.c DELAY_LIMIT. */
const DELAY_LIMIT = 64000000;
/** The self-loop's period (µs). */
const IDLE_US = 1000;
/** Delays below 3 µs are not timed (the interrupt runs the next stage at once). */
const MIN_TIMED_US = 3;
/** DIR is set this long before the step (µs; a timed stage). */
export const PULSE_DIR_SETUP_US = 3;
/**
 * Smallest gap from one event's STEP low to the next event (µs). B must absorb the lateness its
 * interrupt has against the schedule (two timer re-arms, ~10 µs by the shim's estimate): a B whose
 * delay would go below its min 0 is clamped and the firmware forgets the rest of the lateness.
 */
export const PULSE_MIN_GAP_US = 12;
/** After an event with a DIR stage (one more non-adjustable stage, one more re-arm), its B needs this much more. */
const TURN_GAP_US = 6;
/** How often Lua links stages (ms, tmr alarm). */
export const PULSE_FEED_MS = 1;
/** Segments queued per axis in Lua. */
const QUEUE = 96;
const RING = 3 * PULSE_PAIRS + 8;
/** ESP8266 NodeMCU pins 0..12 (gpio_pulse.c GPIO_PIN_NUM); others (a ring's unused axes) get no pins. */
const PIN_COUNT = 13;

export class PulseStepOutput implements StepOutput {
  leadUs = 40000;
  refillUs = 20000;
  /** Compression error the stepper may add; serialisation of coincident steps comes on top (docs). */
  maxErrorUs = 3;
  tickUs = 1;
  /** Statistics: events linked, restarts, late restarts. */
  linked = 0;
  restarts = 0;

  private clock: (this: void) => number;
  private stepPin: number[] = [-1, -1, -1];
  private dirPin: number[] = [-1, -1, -1];
  private plus: number[] = [1, 1, 1];
  private widthUs = MIN_TIMED_US;
  private q: SegmentQueue[] = [];
  private pushedEnd: number[] = [0, 0, 0];
  private pulser: NodeMcuPulser | undefined = undefined;
  private feeder: NodeMcuTimer;
  private feedFn: (this: void) => void;
  private doneFn: (this: void) => void;
  private running = false;
  private on = false;
  private startUs = 0;
  /** Generator time of the stepper's last refill (position() is its first call). */
  private refillGen = 0;
  // In-flight events (a ring): axis, A stage, DIR stage (0: none), sign, link time (start of its first stage).
  private evAxis: number[] = [];
  private evA: number[] = [];
  private evD: number[] = [];
  private evSign: number[] = [];
  private evLink: number[] = [];
  private evHead = 0;
  private evCount = 0;
  /** Stage → ring slot of the event using it, −1 when free. */
  private stageEv: number[] = [];
  private pairNext: number[] = [0, 0, 0];
  /** Direction of the axis' last linked step (the DIR pin's level then), 0 unknown. */
  private dirLinked: number[] = [0, 0, 0];
  private made: number[] = [0, 0, 0];
  /** The open end of the chain: the stage whose delay/goto the next event sets, and when it starts (generator µs). */
  private tail = LEAD;
  private tailStart = 0;
  /** The least delay the tail B may get (it must absorb the lateness of the stages before it). */
  private tailGap = PULSE_MIN_GAP_US;
  /** The event being made (A or B active): its axis and sign, for position(). */
  private partAxis = -1;
  private partSign = 0;

  constructor(clock: (this: void) => number) {
    this.clock = clock;
    for (let a = 0; a < 3; a++) this.q.push(new SegmentQueue(QUEUE));
    for (let i = 0; i < RING; i++) {
      this.evAxis.push(0);
      this.evA.push(0);
      this.evD.push(0);
      this.evSign.push(0);
      this.evLink.push(0);
    }
    for (let s = 0; s <= PULSE_MAX_STAGES; s++) this.stageEv.push(-1);
    this.feeder = tmr.create();
    this.feedFn = () => this.feed();
    this.doneFn = () => {};
  }

  setup(axis: number, stepPin: number, dirPin: number, plusLevel: number, pulseUs: number): void {
    this.stepPin[axis] = stepPin;
    this.dirPin[axis] = dirPin;
    this.plus[axis] = plusLevel;
    const w = Math.ceil(pulseUs);
    if (w > this.widthUs) this.widthUs = w;
    this.pulser = undefined;
  }

  /** Feed the primitive now (the HAL calls it while it busy-waits). */
  poll(): void {
    this.feed();
  }

  /** Whether it is running (between start() and stop()). */
  active(): boolean {
    return this.running;
  }

  free(axis: number): number {
    return this.q[axis].free();
  }

  start(atUs: number): void {
    this.stop();
    if (this.pulser === undefined) this.pulser = this.build();
    this.running = true;
    this.startUs = atUs;
    this.refillGen = this.clock() - atUs;
    for (let a = 0; a < 3; a++) {
      this.q[a].reset();
      this.pushedEnd[a] = 0;
      this.made[a] = 0;
      this.dirLinked[a] = 0;
    }
    this.feeder.alarm(PULSE_FEED_MS, tmr.ALARM_AUTO, this.feedFn);
    // The stepper pushes its first segments right after start(): link them as soon as it returns.
    if (node.task !== undefined) node.task.post(node.task.LOW_PRIORITY, this.feedFn);
  }

  push(axis: number, dir: number, interval: number, count: number, add: number): void {
    this.q[axis].push(dir, interval, count, add);
    // Exact end of the segment (for the horizon of what is known on every axis).
    this.pushedEnd[axis] = this.pushedEnd[axis] + count * interval + (add * count * (count - 1)) / 2;
  }

  position(axis: number): number {
    if (this.running) {
      if (axis === 0) this.refillGen = this.clock() - this.startUs;
      this.sync();
    }
    let p = this.made[axis];
    if (this.partAxis === axis) p = p + this.partSign;
    return p;
  }

  stop(): void {
    if (this.running) this.sync();
    this.running = false;
    this.feeder.stop();
    if (this.on && this.pulser !== undefined) this.pulser.cancel();
    this.on = false;
    if (this.partAxis >= 0) this.made[this.partAxis] = this.made[this.partAxis] + this.partSign;
    this.partAxis = -1;
    for (let i = 0; i < this.evCount; i++) this.release((this.evHead + i) % RING);
    this.evCount = 0;
    this.tail = LEAD;
    // A pulse cut short leaves its STEP pin high.
    for (let a = 0; a < 3; a++) if (this.stepPin[a] >= 0 && this.stepPin[a] < PIN_COUNT) gpio.write(this.stepPin[a], gpio.LOW);
  }

  /** The program: stages whose pins never change (update() cannot clear a pin from a stage). */
  private build(): NodeMcuPulser {
    const p: PulseStage[] = [];
    p.push({ delay: 0, min: 0, max: 0 });
    p.push({ delay: 0, min: 0, max: DELAY_LIMIT, loop: IDLE, count: FOREVER });
    p.push({ delay: IDLE_US, loop: IDLE, count: FOREVER });
    for (let a = 0; a < 3; a++) {
      const used = this.stepPin[a] >= 0 && this.stepPin[a] < PIN_COUNT && this.dirPin[a] >= 0 && this.dirPin[a] < PIN_COUNT;
      const dplus: PulseStage = { delay: PULSE_DIR_SETUP_US, loop: IDLE, count: FOREVER };
      const dminus: PulseStage = { delay: PULSE_DIR_SETUP_US, loop: IDLE, count: FOREVER };
      if (used) {
        dplus[this.dirPin[a]] = this.plus[a];
        dminus[this.dirPin[a]] = 1 - this.plus[a];
      }
      p.push(dplus);
      p.push(dminus);
      for (let j = 0; j < PULSE_PAIRS; j++) {
        const hi: PulseStage = { delay: this.widthUs };
        const lo: PulseStage = { delay: 0, min: 0, max: DELAY_LIMIT, loop: IDLE, count: FOREVER };
        if (used) {
          hi[this.stepPin[a]] = 1;
          lo[this.stepPin[a]] = 0;
        }
        p.push(hi);
        p.push(lo);
      }
    }
    return gpio.pulse!.build(p);
  }

  private release(k: number): void {
    const a = this.evA[k];
    this.stageEv[a] = -1;
    this.stageEv[a + 1] = -1;
    if (this.evD[k] > 0) this.stageEv[this.evD[k]] = -1;
  }

  private retireHead(): void {
    const k = this.evHead;
    const axis = this.evAxis[k];
    this.made[axis] = this.made[axis] + this.evSign[k];
    this.release(k);
    this.evHead = (k + 1) % RING;
    this.evCount = this.evCount - 1;
  }

  /** Read the program's position: retire the events it has passed. */
  private sync(): void {
    this.partAxis = -1;
    if (!this.on) return;
    const pos = this.pulser!.getstate();
    if (pos === undefined || pos === IDLE) {
      // The chain ran out: cancel it. Events whose time has not come were linked too late; they
      // stay queued and the chain restarts with them.
      this.pulser!.cancel();
      this.on = false;
      const now = this.clock() - this.startUs;
      while (this.evCount > 0 && this.evLink[this.evHead] + PULSE_DIR_SETUP_US <= now) this.retireHead();
      return;
    }
    const k = this.stageEv[pos];
    if (k < 0) return; // SYNC or LEAD
    while (this.evHead !== k) this.retireHead();
    if (pos === this.evA[k] || pos === this.evA[k] + 1) {
      this.partAxis = this.evAxis[k];
      this.partSign = this.evSign[k];
    }
  }

  /** Link queued steps into the program (and start it); run by the feeder alarm. */
  private feed(): void {
    if (!this.running) return;
    this.sync();
    const p = this.pulser!;
    // Only steps before this time are known on every axis (the stepper queues all axes up to its horizon).
    let horizon = this.refillGen + this.leadUs;
    for (let a = 0; a < 3; a++) if (this.q[a].free() <= 0 && this.pushedEnd[a] < horizon) horizon = this.pushedEnd[a];
    if (!this.on && this.evCount === 0) this.tail = LEAD;
    for (;;) {
      let a = -1;
      let t = 0;
      for (let i = 0; i < 3; i++) {
        const n = this.q[i].next;
        if (n >= 0 && (a < 0 || n < t)) {
          a = i;
          t = n;
        }
      }
      if (a < 0 || t > horizon || this.evCount >= RING) break;
      const sq = this.q[a];
      const j = this.pairNext[a];
      const stageA = AXIS_BASE + a * PER_AXIS + 2 + 2 * j;
      if (this.stageEv[stageA] >= 0) break;
      const sign = sq.nextDir > 0 ? 1 : -1;
      const turn = sign !== this.dirLinked[a];
      const stageD = AXIS_BASE + a * PER_AXIS + (sign > 0 ? 0 : 1);
      if (turn && this.stageEv[stageD] >= 0) break;
      const dirUs = turn ? PULSE_DIR_SETUP_US : 0;
      let link = Math.floor(t + 0.5) - dirUs;
      if (this.tail !== LEAD && link < this.tailStart + this.tailGap) link = this.tailStart + this.tailGap;
      // The new pair's B ends the chain until the next event is linked.
      // (Its delay covers its lateness: a chain that runs out reaches IDLE without a clamp.)
      p.update(stageA + 1, { delay: PULSE_MIN_GAP_US + TURN_GAP_US, loop: IDLE });
      let first = stageA;
      if (turn) {
        p.update(stageD, { loop: stageA });
        first = stageD;
        this.dirLinked[a] = sign;
      }
      // Publish: the open end of the chain goes to the new event.
      if (this.tail !== LEAD) p.update(this.tail, { delay: link - this.tailStart, loop: first });
      const k = (this.evHead + this.evCount) % RING;
      this.evAxis[k] = a;
      this.evA[k] = stageA;
      this.evD[k] = turn ? stageD : 0;
      this.evSign[k] = sign;
      this.evLink[k] = link;
      this.evCount = this.evCount + 1;
      this.stageEv[stageA] = k;
      this.stageEv[stageA + 1] = k;
      if (turn) this.stageEv[stageD] = k;
      this.pairNext[a] = (j + 1) % PULSE_PAIRS;
      this.tail = stageA + 1;
      this.tailStart = link + dirUs + this.widthUs;
      this.tailGap = turn ? PULSE_MIN_GAP_US + TURN_GAP_US : PULSE_MIN_GAP_US;
      this.linked = this.linked + 1;
      sq.pop();
    }
    if (!this.on && this.evCount > 0) this.begin();
  }

  /** Start the program at the chain's first event: SYNC, then LEAD waits until its link time. */
  private begin(): void {
    const p = this.pulser!;
    const k = this.evHead;
    const first = this.evD[k] > 0 ? this.evD[k] : this.evA[k];
    const nowAt = this.clock() - this.startUs;
    let wait = Math.floor(this.evLink[k] - nowAt);
    let late = 0;
    if (wait < 0) {
      late = wait;
      wait = 0;
    }
    p.update(LEAD, { delay: wait, loop: first });
    this.restarts = this.restarts + 1;
    this.on = true;
    // A negative adjust is lateness the firmware must absorb in its next adjustable stages.
    p.start(late, this.doneFn);
  }
}
