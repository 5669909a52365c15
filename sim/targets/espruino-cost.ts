/**
 * What the real Espruino interpreter would spend running the ES5 bundle, charged while the bundle
 * runs in node:vm. Espruino is a tree-walking interpreter that lexes its source as it executes
 * (src/jsparse.c: a called function's body is lexed from its start on every call, a skipped
 * branch or the rest of a block after `return` is lexed token by token, a loop re-lexes its
 * condition and body every iteration, every name is looked up by a linear walk of the scopes'
 * children). So the bundle is rewritten at load time (acorn) so that every executed region adds
 * its static features to counters:
 *
 *   lex      tokens lexed: a function's whole body (nested functions included) per call, the test,
 *            update and body of a loop per iteration, the program once
 *   exec     tokens of statements and expression branches actually executed
 *   call     entries into a JavaScript function
 *   site     call sites executed (native calls are sites without an entry)
 *   member   property accesses executed (a.b, a[b])
 *   lookup   names compared while resolving identifiers (static: the scopes' sizes before the
 *            declaring scope plus the name's place in it)
 *   global   identifiers resolved outside the bundle's functions (root and built-ins)
 *   fundef   function expressions evaluated (a closure: function var, scope, parameters)
 *   timer    setTimeout / setInterval / clearTimeout / clearInterval calls
 *   dispatch callbacks run by the event loop (timers, serial data): counted by the runner
 *
 * and cycles = Σ weight × feature × CPI. The weights (ARM instructions per unit) are fitted
 * against instruction counts of the real interpreter (bench/espruino-cost/, `npm run
 * bench:espruino-calibrate`), stored in espruino-cost-fit.json; CPI is the Pico's (see PICO).
 */
import { parse, tokenizer } from 'acorn';
import vm from 'node:vm';
import fit from './espruino-cost-fit.json';
import type { VirtualMcu } from '../mcu';
import type { ChipCpu, CostSource } from '../chip/cpu';

export const FEATURES = ['lex', 'exec', 'call', 'site', 'member', 'lookup', 'global', 'fundef', 'timer', 'dispatch'] as const;
export type Feature = (typeof FEATURES)[number];
export const NF = FEATURES.length;
const LEX = 0, EXEC = 1, CALL = 2, SITE = 3, MEMBER = 4, LOOKUP = 5, GLOBAL = 6, FUNDEF = 7, TIMER = 8;
export const DISPATCH = 9;

/** The global the instrumented bundle adds to: counters (features mode) or [instructions] (cost mode). */
export const COUNTER = '__hlcost';
const TIMER_FNS = new Set(['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval']);
/** Names in the interpreter's root scope besides the program's own (timers, watches, internals). */
const ROOT_NAMES = 8;

/**
 * An Espruino Pico: STM32F401CD at 84 MHz. CPI of the interpreter on its Cortex-M4 (flash with the
 * ART accelerator, 2 wait states at 84 MHz) is not measured on a board: the one published Pico
 * figure (a 2017 forum post: the Leibniz loop, 1 000 000 iterations in 458 s, 38 472 cycles per
 * iteration) against the 24 555 ARM instructions per iteration the Pico-like ARM build executes
 * today gives 1.57 (an upper bound if the interpreter has not got slower since 2017); typical
 * Cortex-M4 code from flash at 84 MHz runs at 1.2–1.5. We use 1.45, band 1.3–1.6 (±10 %), on top of
 * the ±30 % the Linux ARM build may differ from the STM32 firmware (README in realchips/espruino).
 */
export const PICO = { name: 'pico', hz: 84e6, cpi: 1.45, cpiLow: 1.3, cpiHigh: 1.6 } as const;

/** Fitted ARM instructions per unit of each feature (bench/espruino-cost/calibrate.ts). */
export const WEIGHTS: number[] = FEATURES.map((f) => (fit.weights as Record<string, number>)[f] ?? 0);

type Node = { type: string; start: number; end: number; [k: string]: any };
type Feat = Float64Array;

interface Scope {
  names: string[];
  parent: Scope | null;
}

interface Edit {
  pos: number;
  text: string;
  /** Opening edits at one position: larger (outer) spans first; closing: smaller first. */
  key: number;
}

