/**
 * StepOutput on the ESP32's RMT peripheral through NodeMCU's `rmt` module (components/modules/rmt.c,
 * dev-esp32 branch). docs/targets/nodemcu.md ("Step generation") has the firmware facts; in short:
 * - rmt.txsetup(gpio, bittime_ps, {idle_level}) takes a TX channel (8 on the ESP32) with a tick of
 *   bittime / 12 500 ps cycles of 80 MHz (1..255): here 1 µs (divisor 80);
 * - channel:send(data, cb) transmits 16-bit items (bit 15 the level, bits 0-14 the ticks, 1..32767;
 *   0 ends the train), then holds idle_level. The driver (rmt_write_items) takes the channel's
 *   semaphore first: a send on a busy channel BLOCKS the Lua task until the running transmission
 *   ends, and the new one starts a little later (the semaphore hand-off: RMT_RESTART_US, an
 *   estimate); with a callback it returns once started.
 * So each axis gets two channels (STEP and DIR: a direction change must land between steps that
 * are queued ahead, which a gpio.write cannot do), fed in batches of BATCH_US: at each boundary Lua
 * encodes the next batch of all six channels, then sends them back to back; each send waits for its
 * channel's running batch to end. The channels' batches end staggered (STAGGER_US apart, in send
 * order) inside step-free windows, so no send finds its channel already idle (a gap in the train)
 * and no step falls in a channel's restart gap. One wake per boundary (a 10 ms alarm: NodeMCU-32's
 * tmr runs on FreeRTOS ticks of 10 ms) blocks Lua for the rest of the running batch (≤ ~13 ms).
 */
import { StepOutput } from '../hal';
import { SegmentQueue } from './segments';

/** 1 µs ticks: 1 000 000 ps = 80 cycles of the 80 MHz APB clock. */
export const RMT_BITTIME_PS = 1000000;
const MAX_TICKS = 32767;
/** Estimates (not measured): send → first edge on an idle channel; end of a batch → start of the next queued one. */
export const RMT_START_US = 5;
export const RMT_RESTART_US = 12;
/** Batch length, the feeder's period (one FreeRTOS tick) and its slack (µs). */
export const RMT_BATCH_US = 40000;
export const RMT_FEED_MS = 10;
const SLACK_US = 3000;
/** Ends of successive channels' batches are at least this far apart (µs). */
export const RMT_STAGGER_US = 40;
/** DIR changes this long before the step (µs). */
export const RMT_DIR_SETUP_US = 2;
/** A step-free window around an axis' two cuts: both restart gaps fit in it, with margin. */
const WINDOW_US = RMT_STAGGER_US + RMT_RESTART_US + 20;
const QUEUE = 160;
/** ESP32 output-capable GPIOs are 0..33; others (a ring's unused axes) get no channel. */
const PIN_COUNT = 34;
/** Steps encoded and not yet made, per axis (for position()). */
const MADE_RING = 2048;

export class RmtStepOutput implements StepOutput {
  leadUs = 80000;
  refillUs = 20000;
  maxErrorUs = 2;
  tickUs = 1;
  /** Statistics: batches sent, steps encoded after their time (late). */
  batches = 0;
  lateSteps = 0;

