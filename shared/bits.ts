/**
 * Small integer helpers for the device-safe subset. Everything here stays below 2^31, so it is
 * exact in ES5 numbers and in Lua 5.3 integers, including 32-bit builds such as fengari.
 */

/** Number of bits needed to write n >= 0 in binary (0 for 0). */
export function bitLength(n: number): number {
  let bits = 0;
  let v = n;
  while (v > 0) {
    bits++;
    v = Math.floor(v / 2);
  }
  return bits;
}
