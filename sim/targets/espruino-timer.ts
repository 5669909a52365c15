/**
 * Espruino 2v29's require("timer") on the virtual MCU, with what the step generator
 * (device/espruino/step-generator.ts) needs around it: Pin(n).getInfo() with an STM32F4 GPIO
 * bit-band output address, E.getAddressOf(typedArray, true) over a simulated RAM, and the board's
 * process.version / process.env.BOARD. Modelled from the firmware source (src/jswrap_timer.c,
 * src/jstimer.c, targets/stm32/jshardware.c at 2v29.277):
 *   - the utility timer's queue holds UTILTIMERTASK_TASKS = 16 tasks, a ring buffer, so 15 can be
 *     pending; add() on a full queue throws 'Timeout on Utility Timer' (the firmware spins first);
 *   - time and interval are ms, turned into system time units by truncation (2^20 units per second
 *     on a Pico: jshGetTimeFromMilliseconds, then (unsigned int));
 *   - an EXEC task with `ptr` calls native code from the interrupt at a fixed interval, passing the
 *     system time; only hookline's step routine (the exact bytes of device/espruino/step-code.ts at
 *     ptr - 1) has a model here (sim/targets/espruino-step-model.ts): any other ptr, `fn` tasks and
 *     SET tasks are refused, as something this simulator cannot vouch for.
 * The calls are on a grid (start + k·interval); calls that would only count and integrate are
 * skipped and their effect applied in closed form (nextWork, skipCalls: the model's tests show this
 * changes no store and no word), so between the calls that do something the header's now/calls may
 * lag (they are some earlier call's, on the same grid). A segment taken at a call more than one
 * period after its start (JavaScript wrote it too late: the axis' queue ran dry) and two steps due
 * within one (the DDA carrying while a step is pending) are 'late-step' violations (the first per
 * axis and start; a board would have stepped late).
 */
import type { Peripheral, StepGeneratorStats, VirtualMcu } from '../mcu';
import { STEP_CODE_B64 } from '../../device/espruino/step-code';
import { A_COUNT, A_POS, A_RD, A_RING, A_WR, H_AXES, H_MASK, S_START, SEG_WORDS, axisWord, stateWords } from '../../device/espruino/step-layout';
import { nextWork, skipCalls, stepCall } from './espruino-step-model';

export const TIMER_TASKS = 16;
/** System time units per second on a Pico (the STM32 RTC clock: JSSYSTIME_SECOND = 2^20). */
export const UNITS_PER_S = 1048576;
export const FIRMWARE_VERSION = '2v29.277';
/** Simulated RAM for E.getAddressOf (the Pico's SRAM starts at 0x20000000). */
const RAM_BASE = 0x20000000;
/** STM32F4 GPIO: port p's registers at 0x40020000 + 0x400·p, ODR at +0x14, BSRR at +0x18. */
const GPIO_BASE = 0x40020000;
const GPIO_STRIDE = 0x400;
const BITBAND = 0x42000000;
const PERIPH = 0x40000000;
const TWO32 = 4294967296;

const STEP_CODE = Buffer.from(STEP_CODE_B64, 'base64');

/** MCU pin n is bit n % 16 of port n / 16 (A, B, C, …). */
export function pinInfo(n: number): { port: string; num: number; out_addr: number } | undefined {
  if (!(n >= 0 && n < 256 && Math.floor(n) === n)) return undefined;
  const port = Math.floor(n / 16);
  const bit = n % 16;
  const odr = GPIO_BASE + port * GPIO_STRIDE + 0x14;
  return { port: String.fromCharCode(65 + port), num: bit, out_addr: BITBAND + (odr - PERIPH) * 32 + bit * 4 };
}

interface ExecTask {
  id: number;
  ptr: number;
  userdata: number;
  mem: Int32Array;
  /** First call (µs) and period (µs) of the grid; index of the last call made. */
  t0: number;
  periodUs: number;
  periodUnits: number;
  lastK: number;
  /** Per axis: a late segment or merged step reported; read index and position before a call. */
  reported: boolean[];
  rdBefore: number[];
  posBefore: number[];
  /** The grid index of the next call with work (-1: none), as computed by nextEventUs. */
  nextK: number;
}

export interface EspruinoTimerApi {
  /** require('timer'). */
  timer: { add(task: Record<string, unknown>): number; remove(id: number): boolean; list(): unknown[] };
  Pin: unknown;
  getAddressOf(v: unknown, flat?: boolean): number;
  process: { version: string; env: { BOARD: string } };
}

/** The timer of the interpreter last started on each MCU (a board's reset() clears its tasks). */
const running = new WeakMap<VirtualMcu, { clear(): void; used(): boolean }>();

/**
 * Whether the app on this MCU has started the step routine (an EXEC task was added): its steps are
 * then all made by the routine, and its own timers only refill queues, poll switches and rest.
 */
export function stepRoutineUsed(mcu: VirtualMcu): boolean {
  return running.get(mcu)?.used() ?? false;
}

