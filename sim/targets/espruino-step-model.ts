/**
 * The reference model of device/espruino/step-routine.s: one call of the routine on the state words
 * (device/espruino/step-layout.ts), instruction for instruction in effect, with the routine's exact
 * uint32/int32 arithmetic. test/espruino-step-native checks it against the real bytes run on an ARM
 * CPU (qemu-arm), call by call and store by store; the simulator's Espruino shim runs it for
 * require("timer").add({type: "EXEC", ptr}) when ptr points at these bytes, and skips the calls
 * that only integrate (nextWork, skipCalls: the same state, in closed form).
 */
import {
  A_ACC,
  A_COUNT,
  A_DIR,
  A_DIR_BSRR,
  A_DIR_MINUS,
  A_DIR_PLUS,
  A_HIGH,
  A_P,
  A_PENDING,
  A_POS,
  A_RD,
  A_RING,
  A_STEP_BSRR,
  A_STEP_CLR,
  A_STEP_SET,
  A_V,
  A_WR,
  H_AXES,
  H_CALLS,
  H_MASK,
  H_NOW,
  H_STRIDE,
  HEADER_WORDS,
  S_ACC,
  S_COUNT,
  S_DIR,
  S_P,
  S_PENDING,
  S_START,
  S_V,
  SEG_WORDS,
} from '../../device/espruino/step-layout';

const TWO32 = 4294967296;

/** A 32-bit store the routine makes outside its state (a GPIO BSRR register). */
export type StoreFn = (address: number, value: number) => void;

/**
 * One call of the routine: now = the low word of the system time the timer passes. `merged`, when
 * given, hears of an axis whose DDA carried while a step was still pending: two steps due within
 * one step's time, made as one (the routine's phase overran: more than one step per two calls, or
 * a step due during DIR setup); the routine does not notice, the model reports it for the simulator.
 */
export function stepCall(mem: Int32Array, now: number, store: StoreFn, merged?: (axis: number) => void): void {
  mem[H_NOW] = now | 0;
  mem[H_CALLS] = (mem[H_CALLS] + 1) | 0;
  const axes = mem[H_AXES];
  const stride = mem[H_STRIDE] >> 2;
  for (let a = 0, r = HEADER_WORDS; a < axes; a++, r += stride) {
    let blocked = mem[r + A_HIGH] !== 0;
    if (blocked) {
      store(mem[r + A_STEP_BSRR] >>> 0, mem[r + A_STEP_CLR] >>> 0);
      mem[r + A_HIGH] = 0;
    }
    let integrate = true;
    if (mem[r + A_COUNT] === 0) {
      const rd = mem[r + A_RD];
      if (rd === mem[r + A_WR]) continue;
      const s = r + A_RING + rd * SEG_WORDS;
      if (((now - mem[s + S_START]) | 0) < 0) continue;
      mem[r + A_COUNT] = mem[s + S_COUNT];
      mem[r + A_P] = mem[s + S_P];
      mem[r + A_V] = mem[s + S_V];
      mem[r + A_ACC] = mem[s + S_ACC];
      mem[r + A_PENDING] = mem[s + S_PENDING];
      mem[r + A_RD] = (rd + 1) & mem[H_MASK];
      const dir = mem[s + S_DIR];
      if (dir !== mem[r + A_DIR]) {
        mem[r + A_DIR] = dir;
        store(mem[r + A_DIR_BSRR] >>> 0, mem[r + (dir > 0 ? A_DIR_PLUS : A_DIR_MINUS)] >>> 0);
        blocked = true;
      }
      if ((now | 0) === mem[s + S_START]) integrate = false;
    }
    let carry = false;
    if (integrate) {
      const v = (mem[r + A_V] + mem[r + A_ACC]) | 0;
      mem[r + A_V] = v;
      const p = (mem[r + A_P] >>> 0) + (v >>> 0);
      mem[r + A_P] = p | 0;
      carry = p >= TWO32;
    }
    if (!carry && mem[r + A_PENDING] === 0) continue;
    if (carry && mem[r + A_PENDING] !== 0 && merged) merged(a);
    if (blocked) {
      mem[r + A_PENDING] = 1;
      continue;
    }
    store(mem[r + A_STEP_BSRR] >>> 0, mem[r + A_STEP_SET] >>> 0);
    mem[r + A_HIGH] = 1;
    mem[r + A_POS] = (mem[r + A_POS] + mem[r + A_DIR]) | 0;
    mem[r + A_COUNT] = (mem[r + A_COUNT] - 1) | 0;
    mem[r + A_PENDING] = 0;
  }
}

