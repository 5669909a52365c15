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
 * Espruino's string packing for a Pico (13-byte JsVars, 13-bit references; src/jsutils.h at
 * c5ff787b): a property name holds 4 characters in its own var (JSVAR_DATA_STRING_NAME_LEN), a
 * string value 8 (JSVAR_DATA_STRING_LEN); each extension var holds 9 more (JSVAR_DATA_STRING_MAX_LEN);
 * a buffer longer than 17 bytes (JSV_FLAT_STRING_BREAK_EVEN) is a flat string: one header var and
 * 13 bytes per var.
 */
const NAME_CHARS = 4;
const STRING_CHARS = 8;
const EXT_CHARS = 9;
const FLAT_BREAK_EVEN = 17;
const VAR_BYTES = 13;

/**
 * An estimate of how many Espruino JsVars (the interpreter's fixed-size memory blocks: 5100 of 13 B
 * on a Pico) a set of objects occupies, from Espruino's storage rules as its own source and
 * `E.dumpVariables()` in the Pico-like ARM build show them (docs/targets/espruino.md "Memory"):
 * every object, array and function is one var; every property or array element is a name var
 * (packed as above), which also holds an integer value; a float, a boolean or null is one more var;
 * an object made with `new` has a `__proto__` name (2 vars); a typed array is a view, an
 * ArrayBuffer and its bytes (flat above 17 bytes); a function is its var, its code (a name and a
 * reference into Storage when run from .bootcde: 2), one var per parameter, and its scope: 1 var
 * where it was defined in one scope (the bundle's: methods and module functions), 4 for a closure
 * made inside a function (the scope list is copied into an array: name, array, one per scope).
 * Shared objects count once. It counts what is reachable, not the interpreter's own working space:
 * calibrated against the real interpreter by test/espruino-real.test.ts.
 *
 * `countedElsewhere`: objects (and what only they reach) not to count, e.g. a class prototype
 * shared by many instances. `closures`: functions made inside another function (scope of 4).
 */
export function estimateJsVars(roots: unknown[], countedElsewhere: unknown[] = [], closures: Set<unknown> = new Set()): number {
  const seen = new Set<unknown>(countedElsewhere);
  const ext = (len: number, first: number) => (len <= first ? 0 : Math.ceil((len - first) / EXT_CHARS));
  const nameVars = (k: string) => 1 + ext(k.length, NAME_CHARS);
  const bytesVars = (n: number) => (n > FLAT_BREAK_EVEN ? 1 + Math.ceil(n / VAR_BYTES) : 1 + ext(n, STRING_CHARS));
  const valueVars = (v: unknown, arrayElement: boolean): number => {
    if (v === undefined) return 0;
    if (v === null) return 1;
    if (typeof v === 'boolean') return arrayElement ? 0 : 1;
    if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? 0 : 1;
    if (typeof v === 'string') return bytesVars(v.length);
    return walk(v);
  };
  const walk = (o: unknown): number => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return 0;
    seen.add(o);
    if (ArrayBuffer.isView(o)) return 2 + bytesVars(o.byteLength);
    let n = 1;
    if (typeof o === 'function') n += 2 + o.length + (closures.has(o) ? 4 : 1);
    const isArray = Array.isArray(o);
    for (const k of Object.getOwnPropertyNames(o)) {
      if (typeof o === 'function' && (k === 'length' || k === 'name' || k === 'arguments' || k === 'caller')) continue;
      if (isArray && k === 'length') continue;
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      // V8 gives every function a prototype; Espruino makes one only when code touches it.
      if (typeof o === 'function' && k === 'prototype' && Object.getOwnPropertyNames(d.value).length <= 1) continue;
      n += isArray ? 1 : nameVars(k);
      n += 'value' in d ? valueVars(d.value, isArray) : 1;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto && !isBuiltinPrototype(proto)) n += nameVars('__proto__') + walk(proto);
    return n;
  };
  let total = 0;
  for (const r of roots) total += walk(r);
  return total;
}