export interface InstrumentOptions {
  /**
   * 'features': one counter per feature (calibration); 'cost': one counter, ARM instructions;
   * 'profile': ARM instructions per function (COUNTER[i]: the function named functionNames[i],
   * 0 the program's top level), each function's own work without its callees'.
   */
  mode: 'features' | 'cost' | 'profile';
  weights?: number[];
  /** Filled in 'profile' mode: a name per counter (the function's name or what it is assigned to). */
  functionNames?: string[];
}

/**
 * The bundle rewritten to count its own interpreter work in the global COUNTER (an array: NF
 * features, or [instructions]). Behaviour is otherwise unchanged: every insertion is a statement
 * or a comma-expression prefix.
 */
export function instrumentForCost(src: string, opts: InstrumentOptions): string {
  const weights = opts.weights ?? WEIGHTS;
  const ast = parse(src, { ecmaVersion: 2020, sourceType: 'script' }) as unknown as Node;
  const starts: number[] = [];
  for (const t of tokenizer(src, { ecmaVersion: 2020 })) starts.push(t.start);
  const tokensIn = (a: number, b: number) => lowerBound(starts, b) - lowerBound(starts, a);
  const edits: Edit[] = [];

  // Scopes: every function's parameters, vars, function declarations and own name (Espruino's
  // function root holds them; the program's names live in the root).
  const scopeOf = new Map<Node, Scope>();
  const root: Scope = { names: [], parent: null };
  scopeOf.set(ast, root);
  collectScopes(ast, root, scopeOf);

  const names = opts.functionNames ?? [];
  names.length = 0;
  names.push('(top level)');
  const fnId = new Map<Node, number>();
  let current = 0;
  if (opts.mode === 'profile') nameFunctions(ast, src, (fn, name) => fnId.set(fn, names.push(name) - 1));
  const incText = (f: Feat, asExpr: boolean) => {
    const parts: string[] = [];
    if (opts.mode === 'cost' || opts.mode === 'profile') {
      let w = 0;
      for (let i = 0; i < NF; i++) w += f[i] * weights[i];
      if (w > 0) parts.push(`${COUNTER}[${opts.mode === 'cost' ? 0 : current}]+=${Math.round(w)}`);
    } else {
      for (let i = 0; i < NF; i++) if (f[i] !== 0) parts.push(`${COUNTER}[${i}]+=${f[i]}`);
    }
    if (parts.length === 0) return '';
    return asExpr ? parts.join(',') : parts.join(',') + ';';
  };

  /** Features of an expression's own part; branches (&&, ||, ?:) become their own regions. */
  const exprFeatures = (e: Node | null | undefined, scope: Scope, f: Feat, excluded: [number, number][]) => {
    if (!e) return;
    const visit = (n: Node | null | undefined, isRef: boolean): void => {
      if (!n || typeof n.type !== 'string') return;
      switch (n.type) {
        case 'Identifier':
          if (isRef) addLookup(n.name, scope, f);
          return;
        case 'FunctionExpression':
        case 'ArrowFunctionExpression':
          f[FUNDEF] += 1;
          excluded.push([n.body.start, n.body.end]);
          instrumentFunction(n);
          return;
        case 'LogicalExpression':
          visit(n.left, true);
          wrapExpr(n.right, scope);
          excluded.push([n.right.start, n.right.end]);
          return;
        case 'ConditionalExpression':
          visit(n.test, true);
          wrapExpr(n.consequent, scope);
          wrapExpr(n.alternate, scope);
          excluded.push([n.consequent.start, n.consequent.end], [n.alternate.start, n.alternate.end]);
          return;
        case 'MemberExpression':
          f[MEMBER] += 1;
          visit(n.object, true);
          if (n.computed) visit(n.property, true);
          return;
        case 'CallExpression':
        case 'NewExpression':
          f[SITE] += 1;
          if (n.callee.type === 'Identifier' && TIMER_FNS.has(n.callee.name)) f[TIMER] += 1;
          visit(n.callee, true);
          for (const a of n.arguments) visit(a, true);
          return;
        case 'Property':
          if (n.computed) visit(n.key, true);
          visit(n.value, true);
          return;
        case 'Literal':
        case 'ThisExpression':
          return;
        default:
          for (const k in n) {
            if (k === 'type' || k === 'start' || k === 'end') continue;
            const v = n[k];
            if (Array.isArray(v)) for (const x of v) visit(x, true);
            else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v, true);
          }
      }
    };
    visit(e, true);
  };

  /** An expression that counts itself whenever it is evaluated: `(inc, e)`. */
  function wrapExpr(b: Node, scope: Scope) {
    const bf = new Float64Array(NF);
    const bx: [number, number][] = [];
    exprFeatures(b, scope, bf, bx);
    bf[EXEC] += ownTokens(b.start, b.end, bx);
    const t = incText(bf, true);
    if (t) {
      edits.push({ pos: b.start, text: `(${t},`, key: -(b.end - b.start) });
      edits.push({ pos: b.end, text: ')', key: b.end - b.start });
    }
  }

  const ownTokens = (a: number, b: number, excluded: [number, number][]) => {
    let n = tokensIn(a, b);
    for (const [x, y] of mergeRanges(excluded)) n -= tokensIn(x, y);
    return n;
  };

  function addLookup(name: string, scope: Scope, f: Feat) {
    let cost = 0;
    for (let s: Scope | null = scope; s; s = s.parent) {
      const i = s.names.indexOf(name);
      if (i >= 0) {
        f[LOOKUP] += cost + i + 1;
        return;
      }
      cost += s === root ? s.names.length + ROOT_NAMES : s.names.length;
    }
    f[LOOKUP] += cost;
    f[GLOBAL] += 1;
  }

  /** The features of a statement's own part (headers of compound statements, whole simple ones). */
  const statementFeatures = (s: Node, scope: Scope): Feat => {
    const f = new Float64Array(NF);
    const own = (e: Node | null | undefined) => {
      if (!e) return;
      const x: [number, number][] = [];
      exprFeatures(e, scope, f, x);
      f[EXEC] += ownTokens(e.start, e.end, x);
    };
    switch (s.type) {
      case 'ExpressionStatement':
      case 'ReturnStatement':
      case 'ThrowStatement':
        own(s.type === 'ExpressionStatement' ? s.expression : s.argument);
        f[EXEC] += 1; // the keyword or ';'
        break;
      case 'VariableDeclaration':
        for (const d of s.declarations) {
          addLookup(d.id.name, scope, f);
          own(d.init);
        }
        f[EXEC] += 1 + s.declarations.length;
        break;
      case 'IfStatement':
        own(s.test);
        f[EXEC] += 3;
        break;
      case 'ForStatement':
        if (s.init && s.init.type === 'VariableDeclaration') for (const d of s.init.declarations) {
          addLookup(d.id.name, scope, f);
          own(d.init);
        }
        else own(s.init);
        f[EXEC] += 5;
        break;
      case 'ForInStatement':
        own(s.right);
        f[EXEC] += 5;
        break;
      case 'WhileStatement':
        f[EXEC] += 3;
        break;
      case 'SwitchStatement':
        own(s.discriminant);
        for (const c of s.cases) own(c.test);
        f[EXEC] += 3 + 2 * s.cases.length;
        break;
      case 'FunctionDeclaration':
        f[FUNDEF] += 1;
        break;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'EmptyStatement':
      case 'BlockStatement':
      case 'TryStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
        f[EXEC] += 1;
        break;
      default:
        f[EXEC] += 1;
    }
    return f;
  };

  const doneFunctions = new Set<Node>();

  function instrumentFunction(fn: Node) {
    if (doneFunctions.has(fn)) return;
    doneFunctions.add(fn);
    const scope = scopeOf.get(fn)!;
    const body = fn.body as Node;
    const f = new Float64Array(NF);
    f[CALL] = 1;
    f[LEX] = tokensIn(body.start, body.end);
    const stmts = body.body as Node[];
    let at = body.start + 1;
    for (const s of stmts) if (s.directive !== undefined) at = s.end;
    const outer = current;
    current = fnId.get(fn) ?? 0;
    const t = incText(f, false);
    if (t) edits.push({ pos: at, text: t, key: 0 });
    statementList(stmts, scope);
    current = outer;
  }

  function statementList(list: Node[], scope: Scope) {
    for (const s of list) {
      if (s.directive !== undefined) continue;
      statement(s, scope, false);
    }
  }

  /** Instrument one statement; `wrap`: it is a lone statement body (if/loop) and gets braces. */
  function statement(s: Node, scope: Scope, wrap: boolean) {
    const f = statementFeatures(s, scope);
    const t = incText(f, false);
    if (wrap) {
      edits.push({ pos: s.start, text: '{' + t, key: -(s.end - s.start) - 0.5 });
      edits.push({ pos: s.end, text: '}', key: s.end - s.start + 0.5 });
    } else if (t) edits.push({ pos: s.start, text: t, key: -(s.end - s.start) - 0.5 });
    switch (s.type) {
      case 'FunctionDeclaration':
        instrumentFunction(s);
        break;
      case 'BlockStatement':
        statementList(s.body, scope);
        break;
      case 'IfStatement':
        body(s.consequent, scope);
        if (s.alternate) body(s.alternate, scope);
        break;
      case 'ForStatement':
      case 'ForInStatement':
      case 'WhileStatement':
      case 'DoWhileStatement':
        loopBody(s, scope);
        break;
      case 'LabeledStatement':
        // not wrapped: `continue label` needs the loop directly under its label
        if (/(For|While)/.test(s.body.type)) {
          const inner = statementFeatures(s.body, scope);
          const it = incText(inner, false);
          if (it) edits.push({ pos: s.start, text: it, key: -(s.end - s.start) - 1 });
          loopBody(s.body, scope);
        } else body(s.body, scope);
        break;
      case 'TryStatement':
        statementList(s.block.body, scope);
        if (s.handler) statementList(s.handler.body.body, scope);
        if (s.finalizer) statementList(s.finalizer.body, scope);
        break;
      case 'SwitchStatement':
        for (const c of s.cases) statementList(c.consequent, scope);
        break;
    }
  }

  function body(b: Node, scope: Scope) {
    if (b.type === 'BlockStatement') statementList(b.body, scope);
    else statement(b, scope, true);
  }

  /** A loop: its test and update count themselves each time they run; each iteration re-lexes it. */
  function loopBody(s: Node, scope: Scope) {
    if (s.test) wrapExpr(s.test, scope);
    if (s.update) wrapExpr(s.update, scope);
    const f = new Float64Array(NF);
    f[LEX] = tokensIn(s.start, s.end);
    const t = incText(f, false);
    const b = s.body as Node;
    if (b.type === 'BlockStatement') {
      if (t) edits.push({ pos: b.start + 1, text: t, key: 0 });
      statementList(b.body, scope);
    } else {
      edits.push({ pos: b.start, text: '{' + t, key: -(b.end - b.start) - 0.75 });
      edits.push({ pos: b.end, text: '}', key: b.end - b.start + 0.75 });
      statement(b, scope, false);
    }
  }

  // The program: lexed once, its statements run once.
  const pf = new Float64Array(NF);
  pf[LEX] = starts.length;
  const pt = incText(pf, false);
  statementList(ast.body as Node[], root);
  edits.push({ pos: 0, text: pt, key: -Infinity });

  edits.sort((a, b) => a.pos - b.pos || a.key - b.key);
  let out = '';
  let last = 0;
  for (const e of edits) {
    out += src.slice(last, e.pos) + e.text;
    last = e.pos;
  }
  return out + src.slice(last);
}

