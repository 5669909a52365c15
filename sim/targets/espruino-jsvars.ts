/**
 * An estimate of how many Espruino JsVars (the interpreter's fixed-size memory blocks: 5100 of 16 B
 * on a Pico) a set of objects occupies, from Espruino's storage rules (espruino.com/Internals):
 * every object, array and function is one var; every property or array element is a name var,
 * which also holds an integer or boolean value; a float is one more var; names and strings spill
 * into extension vars (~4 characters in the first var, 12 per extension); a typed array is its
 * object and buffer plus 12 bytes per var; a function is its var, its code (a reference into
 * Storage when run from .bootcde), a scope and one var per parameter. Shared objects count once.
 * It counts what is reachable, not the interpreter's own working space: an estimate (±30 %),
 * for comparing builds and boards, not a measurement on a board.
 */
export function estimateJsVars(roots: unknown[]): number {
  const seen = new Set<unknown>();
  const textVars = (s: string) => 1 + Math.ceil(Math.max(0, s.length - 4) / 12);
  const nameVars = (k: string) => textVars(k);
  const valueVars = (v: unknown): number => {
    if (v === null || v === undefined || typeof v === 'boolean') return 0;
    if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? 0 : 1;
    if (typeof v === 'string') return textVars(v);
    return walk(v);
  };
  const walk = (o: unknown): number => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return 0;
    seen.add(o);
    if (ArrayBuffer.isView(o)) return 2 + Math.ceil(o.byteLength / 12);
    let n = 1;
    if (typeof o === 'function') n += 3 + o.length; // header 2, code reference 1, scope 1, one per parameter
    for (const k of Object.getOwnPropertyNames(o)) {
      if (typeof o === 'function' && (k === 'length' || k === 'name' || k === 'arguments' || k === 'caller')) continue;
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      n += Array.isArray(o) && k !== 'length' ? 1 : Array.isArray(o) ? 0 : nameVars(k);
      n += 'value' in d ? valueVars(d.value) : 1;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto && proto !== Object.prototype && proto !== Array.prototype && proto !== Function.prototype) n += walk(proto);
    return n;
  };
  let total = 0;
  for (const r of roots) total += walk(r);
  return total;
}
