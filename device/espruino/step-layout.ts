/**
 * The memory the step routine (device/espruino/step-routine.s) shares with JavaScript: a header and
 * one record per axis, each with a ring of segments, all 32-bit words (an Int32Array over a flat
 * string on the board). JavaScript writes the header, the pins' BSRR words, segments and the ring's
 * write index; the routine writes the rest. Times are in the firmware's system-time units (the
 * `now` the timer passes: 2^20 per second on STM32 boards with an RTC, the Pico among them) as
 * 32.32 fixed point (low word the fraction), so a segment's step times are exact sums to 2^-32 of a
 * unit and the wrap of the 32-bit clock (68 min on a Pico) is harmless (signed differences).
 * Pure functions over the words, shared by the board (step-generator.ts), the simulator's model of
 * the routine (sim/targets/espruino-step-model.ts) and the tests that run the real bytes on an ARM.
 */

/** Header words. */
export const H_AXES = 0;
export const H_STRIDE = 1;
export const H_MASK = 2;
export const H_NOW = 3;
export const H_CALLS = 4;
export const HEADER_WORDS = 6;

/** Axis record words (from the record's first word). */
export const A_STEP_BSRR = 0;
export const A_STEP_SET = 1;
export const A_STEP_CLR = 2;
export const A_DIR_BSRR = 3;
export const A_DIR_PLUS = 4;
export const A_DIR_MINUS = 5;
export const A_HIGH = 6;
export const A_POS = 7;
export const A_COUNT = 8;
export const A_DIR = 9;
export const A_NEXT = 10; // lo, hi
export const A_IV = 12; // lo, hi
export const A_ADD = 14; // lo, hi
export const A_RD = 16;
export const A_WR = 17;
export const A_RING = 18;
/** Segment words: dir, count, interval lo/hi, add lo/hi. */
export const SEG_WORDS = 6;

const TWO32 = 4294967296;

/** Words of state for `axes` axes with rings of `slots` (a power of two, ≤ 32) segments. */
export function stateWords(axes: number, slots: number): number {
  return HEADER_WORDS + axes * (A_RING + slots * SEG_WORDS);
}

/** First word of axis a's record. */
export function axisWord(mem: Int32Array, a: number): number {
  return HEADER_WORDS + a * (mem[H_STRIDE] >> 2);
}

/** A value as a signed 32-bit word (any finite integer-valued double, taken mod 2^32). */
export function int32(x: number): number {
  const m = x - TWO32 * Math.floor(x / TWO32);
  return m >= 2147483648 ? m - TWO32 : m;
}

/**
 * Write x (units) at mem[i], mem[i + 1] as 32.32 fixed point: the fraction round(frac(x)·2^32),
 * then the integer part mod 2^32 (an Int32Array store wraps both, in V8 and in Espruino, whose
 * typed-array store converts through a 64-bit integer).
 */
export function putFix(mem: Int32Array, i: number, x: number): void {
  let hi = Math.floor(x);
  let lo = Math.round((x - hi) * TWO32);
  if (lo >= TWO32) {
    lo = 0;
    hi++;
  }
  mem[i] = lo;
  mem[i + 1] = hi;
}

/** The fraction word of x as 32.32 fixed point (as putFix writes it). */
export function fixLo(x: number): number {
  const m = new Int32Array(2);
  putFix(m, 0, x);
  return m[0];
}

/** The integer word of x as 32.32 fixed point (mod 2^32, as int32; as putFix writes it). */
export function fixHi(x: number): number {
  const m = new Int32Array(2);
  putFix(m, 0, x);
  return m[1];
}

/** The value a (lo, hi) pair stands for, hi signed: hi + lo / 2^32. */
export function fixValue(lo: number, hi: number): number {
  return hi + (lo < 0 ? lo + TWO32 : lo) / TWO32;
}

/** Empty state for `axes` axes, rings of `slots` segments (clears every word). */
export function initState(mem: Int32Array, axes: number, slots: number): void {
  for (let i = 0; i < mem.length; i++) mem[i] = 0;
  mem[H_AXES] = axes;
  mem[H_STRIDE] = (A_RING + slots * SEG_WORDS) * 4;
  mem[H_MASK] = slots - 1;
}

/**
 * Axis a's pins: STEP and DIR as (BSRR address, bit); DIR is at plusLevel for +1 steps. A BSRR
 * word sets bit b with 1 << b and clears it with 1 << (b + 16).
 */
export function setAxisPins(mem: Int32Array, a: number, stepBsrr: number, stepBit: number, dirBsrr: number, dirBit: number, plusLevel: number): void {
  // (Int32Array stores wrap addresses and bit 31 to int32)
  const r = axisWord(mem, a);
  mem[r + A_STEP_BSRR] = stepBsrr;
  mem[r + A_STEP_SET] = 1 << stepBit;
  mem[r + A_STEP_CLR] = (1 << stepBit) * 65536;
  mem[r + A_DIR_BSRR] = dirBsrr;
  const on = 1 << dirBit;
  const off = on * 65536;
  mem[r + A_DIR_PLUS] = plusLevel ? on : off;
  mem[r + A_DIR_MINUS] = plusLevel ? off : on;
}

/** Restart every axis at time t (units): no steps queued or pending, positions 0, DIR unknown. */
export function resetAxes(mem: Int32Array, t: number): void {
  for (let a = 0; a < mem[H_AXES]; a++) {
    const r = axisWord(mem, a);
    for (let k = A_HIGH; k < A_RING; k++) mem[r + k] = 0;
    putFix(mem, r + A_NEXT, t);
  }
}

/**
 * A word the routine may be writing, read until two reads agree: Espruino reads a typed array's
 * element byte by byte (src/jsvariterator.c), so a read across the interrupt's store could mix old
 * and new bytes (a count going 256 → 255 read as 0, a position 255 → 256 as 511). The routine
 * stores each word at most once per call, tens of µs apart.
 */
export function stableWord(mem: Int32Array, i: number): number {
  let v = mem[i];
  for (let w = mem[i]; w !== v; w = mem[i]) v = w;
  return v;
}

/**
 * Segments axis a can still take: the ring's mask + 1 slots less one (read == write means empty),
 * less those queued, less the one being made (so at most mask segments are ever held, as a queue
 * of mask segments that holds the running one too: sim/step-generator.ts's queueLength).
 */
export function freeSlots(mem: Int32Array, a: number): number {
  const r = axisWord(mem, a);
  const mask = mem[H_MASK];
  // (the read index stays < 256: one byte, never torn)
  return mask - ((mem[r + A_WR] - mem[r + A_RD]) & mask) - (stableWord(mem, r + A_COUNT) !== 0 ? 1 : 0);
}

/**
 * Queue a segment on axis a: count steps in direction dir, the first `interval` units after the
 * axis' previous step, each next one `add` units longer. The write index moves last, so the
 * routine never sees a half-written segment (indices stay < 256: one byte changes).
 */
export function pushSegment(mem: Int32Array, a: number, dir: number, count: number, interval: number, add: number): void {
  const r = axisWord(mem, a);
  const w = mem[r + A_WR];
  const s = r + A_RING + w * SEG_WORDS;
  mem[s] = dir < 0 ? -1 : 1;
  mem[s + 1] = count;
  putFix(mem, s + 2, interval);
  putFix(mem, s + 4, add);
  mem[r + A_WR] = (w + 1) & mem[H_MASK];
}

/** Signed steps axis a has made since resetAxes. */
export function axisPosition(mem: Int32Array, a: number): number {
  return stableWord(mem, axisWord(mem, a) + A_POS);
}