/** Name every function: its own name, or the source of what it is assigned to (`y.prototype.fill`). */
function nameFunctions(ast: Node, src: string, put: (fn: Node, name: string) => void): void {
  const walk = (n: any, parent: any) => {
    if (!n || typeof n.type !== 'string') return;
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression') {
      let name = n.id?.name as string | undefined;
      if (parent?.type === 'AssignmentExpression' && parent.right === n) name = src.slice(parent.left.start, parent.left.end);
      else if (parent?.type === 'VariableDeclarator' && parent.init === n) name = parent.id.name;
      else if (parent?.type === 'Property' && parent.value === n) name = parent.key.name ?? String(parent.key.value);
      put(n, `${name ?? 'anonymous'} @${n.start}`);
    }
    for (const k in n) {
      if (k === 'type' || k === 'start' || k === 'end') continue;
      const v = n[k];
      if (Array.isArray(v)) for (const x of v) walk(x, n);
      else if (v && typeof v === 'object') walk(v, n);
    }
  };
  walk(ast, null);
}

function lowerBound(a: number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function mergeRanges(r: [number, number][]): [number, number][] {
  const s = [...r].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const x of s) {
    const l = out[out.length - 1];
    if (l && x[0] <= l[1]) l[1] = Math.max(l[1], x[1]);
    else out.push([x[0], x[1]]);
  }
  return out;
}

