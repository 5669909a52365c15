/**
 * A fixed-size table of non-negative integers below 2^32, zero-filled. Where the platform has typed
 * arrays (Espruino, browsers, Node) it is a Uint32Array — one flat block instead of one 12–16-byte
 * JsVar per entry on Espruino; in Lua (typescript-to-lua) `Uint32Array` does not exist and it is a
 * plain table. Callers index it like an array and never change its length.
 */
export function numberTable(size: number): number[] {
  if (typeof Uint32Array !== 'undefined') return new Uint32Array(size) as unknown as number[];
  const t: number[] = [];
  for (let i = 0; i < size; i++) t.push(0);
  return t;
}

/**
 * A fixed-size table of numbers (doubles), each `fill` to start: a Float64Array where the platform
 * has typed arrays (8 bytes per value on Espruino instead of one or two 16-byte JsVars), a plain
 * table in Lua. Callers never change its length.
 */
export function floatTable(size: number, fill: number): number[] {
  if (typeof Float64Array !== 'undefined') {
    const t = new Float64Array(size);
    if (fill !== 0) for (let i = 0; i < size; i++) t[i] = fill;
    return t as unknown as number[];
  }
  const t: number[] = [];
  for (let i = 0; i < size; i++) t.push(fill);
  return t;
}

/**
 * A fixed-size table of signed integers within 32 bits, zero-filled: an Int32Array where the
 * platform has typed arrays (4 bytes per value on Espruino, and small integers to V8), an
 * exact-size plain table in Lua. Callers never change its length or store anything outside
 * -2^31 .. 2^31 - 1.
 */
export function intTable(size: number): number[] {
  if (typeof Int32Array !== 'undefined') return new Int32Array(size) as unknown as number[];
  return exactTable(size);
}

/**
 * Lua: a table whose array part has exactly `size` slots. Filled one by one, Lua grows the array
 * part to the next power of two (51 numbers would take 64 slots); a table constructor over a
 * vararg (`{ unpack(t) }`, what typescript-to-lua makes of a spread) sizes it exactly.
 * floatTable does not use it: built this way, the motion planner's tables made the NodeMCU
 * simulation (fengari) ~45 % slower, for a reason not found; the stream decoder's one table is
 * touched per byte, not per step.
 */
function exactTable(size: number): number[] {
  const t: number[] = [];
  for (let i = 0; i < size; i++) t.push(0);
  return [...t];
}

/** numberTable for bytes (0..255): a Uint8Array where there are typed arrays. */
export function byteTable(size: number): number[] {
  if (typeof Uint8Array !== 'undefined') return new Uint8Array(size) as unknown as number[];
  return numberTable(size);
}
