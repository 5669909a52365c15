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
/**
 * A batch for an idle channel (the first, or after a run dry) is encoded to start this long after
 * the feed begins, and sent with an idle item in front that covers from the send to there: the
 * encoding of all six channels takes milliseconds of Lua, and a batch that started at its send
 * would put its steps that much later than the next batch's (which start where it ends).
 */
export const RMT_IDLE_LEAD_US = 8000;
/** Lua time per send to an idle channel, at most (an estimate from the chip model: ~45 µs). */
export const RMT_SEND_LUA_US = 150;
/** Batch length, the feeder's period (one FreeRTOS tick) and its slack (µs). */
export const RMT_BATCH_US = 60000;
export const RMT_FEED_MS = 10;
const SLACK_US = 3000;
/**
 * A batch is encoded once the running ones end within this (µs), and sent once they end within
 * two ticks and a slack: a Lua task of up to ~20 ms (planning a wrap) may run between (the send
 * then blocks for the rest, which costs no CPU).
 */
export const RMT_ENCODE_AHEAD_US = 45000;
export const RMT_SEND_AHEAD_US = 2 * RMT_FEED_MS * 1000 + SLACK_US;
/** Ends of successive channels' batches are at least this far apart (µs). */
export const RMT_STAGGER_US = 80;
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
  leadUs = 200000;
  refillUs = 30000;
  /**
   * The job start's Lua (planning the first wrap, queueing its segments, encoding the first
   * batches) takes tens of ms on an ESP32 (sim --chip esp32): the clock starts 100 ms ahead.
   */
  startDelayUs = 100000;
  /** A dwell's output is written by a Lua alarm: up to two 10 ms ticks late, plus a Lua task ahead of it. */
  outputLateUs = 30000;
  lateUs = 0;
  maxErrorUs = 2;
  tickUs = 1;
  /** Statistics: batches sent, steps encoded after their time (late). */
  batches = 0;
  lateSteps = 0;

  private clock: (this: void) => number;
  private restorePin: (this: void, pin: number, level: number) => void;
  private stepPin: number[] = [-1, -1, -1];
  private dirPin: number[] = [-1, -1, -1];
  private plus: number[] = [1, 1, 1];
  private widthUs = 1;
  /** The STEP train's high item: widthUs ticks at level 1. */
  private hiItem = String.fromCharCode(1, 128);
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

  constructor(clock: (this: void) => number, restorePin: (this: void, pin: number, level: number) => void) {
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
    this.hiItem = String.fromCharCode(this.widthUs % 256, 128 + Math.floor(this.widthUs / 256));
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
    this.lateUs = 0;
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
    this.encoded = false;
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
    // STEP channels first: a DIR channel closed while its axis still steps would turn it (the pin
    // drops to the idle level) under the last steps.
    for (let k = 1; k >= 0; k--) {
      for (let a = 0; a < 3; a++) {
        const c = 2 * a + k;
        const h = this.ch[c];
        if (h !== undefined) {
          h.close();
          this.ch[c] = undefined;
          // The GPIO matrix still routes the pin to the RMT: make it a plain output again (STEP
          // low, DIR at its last level).
          if (k === 1) this.restorePin(this.stepPin[a], 0);
          else this.restorePin(this.dirPin[a], this.dirLevel[a] > 0 ? 1 : 0);
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

  /**
   * The feeder (every tick): encode every channel's next batch once the running ones end within
   * RMT_ENCODE_AHEAD_US, then send them at the last tick before they end. Encoding is the per-step
   * Lua (milliseconds of it at speed), so it is done well ahead of the send: a send only has to
   * come between the channel's end and the tick before, and any other Lua task that runs long in
   * that time (the runtime planning a wrap) would make the train run dry.
   */
  private feed(): void {
    if (!this.running) return;
    let now = this.clock();
    if (!this.encoded) {
      if (this.chEnd[0] >= 0 && this.chEnd[0] > now + RMT_ENCODE_AHEAD_US) return;
      if (!this.encode(now)) return;
      now = this.clock();
    }
    if (this.chEnd[0] >= 0 && this.chEnd[0] > now + RMT_SEND_AHEAD_US) return;
    this.sendAll();
  }

  private encoded = false;

  /** Encode every channel's next batch (false: no new steps are known yet). */
  private encode(now: number): boolean {
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
    if (target <= this.boundary || target <= nowGen) return false;
    this.boundary = target;
    let lower = target;
    // Sends go back to back, each returning when its channel's new batch starts: predict those starts.
    let callAt = now;
    for (let a = 0; a < 3; a++) {
      if (this.ch[2 * a] !== undefined) {
        // A send to a busy channel returns when its new batch starts; to an idle one at once.
        const pd = this.predict(2 * a, callAt);
        if (this.chEnd[2 * a] >= callAt) callAt = pd;
        const ps = this.predict(2 * a + 1, callAt);
        if (this.chEnd[2 * a + 1] >= callAt) callAt = ps;
        const cut = this.encodeAxis(a, lower, pd - this.startUs, ps - this.startUs);
        lower = cut + 2 * RMT_STAGGER_US;
      }
    }
    this.encoded = true;
    return true;
  }

  /** Send the encoded batches, in channel order (each send to a busy channel waits for its end). */
  private sendAll(): void {
    this.encoded = false;
    // A send to a busy channel returns at its new batch's start, which is known: the clock is read
    // only for idle ones (the first batches).
    let at = this.clock();
    // Channels that have run dry (Lua was late: the simulator's late-step) start their batches
    // later than encoded. All of them are delayed alike, and so is every later step (the
    // generator's clock moves on by the same): late, but DIR stays aligned with STEP, so no step
    // is made in the wrong direction.
    let latest = -1;
    for (let c = 0; c < 6; c++) {
      if (this.ch[c] !== undefined && this.chEnd[c] < at) {
        const need = at + RMT_START_US + (c + 1) * RMT_SEND_LUA_US - this.batchStart[c];
        if (need > latest) latest = need;
      }
    }
    if (latest > 0) {
      const shift = Math.ceil(latest);
      this.startUs = this.startUs + shift;
      this.lateUs = this.lateUs + shift;
      for (let c = 0; c < 6; c++) if (this.chEnd[c] < at) this.batchStart[c] = this.batchStart[c] + shift;
      this.lateSteps = this.lateSteps + 1;
    }
    for (let c = 0; c < 6; c++) {
      const h = this.ch[c];
      if (h !== undefined) {
        const end = this.chEnd[c];
        let start = end + RMT_RESTART_US;
        if (end < at) {
          // Idle: hold the batch's first level from the send to its planned start. (The clock is
          // read again: each send before this one took Lua time, and channels must stay aligned.)
          at = this.clock();
          start = at + RMT_START_US;
          const lead = Math.floor(this.batchStart[c] - start);
          if (lead > 0) {
            this.parts = [];
            this.cur = 0;
            this.item(this.batchFirst[c], lead);
            this.data[c] = this.parts[0] + this.data[c];
            this.ticks[c] = this.ticks[c] + lead;
          } else if (lead < 0 && c % 2 === 1) this.lateSteps = this.lateSteps + 1;
        }
        h.send(this.data[c], this.doneFn);
        this.chEnd[c] = start + this.ticks[c];
        if (start > at) at = start;
        this.data[c] = '';
        this.batches = this.batches + 1;
      }
    }
  }


  private ticks: number[] = [0, 0, 0, 0, 0, 0];
  /** Each channel's batch being sent: its planned start (HAL µs) and first level. */
  private batchStart: number[] = [0, 0, 0, 0, 0, 0];
  private batchFirst: number[] = [0, 0, 0, 0, 0, 0];

  /** HAL time at which channel c's next batch will start, for a send issued at callAt. */
  private predict(c: number, callAt: number): number {
    const end = this.chEnd[c];
    const at = end < 0 || end < callAt ? callAt + RMT_IDLE_LEAD_US : end + RMT_RESTART_US;
    this.batchStart[c] = at;
    return at;
  }

  /**
   * Axis a's next batch, in one pass over its steps: take them from the queue up to the cut (the
   * first time ≥ lower after a step's fall such that no step rises within WINDOW_US + DIR setup
   * after it), note each for position(), and encode the DIR train from dStart to the cut and the
   * STEP train from sStart to the cut + one stagger (generator µs). This is the only Lua that runs
   * per step, so it keeps everything in locals (a field or table read is a VM instruction or more
   * each) and reads the queue's segment itself instead of calling pop(). Returns the cut.
   */
  private encodeAxis(a: number, lower: number, dStart: number, sStart: number): number {
    const sq = this.q[a];
    const mt = this.madeT[a];
    const ms = this.madeS[a];
    const plus = this.plus[a];
    const width = this.widthUs;
    const hi = this.hiItem;
    let c = lower;
    let k = (this.madeHead[a] + this.madeCount[a]) % MADE_RING;
    let taken = 0;
    let dl = this.dirLevel[a];
    let level = dl < 0 ? 0 : dl;
    this.batchFirst[2 * a] = level;
    this.batchFirst[2 * a + 1] = 0;
    const dParts: string[] = [];
    let dCur = dStart;
    const sParts: string[] = [];
    let sn = 0;
    let sCur = sStart;
    let late = 0;
    let next = sq.next;
    let last = sq.last;
    let left = sq.left;
    let iv = sq.iv;
    let ad = sq.ad;
    let dir = sq.nextDir;
    while (next >= 0) {
      const r = Math.floor(next + 0.5);
      if (r >= c + WINDOW_US + RMT_DIR_SETUP_US) break;
      const want = dir > 0 ? plus : 1 - plus;
      if (want !== level || dl < 0) {
        // DIR (rare): hold the old level until the setup time before this step.
        this.parts = dParts;
        this.cur = dCur;
        this.item(level, r - RMT_DIR_SETUP_US);
        dCur = this.cur;
        level = want;
        dl = want;
      }
      let t = r;
      if (t < sCur) {
        // Its time has passed (the batch could not start earlier): made at once, late.
        late = late + 1;
        t = sCur;
      }
      const d = Math.floor(t - sCur + 0.5);
      if (d > MAX_TICKS) {
        this.parts = sParts;
        this.cur = sCur;
        this.item(0, t);
        sCur = this.cur;
        sn = sParts.length;
      } else if (d > 0) {
        sn = sn + 1;
        sParts[sn - 1] = String.fromCharCode(d % 256, Math.floor(d / 256));
        sCur = sCur + d;
      }
      sn = sn + 1;
      sParts[sn - 1] = hi;
      sCur = sCur + width;
      mt[k] = r;
      ms[k] = dir > 0 ? 1 : -1;
      k = k + 1;
      if (k === MADE_RING) k = 0;
      taken = taken + 1;
      if (r + width > c) c = r + width;
      // The queue's next step (SegmentQueue.pop, inline).
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
        dir = sq.nextDir;
      }
    }
    sq.last = last;
    sq.next = next;
    sq.left = left;
    sq.iv = iv;
    sq.ad = ad;
    sq.nextDir = dir;
    this.madeCount[a] = this.madeCount[a] + taken;
    this.lateSteps = this.lateSteps + late;
    this.dirLevel[a] = dl;
    this.parts = dParts;
    this.cur = dCur;
    this.item(level, c);
    this.data[2 * a] = table.concat(dParts);
    this.ticks[2 * a] = Math.floor(this.cur - dStart + 0.5);
    this.parts = sParts;
    this.cur = sCur;
    this.item(0, c + RMT_STAGGER_US);
    this.data[2 * a + 1] = table.concat(sParts);
    this.ticks[2 * a + 1] = Math.floor(this.cur - sStart + 0.5);
    return c;
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
      this.parts[this.parts.length] = String.fromCharCode(n % 256, top + Math.floor(n / 256));
    }
  }
}