/** Every function's scope: parameters, then own name, then vars and function declarations in source order. */
function collectScopes(program: Node, root: Scope, scopeOf: Map<Node, Scope>) {
  const declare = (s: Scope, name: string) => {
    if (!s.names.includes(name)) s.names.push(name);
  };
  const walk = (n: any, scope: Scope) => {
    if (!n || typeof n.type !== 'string') return;
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') {
      if (n.type === 'FunctionDeclaration' && n.id) declare(scope, n.id.name);
      const s: Scope = { names: [], parent: scope };
      for (const p of n.params) if (p.type === 'Identifier') declare(s, p.name);
      if (n.type === 'FunctionExpression' && n.id) declare(s, n.id.name);
      scopeOf.set(n, s);
      walk(n.body, s);
      return;
    }
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier') declare(scope, n.id.name);
    for (const k in n) {
      if (k === 'type' || k === 'start' || k === 'end') continue;
      const v = n[k];
      if (Array.isArray(v)) for (const x of v) walk(x, scope);
      else if (v && typeof v === 'object') walk(v, scope);
    }
  };
  walk(program, root);
}

/** Instructions from a features vector. */
export function instructionsOf(features: ArrayLike<number>, weights: number[] = WEIGHTS): number {
  let s = 0;
  for (let i = 0; i < NF; i++) s += features[i] * weights[i];
  return s;
}

