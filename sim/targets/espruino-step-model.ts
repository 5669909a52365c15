/**
 * The reference model of device/espruino/step-routine.s: one call of the routine on the state words
 * (device/espruino/step-layout.ts), instruction for instruction in effect. test/espruino-step-native
 * checks it against the real bytes run on an ARM CPU (qemu-arm), call by call and edge by edge; the
 * simulator's Espruino shim runs it for require("timer").add({type: "EXEC", ptr}) when ptr points at
 * these bytes.
 */
import {
  A_ADD,
  A_COUNT,
  A_DIR,
  A_DIR_BSRR,
  A_DIR_MINUS,
  A_DIR_PLUS,
  A_HIGH,
  A_IV,
  A_NEXT,
  A_POS,
  A_RD,
  A_RING,
  A_STEP_BSRR,
  A_STEP_CLR,
  A_STEP_SET,
  A_WR,
  H_AXES,
  H_CALLS,
  H_MASK,
  H_NOW,
  H_STRIDE,
  HEADER_WORDS,
  SEG_WORDS,
} from '../../device/espruino/step-layout';

const TWO32 = 4294967296;

/** A 32-bit store the routine makes outside its state (a GPIO BSRR register). */
export type StoreFn = (address: number, value: number) => void;

/** mem[i..i+1] += (lo, hi) as a 64-bit two's-complement sum. */
function add64(mem: Int32Array, i: number, lo: number, hi: number): void {
  const s = (mem[i] >>> 0) + (lo >>> 0);
  mem[i] = s | 0;
  mem[i + 1] = (mem[i + 1] + hi + (s >= TWO32 ? 1 : 0)) | 0;
}

/** One call of the routine: now = the low word of the system time the timer passes. */
export function stepCall(mem: Int32Array, now: number, store: StoreFn): void {
  mem[H_NOW] = now | 0;
  mem[H_CALLS] = (mem[H_CALLS] + 1) | 0;
  const axes = mem[H_AXES];
  const stride = mem[H_STRIDE] >> 2;
  for (let a = 0, r = HEADER_WORDS; a < axes; a++, r += stride) {
    if (mem[r + A_HIGH] !== 0) {
      store(mem[r + A_STEP_BSRR] >>> 0, mem[r + A_STEP_CLR] >>> 0);
      mem[r + A_HIGH] = 0;
      continue;
    }
    if (mem[r + A_COUNT] === 0) {
      const rd = mem[r + A_RD];
      if (rd === mem[r + A_WR]) continue;
      const s = r + A_RING + rd * SEG_WORDS;
      mem[r + A_COUNT] = mem[s + 1];
      mem[r + A_IV] = mem[s + 2];
      mem[r + A_IV + 1] = mem[s + 3];
      add64(mem, r + A_NEXT, mem[s + 2], mem[s + 3]);
      mem[r + A_ADD] = mem[s + 4];
      mem[r + A_ADD + 1] = mem[s + 5];
      const dir = mem[s];
      mem[r + A_RD] = (rd + 1) & mem[H_MASK];
      if (dir !== mem[r + A_DIR]) {
        mem[r + A_DIR] = dir;
        store(mem[r + A_DIR_BSRR] >>> 0, mem[r + (dir > 0 ? A_DIR_PLUS : A_DIR_MINUS)] >>> 0);
        continue;
      }
    }
    if (((now - mem[r + A_NEXT + 1]) | 0) < 0) continue;
    store(mem[r + A_STEP_BSRR] >>> 0, mem[r + A_STEP_SET] >>> 0);
    mem[r + A_HIGH] = 1;
    mem[r + A_POS] = (mem[r + A_POS] + mem[r + A_DIR]) | 0;
    const left = (mem[r + A_COUNT] - 1) | 0;
    mem[r + A_COUNT] = left;
    if (left === 0) continue;
    add64(mem, r + A_IV, mem[r + A_ADD], mem[r + A_ADD + 1]);
    add64(mem, r + A_NEXT, mem[r + A_IV], mem[r + A_IV + 1]);
  }
}

/**
 * When the routine next does anything but count the call (for a simulator that skips idle calls):
 * 'call' = at the very next call (a pulse to end, a segment to load); otherwise the system time
 * (units, low word) from which a call steps, or null when nothing is queued (until JavaScript
 * pushes a segment). Calls before then only update `now` and `calls`.
 */
export function nextWork(mem: Int32Array): 'call' | { at: number } | null {
  const axes = mem[H_AXES];
  const stride = mem[H_STRIDE] >> 2;
  let at: number | null = null;
  let best = 0;
  const ref = mem[H_NOW];
  for (let a = 0, r = HEADER_WORDS; a < axes; a++, r += stride) {
    if (mem[r + A_HIGH] !== 0) return 'call';
    if (mem[r + A_COUNT] === 0) {
      if (mem[r + A_RD] !== mem[r + A_WR]) return 'call';
      continue;
    }
    const t = mem[r + A_NEXT + 1];
    const d = (t - ref) | 0; // relative to the last call, so the clock's wrap is harmless
    if (at === null || d < best) {
      at = t;
      best = d;
    }
  }
  return at === null ? null : { at };
}