  private clock: (this: void) => number;
  private restorePin: (this: void, pin: number) => void;
  private stepPin: number[] = [-1, -1, -1];
  private dirPin: number[] = [-1, -1, -1];
  private plus: number[] = [1, 1, 1];
  private widthUs = 1;
  private q: SegmentQueue[] = [];
  private pushedEnd: number[] = [0, 0, 0];
  /** Channels: 2a = DIR of axis a, 2a + 1 = STEP (in send order). */
  private ch: (NodeMcuRmtChannel | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  /** HAL time (µs) at which each channel's last batch ends; −1 before its first. */
  private chEnd: number[] = [-1, -1, -1, -1, -1, -1];
  private data: string[] = ['', '', '', '', '', ''];
  private dirLevel: number[] = [-1, -1, -1];
  private boundary = 0;
  private feeder: NodeMcuTimer;
  private feedFn: (this: void) => void;
  private doneFn: (this: void, rc: number) => void;
  private running = false;
  private startUs = 0;
  private refillGen = 0;
  private madeT: number[][] = [[], [], []];
  private madeS: number[][] = [[], [], []];
  private madeHead: number[] = [0, 0, 0];
  private madeCount: number[] = [0, 0, 0];
  private made: number[] = [0, 0, 0];
  // Encoder state (one channel at a time): parts, time cursor (generator µs), level.
  private parts: string[] = [];
  private cur = 0;

  constructor(clock: (this: void) => number, restorePin: (this: void, pin: number) => void) {
    this.clock = clock;
    this.restorePin = restorePin;
    for (let a = 0; a < 3; a++) {
      this.q.push(new SegmentQueue(QUEUE));
      for (let i = 0; i < MADE_RING; i++) {
        this.madeT[a].push(0);
        this.madeS[a].push(0);
      }
    }
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
  }

  /**
   * Called while the HAL busy-waits: nothing to do (batches are 40 ms long, and a send could block
   * the wait past its due time).
   */
  poll(): void {}

  /** Whether it is running (between start() and stop()). */
  active(): boolean {
    return this.running;
  }

  free(axis: number): number {
    return this.q[axis].free();
  }

  start(atUs: number): void {
    this.stop();
    this.running = true;
    this.startUs = atUs;
    this.refillGen = this.clock() - atUs;
    for (let a = 0; a < 3; a++) {
      this.q[a].reset();
      this.pushedEnd[a] = 0;
      this.made[a] = 0;
      this.madeCount[a] = 0;
      this.dirLevel[a] = -1;
      // (No `continue`: Lua 5.1 has none.)
      if (this.stepPin[a] >= 0 && this.stepPin[a] < PIN_COUNT && this.dirPin[a] >= 0 && this.dirPin[a] < PIN_COUNT) {
        this.ch[2 * a] = rmt!.txsetup(this.dirPin[a], RMT_BITTIME_PS, { idle_level: 0 });
        this.ch[2 * a + 1] = rmt!.txsetup(this.stepPin[a], RMT_BITTIME_PS, { idle_level: 0 });
      }
    }
    for (let c = 0; c < 6; c++) this.chEnd[c] = -1;
    this.boundary = -1;
    this.feeder.alarm(RMT_FEED_MS, tmr.ALARM_AUTO, this.feedFn);
    if (node.task !== undefined) node.task.post(node.task.LOW_PRIORITY, this.feedFn);
  }

  push(axis: number, dir: number, interval: number, count: number, add: number): void {
    this.q[axis].push(dir, interval, count, add);
    this.pushedEnd[axis] = this.pushedEnd[axis] + count * interval + (add * count * (count - 1)) / 2;
  }

  position(axis: number): number {
    if (this.running && axis === 0) this.refillGen = this.clock() - this.startUs;
    this.countMade(axis);
    return this.made[axis];
  }

  stop(): void {
    if (this.running) {
      for (let a = 0; a < 3; a++) this.countMade(a);
    }
    this.running = false;
    this.feeder.stop();
    for (let a = 0; a < 3; a++) {
      for (let c = 2 * a; c <= 2 * a + 1; c++) {
        const h = this.ch[c];
        if (h !== undefined) {
          h.close();
          this.ch[c] = undefined;
          // The GPIO matrix still routes the pin to the RMT: make it a plain output again, low.
          const pin = c === 2 * a ? this.dirPin[a] : this.stepPin[a];
          this.restorePin(pin);
        }
      }
    }
  }

  private countMade(axis: number): void {
    const now = this.clock() - this.startUs;
    while (this.madeCount[axis] > 0) {
      const k = this.madeHead[axis];
      if (this.madeT[axis][k] > now) break;
      this.made[axis] = this.made[axis] + this.madeS[axis][k];
      this.madeHead[axis] = (k + 1) % MADE_RING;
      this.madeCount[axis] = this.madeCount[axis] - 1;
    }
  }

  /** The feeder: at a boundary, encode every channel's next batch, then send them in order. */
  private feed(): void {
    if (!this.running) return;
    const now = this.clock();
    if (this.chEnd[0] >= 0 && this.chEnd[0] > now + RMT_FEED_MS * 1000 + SLACK_US) return;
    const nowGen = now - this.startUs;
    // Steps are known on every axis up to the stepper's horizon (only to its last step on a full queue).
    let known = this.refillGen + this.leadUs;
    for (let a = 0; a < 3; a++) if (this.q[a].free() <= 0 && this.pushedEnd[a] < known) known = this.pushedEnd[a];
    let target = this.boundary < 0 ? nowGen + RMT_BATCH_US : this.boundary + RMT_BATCH_US;
    // Behind (Lua was held up past a boundary: the channels have run dry): go on from now.
    if (target <= nowGen) target = nowGen + RMT_BATCH_US;
    // The last axis' cut comes 2 staggers per axis after the target, and needs a step-free window after it.
    const last = known - 6 * RMT_STAGGER_US - WINDOW_US - RMT_DIR_SETUP_US;
    if (target > last) target = last;
    if (target <= this.boundary || target <= nowGen) return;
    this.boundary = target;
    let lower = target;
    // Sends go back to back, each returning when its channel's new batch starts: predict those starts.
    let callAt = now;
    for (let a = 0; a < 3; a++) {
      if (this.ch[2 * a] !== undefined) {
        const cut = this.window(a, lower);
        const pd = this.predict(2 * a, callAt);
        const ps = this.predict(2 * a + 1, pd);
        callAt = ps;
        this.encodeAxis(a, pd - this.startUs, cut, ps - this.startUs, cut + RMT_STAGGER_US);
        lower = cut + 2 * RMT_STAGGER_US;
      }
    }
    for (let c = 0; c < 6; c++) {
      const h = this.ch[c];
      if (h !== undefined) {
        h.send(this.data[c], this.doneFn);
        // The send returns when the batch has started: its end follows from its length.
        this.chEnd[c] = this.clock() + this.ticks[c];
        this.data[c] = '';
        this.batches = this.batches + 1;
      }
    }
  }

  private ticks: number[] = [0, 0, 0, 0, 0, 0];

  /** HAL time at which channel c's next batch will start, for a send issued at callAt. */
  private predict(c: number, callAt: number): number {
    const end = this.chEnd[c];
    if (end < 0 || end < callAt) return callAt + RMT_START_US;
    return end + RMT_RESTART_US;
  }

  /**
   * The axis' cut: the first time ≥ lower after a step's fall such that no step rises within
   * WINDOW_US (+ DIR setup) after it; the steps before it are taken from the queue (into madeT).
   */
  private window(a: number, lower: number): number {
    const sq = this.q[a];
    let c = lower;
    const firstTaken = this.madeCount[a];
    this.pending = 0;
    for (;;) {
      const n = sq.next;
      if (n < 0) break;
      const r = Math.floor(n + 0.5);
      if (r >= c + WINDOW_US + RMT_DIR_SETUP_US) break;
      // Step r belongs to this batch.
      const k = (this.madeHead[a] + this.madeCount[a]) % MADE_RING;
      this.madeT[a][k] = r;
      this.madeS[a][k] = sq.nextDir > 0 ? 1 : -1;
      this.madeCount[a] = this.madeCount[a] + 1;
      this.pending = this.pending + 1;
      sq.pop();
      if (r + this.widthUs > c) c = r + this.widthUs;
    }
    this.pendingFirst = firstTaken;
    return c;
  }

  private pending = 0;
  private pendingFirst = 0;

  /** Encode the DIR batch [dStart, dCut] and the STEP batch [sStart, sCut] of axis a's pending steps. */
  private encodeAxis(a: number, dStart: number, dCut: number, sStart: number, sCut: number): void {
    // DIR
    this.parts = [];
    this.cur = dStart;
    let level = this.dirLevel[a] < 0 ? 0 : this.dirLevel[a];
    for (let i = 0; i < this.pending; i++) {
      const k = (this.madeHead[a] + this.pendingFirst + i) % MADE_RING;
      const want = this.madeS[a][k] > 0 ? this.plus[a] : 1 - this.plus[a];
      if (want !== level || this.dirLevel[a] < 0) {
        this.item(level, this.madeT[a][k] - RMT_DIR_SETUP_US);
        level = want;
        this.dirLevel[a] = want;
      }
    }
    this.item(level, dCut);
    this.data[2 * a] = table.concat(this.parts);
    this.ticks[2 * a] = Math.floor(this.cur - dStart + 0.5);
    // STEP
    this.parts = [];
    this.cur = sStart;
    for (let i = 0; i < this.pending; i++) {
      const k = (this.madeHead[a] + this.pendingFirst + i) % MADE_RING;
      let r = this.madeT[a][k];
      if (r < this.cur) {
        // Its time has passed (the batch could not start earlier): made at once, late.
        this.lateSteps = this.lateSteps + 1;
        r = this.cur;
      }
      this.item(0, r);
      this.item(1, r + this.widthUs);
    }
    this.item(0, sCut);
    this.data[2 * a + 1] = table.concat(this.parts);
    this.ticks[2 * a + 1] = Math.floor(this.cur - sStart + 0.5);
  }

  /** Hold level from the cursor until time t (generator µs, rounded to the tick). */
  private item(level: number, t: number): void {
    let d = Math.floor(t - this.cur + 0.5);
    if (d <= 0) return;
    this.cur = this.cur + d;
    const top = level === 0 ? 0 : 128;
    while (d > 0) {
      const n = d > MAX_TICKS ? MAX_TICKS : d;
      d = d - n;
      this.parts.push(String.fromCharCode(n % 256, top + Math.floor(n / 256)));
    }
  }
}