let costSource: { src: string; out: string } | null = null;

/** The bundle in cost mode (one counter of ARM instructions), cached per source text. */
export function costInstrumented(src: string): string {
  if (costSource?.src !== src) costSource = { src, out: instrumentForCost(src, { mode: 'cost' }) };
  return costSource.out;
}

const fitted = fit as { looRmsError: number; heldOutRmsError: number; app: string; espruino: string };

/** The Espruino target's cost model per --chip (sim/chip/cpu.ts CostSource). */
export const ESPRUINO_COST_MODELS: Record<string, CostSource> = {
  pico: {
    source:
      `the ES5 bundle instrumented in node:vm (tokens lexed/executed, calls, property accesses, scope look-ups, timer calls, dispatches: sim/targets/espruino-cost.ts), ` +
      `weights fitted to ARM instruction counts of the real Espruino ${fitted.espruino.slice(0, 8)} (Pico-like 32-bit build, qemu-arm, virtual time; npm run bench:espruino-calibrate), ` +
      `× CPI ${PICO.cpi} on the Pico's Cortex-M4 at 84 MHz (the 2017 Pico Leibniz-loop timing gives ≤ 1.57)`,
    uncertainty:
      `model vs real instruction counts: ${(100 * fitted.heldOutRmsError).toFixed(0)} % RMS on held-out workloads (${(100 * fitted.looRmsError).toFixed(0)} % leave-one-out); ` +
      `CPI ${PICO.cpiLow}–${PICO.cpiHigh}; Linux ARM build vs the STM32 firmware ±30 %`,
  },
};

const JS_WORK = 'JavaScript (Espruino interpreter, ARM instructions by the model)';
const DISPATCH_WORK = 'event-loop dispatch (timer callback, serial data)';

/**
 * The Espruino app charged to a chip (mcu.cpu, sim/chip/cpu.ts): the bundle runs instrumented in
 * cost mode; its instruction count is charged as cycles (× CPI) at every primitive the app calls
 * (the clock, timers, pins, serial: so each sees the time the work so far took) and at the end of
 * every entry (a timer callback or serial data: entry + the event loop's dispatch; a command from
 * the simulator's host side: entry). Reading the app's state for the simulator is not charged.
 */
export interface EspruinoCharging {
  readonly cpu: ChipCpu;
  /** The MCU as the shim should see it: its timer callbacks are entries into the app. */
  readonly shimMcu: VirtualMcu;
  /** After the shim's globals (`names`) are in ctx: charge the work so far before each primitive runs. */
  wrapGlobals(ctx: vm.Context, names: string[]): void;
  /** Run the bundle (instrumented) in ctx, charged as the boot entry. */
  load(src: string, filename: string, ctx: vm.Context): void;
  /**
   * After load: the HAL's setTimer (the runtime's step timer) reports its deadlines to the chip,
   * unless `generatorUsed()`: then the routine makes every step, the timer only refills its queues,
   * polls switches and rests, and the routine itself judges lateness (a phase written after it was due).
   */
  watchTimer(ctx: vm.Context, generatorUsed: () => boolean): void;
  /** An entry into the app; `dispatch`: from the event loop (serial data), not a direct call. */
  charged<T>(f: () => T, dispatch?: boolean): T;
  /** Code the simulator runs for itself (reading status): not charged. */
  uncharged<T>(f: () => T): T;
}