export function espruinoTimer(mcu: VirtualMcu): EspruinoTimerApi {
  running.get(mcu)?.clear();
  // Simulated RAM: each ArrayBuffer handed to getAddressOf gets an address range (4-aligned).
  const bases = new WeakMap<ArrayBufferLike, number>();
  const buffers: { base: number; buf: ArrayBufferLike }[] = [];
  let nextBase = RAM_BASE + 0x1000;
  const addressOf = (buf: ArrayBufferLike): number => {
    let b = bases.get(buf);
    if (b === undefined) {
      b = nextBase;
      nextBase += (buf.byteLength + 64) & ~3;
      bases.set(buf, b);
      buffers.push({ base: b, buf });
    }
    return b;
  };
  const resolve = (addr: number): { buf: ArrayBufferLike; offset: number } | null => {
    for (const { base, buf } of buffers) if (addr >= base && addr < base + buf.byteLength) return { buf, offset: addr - base };
    return null;
  };

  const slots: (ExecTask | null)[] = new Array(TIMER_TASKS).fill(null);
  // report.json's stepGenerator: segments taken, steps made, the fullest queue (running + ring), late segments
  const stats: StepGeneratorStats = { segments: 0, steps: 0, peakQueued: 0, queueLength: 0, lateSegments: 0 };
  const unitsOf = (us: number) => Math.floor((us * UNITS_PER_S) / 1e6);
  const msToUnits = (ms: number) => Math.floor((ms * UNITS_PER_S) / 1000);

  const store = (addr: number, value: number) => {
    const port = (addr - GPIO_BASE - 0x18) / GPIO_STRIDE;
    if (!(port >= 0 && port < 16 && Math.floor(port) === port)) throw new Error(`step routine: store to 0x${addr.toString(16)}, not a GPIO BSRR register`);
    for (let b = 0; b < 16; b++) {
      if (value & (1 << (b + 16))) mcu.write(port * 16 + b, 0);
      if (value & (1 << b)) mcu.write(port * 16 + b, 1);
    }
  };

  /** Grid index of the first call at or after time tUs that comes after the last call made. */
  const gridAt = (t: ExecTask, tUs: number) => Math.max(t.lastK + 1, Math.ceil((tUs - t.t0) / t.periodUs - 1e-9));
  const callTime = (t: ExecTask, k: number) => t.t0 + k * t.periodUs;
  const callNow = (t: ExecTask, k: number) => unitsOf(callTime(t, k)) % TWO32;

  /**
   * The calls before the clock's time that were not made only counted and integrated (the plan made
   * before JavaScript last ran said so; JavaScript writes only rings, which an axis with steps in
   * hand does not look at): their effect, so what JavaScript reads next is as of the last call.
   */
  function catchUp(t: ExecTask): void {
    const last = gridAt(t, mcu.now) - 1;
    if (last <= t.lastK) return;
    skipCalls(t.mem, last - t.lastK, callNow(t, last));
    t.lastK = last;
  }

  /** The grid index of the next call that does more than count and integrate, -1 when none will. */
  function plan(t: ExecTask): number {
    catchUp(t);
    const mem = t.mem;
    const w = nextWork(mem);
    let k = w.quiet === Infinity ? -1 : t.lastK + 1 + w.quiet;
    if (w.at !== null) {
      // the first call at or after the waiting segment's start (relative to the last call: wrap-safe)
      const ref = unitsOf(mcu.now);
      const d = (w.at - ref) | 0;
      const target = ref + (d > 0 ? d : 0); // unwrapped units
      let ka = gridAt(t, (target * 1e6) / UNITS_PER_S);
      while (unitsOf(callTime(t, ka)) < target) ka++;
      if (k < 0 || ka < k) k = ka;
    }
    return k;
  }

  const peripheral: Peripheral = {
    stats: () => ({ ...stats }),
    nextEventUs() {
      let best = Infinity;
      for (const t of slots) {
        if (t === null) continue;
        t.nextK = plan(t);
        if (t.nextK >= 0 && callTime(t, t.nextK) < best) best = callTime(t, t.nextK);
      }
      return best;
    },
    runEvent() {
      let task: ExecTask | null = null;
      for (const t of slots) if (t !== null && t.nextK >= 0 && (task === null || callTime(t, t.nextK) < callTime(task, task.nextK))) task = t;
      if (task === null) return;
      const t = task;
      const k = t.nextK;
      const mem = t.mem;
      // the calls before this one only integrated
      if (k - 1 > t.lastK) skipCalls(mem, k - 1 - t.lastK, callNow(t, k - 1));
      const now = callNow(t, k);
      t.lastK = k;
      t.nextK = -1;
      const axes = mem[H_AXES];
      const mask = mem[H_MASK];
      stats.queueLength = mask;
      for (let a = 0; a < axes; a++) {
        const r = axisWord(mem, a);
        const held = ((mem[r + A_WR] - mem[r + A_RD]) & mask) + (mem[r + A_COUNT] !== 0 ? 1 : 0);
        if (held > stats.peakQueued) stats.peakQueued = held;
        t.rdBefore[a] = mem[r + A_RD];
        t.posBefore[a] = mem[r + A_POS];
      }
      stepCall(mem, now, store, (a) => {
        if (t.reported[a]) return;
        t.reported[a] = true;
        mcu.problem('late-step', `axis ${a}: a step came due while the previous one was still pending (the phase asks for more than one step per two calls, ${(UNITS_PER_S / t.periodUnits / 2).toFixed(0)} steps/s, or for a step during DIR setup): two steps made as one`);
      });
      for (let a = 0; a < axes; a++) {
        const r = axisWord(mem, a);
        if (mem[r + A_RD] !== t.rdBefore[a]) {
          stats.segments++;
          // taken more than two periods after its start: JavaScript wrote it too late (one period is
          // the take's own, one the previous phase's last step held by a pulse's end or DIR setup)
          const late = (now - mem[r + A_RING + t.rdBefore[a] * SEG_WORDS + S_START]) | 0;
          if (late > 2 * t.periodUnits) {
            stats.lateSegments++;
            if (!t.reported[a]) {
              t.reported[a] = true;
              mcu.problem('late-step', `axis ${a}: step segment written ${((late / UNITS_PER_S) * 1000).toFixed(2)} ms after it was due (the step routine's queue ran dry)`);
            }
          }
        }
        if (mem[r + A_POS] !== t.posBefore[a]) stats.steps++;
      }
    },
  };
  mcu.addPeripheral(peripheral);
  let routineAdded = false;
  running.set(mcu, { clear: () => slots.fill(null), used: () => routineAdded });

  const timer = {
    add(task: Record<string, unknown>): number {
      const type = String(task.type ?? '').toUpperCase();
      if (type !== 'EXEC') throw new Error(`require("timer").add: type ${JSON.stringify(task.type)} is not modelled by the simulator (only EXEC with hookline's step routine)`);
      if (typeof task.fn === 'function' || task.ptr === undefined) throw new Error('require("timer").add: EXEC with a JavaScript fn is not modelled by the simulator');
      const ptr = Number(task.ptr);
      const code = resolve(ptr - 1);
      if ((ptr & 1) !== 1 || code === null || !Buffer.from(code.buf, code.offset, Math.min(STEP_CODE.length, code.buf.byteLength - code.offset)).equals(STEP_CODE)) {
        throw new Error(`require("timer").add: no model for the native code at ptr 0x${(ptr >>> 0).toString(16)} (only hookline's step routine, Thumb, ptr = its address + 1)`);
      }
      const state = resolve(Number(task.userdata));
      if (state === null || state.offset % 4 !== 0) throw new Error(`require("timer").add: userdata 0x${(Number(task.userdata) >>> 0).toString(16)} is not the step routine's state in RAM`);
      const head = new Int32Array(state.buf, state.offset, 3);
      const words = stateWords(head[0], head[2] + 1);
      const mem = new Int32Array(state.buf, state.offset, words);
      const interval = msToUnits(Number(task.interval ?? 0));
      if (interval <= 0) throw new Error('require("timer").add: the step routine needs a repeating EXEC (interval > 0)');
      // Pending tasks: 15 fit (a ring of 16 keeps one slot empty).
      const used = slots.filter((t) => t !== null).length;
      const idx = slots.indexOf(null);
      if (used >= TIMER_TASKS - 1 || idx < 0) throw new Error('Timeout on Utility Timer');
      const periodUs = (interval * 1e6) / UNITS_PER_S;
      const t: ExecTask = {
        id: idx,
        ptr,
        userdata: Number(task.userdata),
        mem,
        t0: mcu.now + (msToUnits(Number(task.time ?? 0)) * 1e6) / UNITS_PER_S,
        periodUs,
        periodUnits: interval,
        lastK: -1,
        reported: new Array(head[0]).fill(false),
        rdBefore: new Array(head[0]).fill(0),
        posBefore: new Array(head[0]).fill(0),
        nextK: -1,
      };
      slots[idx] = t;
      routineAdded = true;
      return idx;
    },
    remove(id: number): boolean {
      if (!(id >= 0 && id < TIMER_TASKS) || slots[id] === null) return false;
      slots[id] = null;
      return true;
    },
    list(): unknown[] {
      // as the firmware's list(): an EXEC task with ptr shows ptr and userdata
      return slots.flatMap((t) => (t === null ? [] : [{ id: t.id, type: 'EXEC', ptr: t.ptr, userdata: t.userdata, interval: (t.periodUnits * 1000) / UNITS_PER_S }]));
    },
  };

  function Pin(this: { n: number }, n: number) {
    this.n = n;
  }
  Pin.prototype.getInfo = function (this: { n: number }) {
    return pinInfo(this.n);
  };

  return {
    timer,
    Pin,
    getAddressOf(v: unknown, flat?: boolean): number {
      if (!flat) throw new Error('E.getAddressOf: only flat addresses (flat = true) are modelled');
      if (ArrayBuffer.isView(v)) return addressOf(v.buffer) + v.byteOffset;
      if (Object.prototype.toString.call(v) === '[object ArrayBuffer]') return addressOf(v as ArrayBuffer);
      return 0;
    },
    process: { version: FIRMWARE_VERSION, env: { BOARD: 'PICO' } },
  };
}