/** Calls skipped at most at once: m·V and |A|·m² stay below 2^51, so the closed form is exact in doubles. */
const MAX_SKIP = 524288;

/**
 * How many of the next calls an axis with steps left only integrates (no carry out of P, V never
 * wrapping): its state then follows P_m = P + m·V + A·m(m+1)/2, V_m = V + m·A. 0 when the next call
 * does more (a pulse to end, a pending step), Infinity for an axis with no steps left and no pulse.
 */
function quietCalls(mem: Int32Array, r: number): number {
  if (mem[r + A_HIGH] !== 0) return 0;
  if (mem[r + A_COUNT] === 0) return Infinity;
  if (mem[r + A_PENDING] !== 0) return 0;
  const p = mem[r + A_P] >>> 0;
  const v = mem[r + A_V] >>> 0;
  const acc = mem[r + A_ACC];
  let limit = MAX_SKIP;
  if (acc !== 0) limit = Math.min(limit, Math.floor(Math.sqrt(2 ** 51 / Math.abs(acc))));
  // the last call before V would leave [0, 2^32) (that call wraps V: the model makes it)
  if (acc > 0) limit = Math.min(limit, Math.floor((TWO32 - 1 - v) / acc));
  else if (acc < 0) limit = Math.min(limit, Math.floor(v / -acc));
  // P_m is nondecreasing up to the limit (every V_j ≥ 0): the first m with P_m ≥ 2^32 carries
  const sum = (m: number) => p + m * v + (acc * m * (m + 1)) / 2;
  if (limit < 1 || sum(1) >= TWO32) return 0;
  if (sum(limit) < TWO32) return limit;
  let lo = 1; // sum(lo) < 2^32
  let hi = limit; // sum(hi) ≥ 2^32
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sum(mid) < TWO32) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * What the next calls hold, for a simulator that skips the calls that only count and integrate:
 * `quiet` = how many of the next calls do nothing else on the axes with work in hand (Infinity when
 * none has: every axis idle); `at` = the earliest start (units, low word) of a segment waiting for an
 * idle axis, null when none waits (calls before it only count; from then the axis takes it).
 */
export function nextWork(mem: Int32Array): { quiet: number; at: number | null } {
  const axes = mem[H_AXES];
  const stride = mem[H_STRIDE] >> 2;
  let quiet = Infinity;
  let at: number | null = null;
  let best = 0;
  const ref = mem[H_NOW];
  for (let a = 0, r = HEADER_WORDS; a < axes; a++, r += stride) {
    quiet = Math.min(quiet, quietCalls(mem, r));
    if (mem[r + A_COUNT] !== 0 || mem[r + A_RD] === mem[r + A_WR]) continue;
    const t = mem[r + A_RING + mem[r + A_RD] * SEG_WORDS + S_START];
    const d = (t - ref) | 0; // relative to the last call, so the clock's wrap is harmless
    if (at === null || d < best) {
      at = t;
      best = d;
    }
  }
  return { quiet, at };
}

/**
 * The state after m calls that nextWork showed quiet (at most `quiet` of them, none at or after a
 * waiting segment's start), the last at `now`: exactly what m stepCall()s would leave.
 */
export function skipCalls(mem: Int32Array, m: number, now: number): void {
  if (m <= 0) return;
  mem[H_NOW] = now | 0;
  mem[H_CALLS] = (mem[H_CALLS] + m) | 0;
  const axes = mem[H_AXES];
  const stride = mem[H_STRIDE] >> 2;
  for (let a = 0, r = HEADER_WORDS; a < axes; a++, r += stride) {
    if (mem[r + A_COUNT] === 0) continue;
    const q = quietCalls(mem, r);
    if (m > q) throw new Error(`step model: skipping ${m} calls of axis ${a}, which has work after ${q}`);
    const p = mem[r + A_P] >>> 0;
    const v = mem[r + A_V] >>> 0;
    const acc = mem[r + A_ACC];
    mem[r + A_P] = (p + m * v + (acc * m * (m + 1)) / 2) | 0; // < 2^32: no carry
    mem[r + A_V] = (v + m * acc) | 0; // in [0, 2^32): no wrap
  }
}
