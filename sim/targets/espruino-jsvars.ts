import vm from 'node:vm';
import { parse } from 'acorn';
import { VirtualMcu } from '../mcu';
import { espruinoShim } from './espruino-shim';

/**
 * Object.prototype, Array.prototype or Function.prototype of any realm: the firmware runs in a
 * node:vm context, whose built-ins are not this realm's (comparing with Object.prototype here
 * would walk, and count, the context's whole standard library).
 */
function isBuiltinPrototype(p: object): boolean {
  const c = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as { name?: string; prototype?: unknown } | undefined;
  return typeof c === 'function' && c.prototype === p && (c.name === 'Object' || c.name === 'Array' || c.name === 'Function');
}

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
 *
 * `countedElsewhere`: objects (and what only they reach) not to count, e.g. a class prototype
 * shared by many instances.
 */
export function estimateJsVars(roots: unknown[], countedElsewhere: unknown[] = []): number {
  const seen = new Set<unknown>(countedElsewhere);
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
    if (proto && !isBuiltinPrototype(proto)) n += walk(proto);
    return n;
  };
  let total = 0;
  for (const r of roots) total += walk(r);
  return total;
}

/**
 * The Espruino app (`src`: dist/espruino/app.js) at rest after boot and homing for a machine
 * profile (JSON text), in JsVars: the runtime, link session and HAL it builds (estimateJsVars) plus
 * the bundle's module-level functions and variables, which live in its closure (4 vars + 1 per
 * parameter for a function, 1 for a variable: an over-count, some are the classes counted again).
 */
export function appJsVarsAtRest(src: string, profileJson: string): number {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const iife = (parse(src, { ecmaVersion: 5 }) as any).body[0].declarations[0].init.callee.body.body as any[];
  let moduleVars = 0;
  for (const n of iife) {
    if (n.type === 'FunctionDeclaration') moduleVars += 4 + n.params.length;
    if (n.type === 'VariableDeclaration') moduleVars += n.declarations.length;
  }
  const shim = espruinoShim(new VirtualMcu(), 0);
  const ctx = vm.createContext({ ...shim.globals });
  vm.runInContext(src, ctx);
  ctx.__profile = profileJson;
  const live = vm.runInContext(
    `(function () { var a = hooklineApp, h = new a.EspruinoHal(), rt = a.makeRuntime(h, JSON.parse(__profile));
      var s = new a.LinkSession(rt, h, 1, 2, function () {}); rt.boot(); s.boot(); rt.home(); return [rt, s, h]; })()`,
    ctx,
  ) as unknown[];
  return estimateJsVars(live) + moduleVars;
}

/**
 * The state of one StreamDecoder from the library bundle `src` (dist/espruino/hookline.js), in
 * JsVars: its fields and tables, not its class's methods (code, shared; issue #5 asks ≤ 1 KB).
 */
export function decoderJsVars(src: string): number {
  const ctx = vm.createContext({});
  vm.runInContext(src, ctx);
  const d = vm.runInContext('new hookline.StreamDecoder()', ctx) as object;
  return estimateJsVars([d], [Object.getPrototypeOf(d)]);
}
