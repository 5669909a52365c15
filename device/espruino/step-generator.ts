/**
 * The HAL's hardware-timed step generator on Espruino 2v29+ (docs/targets/espruino.md, "Step
 * generator"): the Thumb routine of step-routine.s (bytes in step-code.ts, assembled at build time)
 * is run from the utility timer's interrupt by require("timer").add({type: "EXEC", ptr, userdata,
 * interval}) every PERIOD_UNITS of system time (~26 kHz on a Pico); JavaScript only writes segments
 * into the shared memory (step-layout.ts) and reads positions back, a few times per refill, never
 * per step. Code and state live in one typed array over a flat string (E.getAddressOf(…, true)),
 * allocated once at boot: flat strings do not move (unless E.defrag()/E.toFlatString() defragment
 * memory, which the app never calls). STEP/DIR are written through the pins' GPIO BSRR registers,
 * found from Pin.getInfo().out_addr (the STM32's bit-band alias of the output register).
 */
import { StepOutput } from '../hal';
import { STEP_CODE_BYTES, stepCode } from './step-code';
import { A_HIGH, axisPosition, axisWord, freeSlots, initState, lastCall, pushPhase, resetAxes, setAxisPins, stateWords } from './step-layout';

interface EspruinoTimerModule {
  add(task: { type: string; ptr: number; userdata: number; time: number; interval: number }): number;
  remove(id: number): boolean;
}
interface PinInfo {
  out_addr?: number;
}
// Module-local (these names clash with Node's global types in the host type-check).
declare function require(name: string): EspruinoTimerModule;
declare const process: { version: string; env: { BOARD?: string } };

/**
 * The oldest firmware with require("timer").add({type: "EXEC", ptr}) (host/flash/espruino.ts refuses
 * older); compared as strings, enough with the timer check after it (2v3 sorts after 2v29 but has no
 * require("timer")).
 */
export const MIN_FIRMWARE = '2v29';
/** Boards whose system time is the STM32 RTC clock, 2^20 units per second (targets/stm32/jshardware.c USE_RTC). */
const RTC_BOARDS = /^(PICO|ESPRUINOWIFI|ESPRUINOBOARD)$/;
const UNITS_PER_S = 1048576;
/** The routine's call period in system time units: 40 / 2^20 s = 38.1 µs (26.2 kHz); exact in ms. */
export const PERIOD_UNITS = 40;
/** Segments per axis ring (one slot stays empty). */
export const SLOTS = 16;
export const AXES = 3;
/** Queued ahead and refill period: a refill is a few JavaScript callbacks' work (ms on a Pico). */
export const LEAD_US = 1000000;
export const REFILL_US = 200000;
/** No compression error: the routine integrates each phase exactly (phases, pushPhase). */
export const MAX_ERROR_US = 0;
const TWO32 = 4294967296;
/** The routine's call period, µs. */
const CALL_US = (PERIOD_UNITS * 1e6) / UNITS_PER_S;


/** The timer module when this firmware and board can run the routine (2v29+, STM32 with the RTC clock), else null. */
function timerModule(): EspruinoTimerModule | null {
  if (typeof process === 'undefined' || process.version < MIN_FIRMWARE || !RTC_BOARDS.test(process.env.BOARD || '')) return null;
  if (typeof E.getAddressOf !== 'function') return null;
  try {
    const t = require('timer');
    return typeof t.add === 'function' ? t : null;
  } catch (e) {
    return null;
  }
}

/**
 * The BSRR address and bit of an STM32 pin from its bit-band output alias (0x42000000 + ODR offset
 * from 0x40000000 · 32 + bit · 4; BSRR is the word after ODR on F1 and F4); null when it has none.
 */
export function pinBsrr(pin: number): number[] | null {
  const info = new Pin(pin).getInfo() as PinInfo | undefined;
  const a = info && info.out_addr ? info.out_addr - 0x42000000 : -1;
  return a < 0 ? null : [0x40000004 + ((a >> 5) & ~3), (a >> 2) & 31];
}

export class EspruinoStepOutput implements StepOutput {
  /** The routine's resolution: its call period. */
  tickUs: number;
  leadUs = LEAD_US;
  refillUs = REFILL_US;
  maxErrorUs = MAX_ERROR_US;
  phases = true;
  private mem: Int32Array;
  /** start()'s time in system-time units, and a call time of the routine once known (-1: not yet). */
  private originUnits = 0;
  private gridUnits = -1;
  private codeAddr: number;
  private stepPins = [-1, -1, -1];
  private task = -1;
  private timer: EspruinoTimerModule;