/**
 * The Espruino app (`src`: dist/espruino/app.js) at rest after boot for a machine profile (JSON
 * text, without the fields the app deletes), in JsVars: what the bundle's scope
 * holds (every module-level function and variable: a name var each, and what it reaches, classes
 * with their prototypes) and the runtime, link session and HAL that start() builds, with their
 * closures. The bundle is run in node:vm with the Espruino shim (a Pico unless `opts.board` names
 * another board) and a line added at the end of its scope that hands the module-level bindings out;
 * the rest is estimateJsVars.
 */
export function appJsVarsAtRest(src: string, profileJson: string, opts: { board?: string } = {}): number {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const prog = parse(src, { ecmaVersion: 5 }) as any;
  const call = prog.body[0]?.expression;
  const fn = call?.type === 'CallExpression' ? call.callee : null;
  if (!fn || fn.type !== 'FunctionExpression') throw new Error('appJsVarsAtRest: expected the app bundle to be one IIFE');
  const names: string[] = [];
  for (const n of fn.body.body) {
    if (n.type === 'FunctionDeclaration') names.push(n.id.name);
    if (n.type === 'VariableDeclaration') for (const d of n.declarations) names.push(d.id.name);
  }
  const at = fn.body.end - 1; // before the IIFE's closing brace
  const probe = `;__hlModule=[${names.map((k) => JSON.stringify(k) + ',' + k).join(',')}];`;
  const shim = espruinoShim(new VirtualMcu(), 0);
  const ctx = vm.createContext({ ...shim.globals });
  // The board the app believes it is on decides what it builds (a Pico: the step generator and its
  // buffer); the realchips Linux build reports its own (LINUX_PICOLIKE_ARM: no generator).
  if (opts.board !== undefined) {
    const p = shim.globals.process as { version: string; env: Record<string, string> };
    ctx.process = { ...p, env: { ...p.env, BOARD: opts.board } };
  }
  vm.runInContext(src.slice(0, at) + probe + src.slice(at), ctx);
  // (start() deletes the fields nothing on the device reads: device/espruino/main.ts)
  const profile = JSON.parse(profileJson) as { description?: string; format?: string; version?: number; name?: string };
  delete profile.description;
  delete profile.format;
  delete profile.version;
  delete profile.name;
  ctx.__profile = JSON.stringify(profile);
  // As start() builds them: the closures it makes (port handler, tick, write) are functions made
  // inside a function; so are the HAL's timer trampoline and the stepper's tick function.
  const live = vm.runInContext(
    `(function () { var a = hooklineApp, h = new a.EspruinoHal(), rt = a.makeRuntime(h, JSON.parse(__profile));
      var w = function (b) {}, s = new a.LinkSession(rt, h, 1, 2, w); rt.boot(); s.boot();
      return [rt, s, h, w, function (d) {}, function () {}]; })()`,
    ctx,
  ) as unknown[];
  const closures = new Set<unknown>(live.slice(3));
  const collect = (o: unknown, depth: number) => {
    if (depth > 4 || o === null || typeof o !== 'object') return;
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'function' && k !== 'constructor') closures.add(v);
      else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) collect(v, depth + 1);
    }
  };
  for (const o of live.slice(0, 3)) collect(o, 0); // own function-valued fields: made in a constructor
  const mod = ctx.__hlModule as unknown[];
  let moduleVars = 1; // the scope itself
  const values: unknown[] = [];
  for (let i = 0; i < mod.length; i += 2) {
    moduleVars += 1 + Math.ceil(Math.max(0, (mod[i] as string).length - NAME_CHARS) / EXT_CHARS);
    const v = mod[i + 1];
    if (typeof v === 'number' && !(Number.isInteger(v) && Math.abs(v) < 2 ** 31)) moduleVars += 1;
    else if (typeof v === 'string') moduleVars += 1 + Math.ceil(Math.max(0, v.length - STRING_CHARS) / EXT_CHARS);
    else values.push(v);
  }
  return moduleVars + estimateJsVars([...values, ...live], [], closures);
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