export function espruinoCharging(mcu: VirtualMcu, cpu: ChipCpu): EspruinoCharging {
  if (!ESPRUINO_COST_MODELS[cpu.chip.name]) throw new Error(`espruino target: no cost model for chip ${cpu.chip.name}`);
  const counter = [0];
  const cyclesPerInsn = PICO.cpi;
  const dispatchInsns = WEIGHTS[DISPATCH];
  let taken = 0;
  let depth = 0;
  const flush = () => {
    const n = counter[0] - taken;
    taken = counter[0];
    if (n > 0 && depth > 0) cpu.charge(n * cyclesPerInsn, JS_WORK, Math.round(n));
  };
  const discard = () => {
    taken = counter[0];
  };
  const charged = <T>(f: () => T, dispatch = false): T => {
    if (depth === 0) discard();
    depth++;
    if (depth === 1) {
      cpu.entry();
      if (dispatch) cpu.charge(dispatchInsns * cyclesPerInsn, DISPATCH_WORK, 1);
    }
    try {
      return f();
    } finally {
      flush();
      depth--;
    }
  };
  const uncharged = <T>(f: () => T): T => {
    if (depth > 0) return f();
    try {
      return f();
    } finally {
      discard();
    }
  };
  const shimMcu = Object.create(mcu) as VirtualMcu;
  shimMcu.setTimer = (slot: number, atUs: number, fn: () => void) => mcu.setTimer(slot, atUs, () => charged(fn, true));
  return {
    cpu,
    shimMcu,
    wrapGlobals(ctx, names) {
      const g = ctx as Record<string, unknown>;
      g[COUNTER] = counter;
      // Every function the firmware offers (the shim's globals, their methods, require()d modules):
      // the work so far is charged before it runs, so it sees the clock the work took.
      const wrap = (f: (...a: unknown[]) => unknown) => {
        const w = function (this: unknown, ...a: unknown[]) {
          flush();
          // a constructor (Pin) stays one: `new` builds f's instance
          return new.target ? Reflect.construct(f, a) : f.apply(this, a);
        };
        if (f.prototype) w.prototype = f.prototype;
        return w;
      };
      const wrapMethods = (o: Record<string, unknown>) => {
        for (const k of Object.keys(o)) if (typeof o[k] === 'function') o[k] = wrap(o[k] as (...a: unknown[]) => unknown);
        return o;
      };
      const modules = new Map<unknown, unknown>();
      for (const name of names) {
        const v = g[name];
        if (name === 'require' && typeof v === 'function') {
          g[name] = (id: string) => {
            const m = (v as (id: string) => unknown)(id);
            if (!m || typeof m !== 'object') return m;
            if (!modules.has(m)) modules.set(m, wrapMethods({ ...(m as Record<string, unknown>) }));
            return modules.get(m);
          };
        } else if (typeof v === 'function') g[name] = wrap(v as (...a: unknown[]) => unknown);
        else if (v && typeof v === 'object') wrapMethods(v as Record<string, unknown>);
      }
    },
    load(src, filename, ctx) {
      const script = new vm.Script(costInstrumented(src), { filename: filename + ' (cost-instrumented)' });
      charged(() => script.runInContext(ctx));
    },
    watchTimer(ctx, generatorUsed) {
      const proto = vm.runInContext('hooklineApp.EspruinoHal.prototype', ctx) as { setTimer(d: number, fn: () => void): void };
      const setTimer = proto.setTimer;
      proto.setTimer = function (this: unknown, delayUs: number, fn: () => void) {
        flush();
        const due = mcu.now + (delayUs > 0 ? delayUs : 0);
        const judged = !generatorUsed();
        return setTimer.call(this, delayUs, () => {
          if (judged) cpu.deadline(due, "the runtime's step timer");
          fn();
        });
      };
    },
    charged,
    uncharged,
  };
}