  /** Use EspruinoStepOutput.create (null when the firmware or memory cannot run it). */
  constructor(buf: Uint8Array, off: number, addr: number, timer: EspruinoTimerModule) {
    const code = stepCode();
    for (let i = 0; i < STEP_CODE_BYTES; i++) buf[off + i] = code.charCodeAt(i);
    this.codeAddr = addr + off;
    this.mem = new Int32Array(buf.buffer, buf.byteOffset + off + STEP_CODE_BYTES, stateWords(AXES, SLOTS));
    initState(this.mem, AXES, SLOTS);
    this.tickUs = (PERIOD_UNITS * 1e6) / UNITS_PER_S;
    this.timer = timer;
  }

  /** The generator, or null when this board or firmware cannot run it, or no flat memory. */
  static create(): EspruinoStepOutput | null {
    const timer = timerModule();
    if (timer === null || pinBsrr(0) === null) return null;
    const buf = new Uint8Array(STEP_CODE_BYTES + stateWords(AXES, SLOTS) * 4 + 4);
    const addr = E.getAddressOf(buf, true);
    if (!addr) return null; // not a flat string: no contiguous memory
    return new EspruinoStepOutput(buf, (4 - (addr & 3)) & 3, addr, timer);
  }

  setup(axis: number, stepPin: number, dirPin: number, plusLevel: number, _pulseUs: number): void {
    // The pulse lasts one call period (38 µs), longer than any STEP/DIR driver's minimum.
    const s = pinBsrr(stepPin);
    const d = pinBsrr(dirPin);
    if (s === null || d === null) throw new Error('no GPIO pin');
    pinMode(stepPin, 'output');
    pinMode(dirPin, 'output');
    digitalWrite(stepPin, 0);
    this.stepPins[axis] = stepPin;
    setAxisPins(this.mem, axis, s[0], s[1], d[0], d[1], plusLevel);
  }

  free(axis: number): number {
    return freeSlots(this.mem, axis);
  }

  start(atUs: number): void {
    this.stop();
    resetAxes(this.mem);
    this.originUnits = (atUs * UNITS_PER_S) / 1e6;
    this.gridUnits = -1;
    // ptr: Thumb code (bit 0 set); interval 40 / 2^20 s in ms (exact: the firmware truncates to units)
    this.task = this.timer.add({ type: 'EXEC', ptr: this.codeAddr + 1, userdata: this.codeAddr + STEP_CODE_BYTES, time: 0, interval: (PERIOD_UNITS * 1000) / UNITS_PER_S });
  }

  push(_axis: number, _dir: number, _interval: number, _count: number, _add: number): void {
    throw new Error('step routine: phases only');
  }

  /**
   * A phase in the routine's terms: its start moved to the first call at or after it (the state
   * carried forward to there: once the routine has run, its calls' times are known), speed and
   * acceleration per call as 0.32 fixed point, with the routine's integration order (V += A, then
   * P += V) taken into account: after m calls P = P0 + m·V0 + A·m(m+1)/2, the exact position.
   */
  pushPhase(axis: number, dir: number, count: number, startUs: number, p0: number, v0: number, a: number): void {
    const t = this.originUnits + (startUs * UNITS_PER_S) / 1e6;
    if (this.gridUnits < 0) {
      const c = lastCall(this.mem);
      if (c[1] > 0) {
        // the last call's time, unwrapped from its low 32 bits to within 2^31 units of t
        let d = t - (c[0] < 0 ? c[0] + TWO32 : c[0]);
        d = d - TWO32 * Math.floor(d / TWO32 + 0.5);
        this.gridUnits = t - d;
      }
    }
    const n0 = this.gridUnits < 0 ? Math.ceil(t) : this.gridUnits + Math.ceil((t - this.gridUnits) / PERIOD_UNITS) * PERIOD_UNITS;
    const dt = ((n0 - t) * 1e6) / UNITS_PER_S;
    let p = p0 + v0 * dt + (a * dt * dt) / 2;
    let pending = 0;
    if (p >= 1) {
      pending = 1;
      p = p - 1;
    }
    const acc = a * CALL_US * CALL_US;
    let v = (v0 + a * dt) * CALL_US - acc / 2;
    v = Math.round(v * TWO32);
    pushPhase(this.mem, axis, dir, count, n0, Math.floor(p * TWO32), v < 0 ? v + TWO32 : v, Math.round(acc * TWO32), pending);
  }

  position(axis: number): number {
    return axisPosition(this.mem, axis);
  }

  stop(): void {
    if (this.task >= 0) this.timer.remove(this.task);
    this.task = -1;
    // A pulse the routine left high ends now (the step was counted at its rising edge).
    const m = this.mem;
    for (let a = 0; a < AXES; a++) {
      const r = axisWord(m, a) + A_HIGH;
      if (m[r] !== 0) {
        m[r] = 0;
        if (this.stepPins[a] >= 0) digitalWrite(this.stepPins[a], 0);
      }
    }
  }
}
