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
export const RMT_STAGGER_US = 80;
/** DIR changes this long before the step (µs). */
export const RMT_DIR_SETUP_US = 2;
/** A step-free window around an axis' two cuts: both restart gaps fit in it, with margin. */
const WINDOW_US = RMT_STAGGER_US + RMT_RESTART_US + 20;
const QUEUE = 160;
/**
 * NodeMCU keeps its libraries in ROM tables, where every `math.floor` is two searches (~5400 cycles,
 * sim/chip/lua-cost.ts) against ~185 for a VM instruction: the encoder calls these through locals,
 * bound once by the constructor (not at load: the JavaScript tests set the globals later).
 */
let floor: (this: void, x: number) => number = function (x: number): number {
  return x - (x % 1);
};
let char: (this: void, ...codes: number[]) => string = function (): string {
  return '';
};
/** ESP32 output-capable GPIOs are 0..33; others (a ring's unused axes) get no channel. */
const PIN_COUNT = 34;
/**
 * Steps encoded and not yet made, per axis (for position()): at most a batch and the next one's
 * lead (~55 ms; ref-gantry's Z makes 8 000 steps/s). A full ring cuts the batch early.
 */
const MADE_RING = 1024;

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
  /** Per axis, a ring of the steps encoded and not yet counted made: time (generator µs) and the position after it. */
  private madeT: number[][] = [[], [], []];
  private madeP: number[][] = [[], [], []];
  private madeHead: number[] = [0, 0, 0];
  private madeCount: number[] = [0, 0, 0];
  /** Position after the last step counted made, and after the last step encoded. */
  private made: number[] = [0, 0, 0];
  private encPos: number[] = [0, 0, 0];

  constructor(clock: (this: void) => number, restorePin: (this: void, pin: number) => void) {
    this.clock = clock;
    this.restorePin = restorePin;
    for (let a = 0; a < 3; a++) {
      this.q.push(new SegmentQueue(QUEUE));
      for (let i = 0; i < MADE_RING; i++) {
        this.madeT[a].push(0);
        this.madeP[a].push(0);
      }
    }
    this.feeder = tmr.create();
    this.feedFn = () => this.feed();
    this.doneFn = () => {};
    floor = math.floor;
    char = string.char;
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
      this.encPos[a] = 0;
      this.madeHead[a] = 0;
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

  /** Count the steps made by now (a binary search over the ring: times rise). */
  private countMade(axis: number): void {
    const n = this.madeCount[axis];
    if (n === 0) return;
    const now = this.clock() - this.startUs;
    const mt = this.madeT[axis];
    const head = this.madeHead[axis];
    // The number of steps with time ≤ now: lo steps are made, hi are not.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = floor((lo + hi) / 2);
      if (mt[(head + mid) % MADE_RING] <= now) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return;
    this.made[axis] = this.madeP[axis][(head + lo - 1) % MADE_RING];
    this.madeHead[axis] = (head + lo) % MADE_RING;
    this.madeCount[axis] = n - lo;
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
    // (Whole µs: the items' durations are integers.)
    target = floor(target);
    if (target <= this.boundary || target <= nowGen) return;
    this.boundary = target;
    let lower = target;
    // Sends go back to back, each returning when its channel's new batch starts: predict those starts.
    let callAt = now;
    for (let a = 0; a < 3; a++) {
      if (this.ch[2 * a] !== undefined) {
        const pd = this.predict(2 * a, callAt);
        const ps = this.predict(2 * a + 1, pd);
        callAt = ps;
        this.startAt[2 * a] = pd;
        this.startAt[2 * a + 1] = ps;
        const cut = this.encodeAxis(a, lower, pd - this.startUs, ps - this.startUs);
        lower = cut + 2 * RMT_STAGGER_US;
      }
    }
    for (let c = 0; c < 6; c++) {
      const h = this.ch[c];
      if (h !== undefined) {
        h.send(this.data[c], this.doneFn);
        // The send returns when the batch has started, where the encoder put it (not the clock
        // after the call: Lua's own time since then is not the batch's).
        this.chEnd[c] = this.startAt[c] + this.ticks[c];
        this.data[c] = '';
        this.batches = this.batches + 1;
      }
    }
  }

  private ticks: number[] = [0, 0, 0, 0, 0, 0];
  /** HAL time each channel's batch being sent starts at (predicted: predict()). */
  private startAt: number[] = [0, 0, 0, 0, 0, 0];

  /** HAL time at which channel c's next batch will start, for a send issued at callAt. */
  private predict(c: number, callAt: number): number {
    const end = this.chEnd[c];
    if (end < 0 || end < callAt) return callAt + RMT_START_US;
    return end + RMT_RESTART_US;
  }

  /**
   * Axis a's next batch: its steps from the queue up to the cut, the first time ≥ lower after a
   * step's fall such that no step rises within WINDOW_US (+ DIR setup) after it, encoded as the DIR
   * batch from dStart and the STEP batch from sStart (generator µs; both end at the cut, STEP one
   * stagger later) into data[2a], data[2a + 1]; returns the cut. This is the only code that runs
   * once per step, so it keeps everything in locals (a field or a ROM-table look-up per step costs
   * more than the step's own arithmetic): per step a rounding, a compare, one string.char of the
   * step's low and high items, the step's time and position into the made ring.
   */
  private encodeAxis(a: number, lower: number, dStart: number, sStart: number): number {
    const sq = this.q[a];
    const w = this.widthUs;
    const wLo = w % 256;
    const wHi = 128 + (w - wLo) / 256;
    const win = WINDOW_US + RMT_DIR_SETUP_US;
    const plus = this.plus[a];
    const mt = this.madeT[a];
    const mp = this.madeP[a];
    let cnt = this.madeCount[a];
    let k = (this.madeHead[a] + cnt) % MADE_RING;
    let pos = this.encPos[a];
    let level = this.dirLevel[a];
    let out = level < 0 ? 0 : level;
    const dp: string[] = [];
    let dCur = dStart;
    const sp: string[] = [];
    let sn = 0;
    let sCur = sStart;
    let c = lower;
    let late = 0;
    let next = sq.next;
    let last = sq.last;
    let left = sq.left;
    let iv = sq.iv;
    let ad = sq.ad;
    let s = sq.nextDir > 0 ? 1 : -1;
    while (next >= 0) {
      const r = floor(next + 0.5);
      if (r >= c + win || cnt >= MADE_RING) break;
      // DIR: a turn changes the level RMT_DIR_SETUP_US before the step (rare: a call is fine).
      const want = s > 0 ? plus : 1 - plus;
      if (want !== level) {
        dCur = hold(dp, out, dCur, r - RMT_DIR_SETUP_US);
        level = want;
        out = want;
      }
      // STEP: low until the step (made at once if its time has passed: late), then high.
      let t = r;
      if (t < sCur) {
        late = late + 1;
        t = sCur;
      }
      let d = t - sCur;
      while (d > MAX_TICKS) {
        sn = sn + 1;
        sp[sn - 1] = char(MAX_TICKS % 256, (MAX_TICKS - (MAX_TICKS % 256)) / 256);
        d = d - MAX_TICKS;
      }
      const dLo = d % 256;
      sn = sn + 1;
      sp[sn - 1] = d > 0 ? char(dLo, (d - dLo) / 256, wLo, wHi) : char(wLo, wHi);
      sCur = t + w;
      if (sCur > c) c = sCur;
      pos = pos + s;
      mt[k] = r;
      mp[k] = pos;
      k = k + 1;
      if (k === MADE_RING) k = 0;
      cnt = cnt + 1;
      // The queue's next step (SegmentQueue.pop, inlined).
      last = next;
      if (left > 0) {
        left = left - 1;
        iv = iv + ad;
        next = last + iv;
      } else {
        sq.last = last;
        sq.left = 0;
        sq.load();
        next = sq.next;
        left = sq.left;
        iv = sq.iv;
        ad = sq.ad;
        s = sq.nextDir > 0 ? 1 : -1;
      }
    }
    sq.next = next;
    sq.last = last;
    sq.left = left;
    sq.iv = iv;
    sq.ad = ad;
    this.madeCount[a] = cnt;
    this.encPos[a] = pos;
    this.dirLevel[a] = level;
    this.lateSteps = this.lateSteps + late;
    // Both channels hold their level to the cut (STEP one stagger later).
    dCur = hold(dp, out, dCur, c);
    let d = c + RMT_STAGGER_US - sCur;
    while (d > 0) {
      const n = d > MAX_TICKS ? MAX_TICKS : d;
      d = d - n;
      const nLo = n % 256;
      sn = sn + 1;
      sp[sn - 1] = char(nLo, (n - nLo) / 256);
    }
    if (c + RMT_STAGGER_US > sCur) sCur = c + RMT_STAGGER_US;
    this.data[2 * a] = table.concat(dp);
    this.ticks[2 * a] = dCur - dStart;
    this.data[2 * a + 1] = table.concat(sp);
    this.ticks[2 * a + 1] = sCur - sStart;
    return c;
  }
}

/** Append items holding level from cur until t (both whole µs); the new cursor. */
function hold(parts: string[], level: number, cur: number, t: number): number {
  let d = t - cur;
  if (d <= 0) return cur;
  const top = level === 0 ? 0 : 128;
  const end = cur + d;
  while (d > 0) {
    const n = d > MAX_TICKS ? MAX_TICKS : d;
    d = d - n;
    const lo = n % 256;
    parts.push(char(lo, top + (n - lo) / 256));
  }
  return end;
}
