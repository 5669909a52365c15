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
