// Build the device runtime for its targets from the one TypeScript source (shared/ + device/):
//   dist/espruino/hookline.js  tsc (ES5 emit) → esbuild (IIFE bundle, ES5), global `hookline`
//   dist/nodemcu/hookline.lua  typescript-to-lua (Lua 5.3), one bundled chunk returning the API
//   dist/nodemcu/5.3/hookline.lua, dist/nodemcu/5.1/hookline.lua  the NodeMCU app (device/nodemcu/main.ts)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'acorn';
import { build, transform } from 'esbuild';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

// tsc's ES5 output goes to a private directory, so builds running at the same time cannot see each
// other's half-written files.
// The Espruino step routine: device/espruino/step-routine.s → device/espruino/step-code.ts (its
// bytes, base64), with the project's own Thumb encoder (no ARM toolchain needed; rewritten only when
// it changes).
run(process.execPath, [new URL('./thumb-asm.mjs', import.meta.url).pathname]);
const es5 = mkdtempSync(join(tmpdir(), 'hookline-es5-'));
run(bin('tsc'), ['-p', 'tsconfig.device.json', '--outDir', es5]);

// tsc's ES5 class: `var C = /** @class */ (function () { function C() {…} C.prototype.m = …; return C; }());`.
// In Espruino every function keeps the scopes it was defined in: one scope is one name var pointing
// at it, two or more are copied into an array per function (a name, the array and one entry per
// scope: 3 vars more). A method defined inside that wrapper sees two scopes (the bundle's and the
// wrapper's), so the wrapper costs 3 JsVars per method, ~500 for the app (measured in the Pico-like
// ARM build, docs/targets/espruino.md "Memory"). Unwrapped the class is the same code one level up:
// `function C() {…} C.prototype.m = …;`. Only wrappers of exactly that shape are unwrapped (no
// parameters, no other declarations, no `this`/`arguments` outside a nested function).
function flattenClassWrappers(file) {
  const src = readFileSync(file, 'utf8');
  const ast = parse(src, { ecmaVersion: 2020, sourceType: 'module' });
  const edits = [];
  const usesOuterThis = (node) => {
    let found = false;
    const walk = (n) => {
      if (found || n === null || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (n.type === 'FunctionExpression' || n.type === 'FunctionDeclaration') return;
      if (n.type === 'ThisExpression' || (n.type === 'Identifier' && n.name === 'arguments')) found = true;
      for (const k in n) if (k !== 'type') walk(n[k]);
    };
    walk(node);
    return found;
  };
  for (const top of ast.body) {
    const decl = top.type === 'ExportNamedDeclaration' ? top.declaration : top;
    if (!decl || decl.type !== 'VariableDeclaration' || decl.declarations.length !== 1) continue;
    const d = decl.declarations[0];
    const call = d.init;
    if (d.id.type !== 'Identifier' || !call || call.type !== 'CallExpression' || call.arguments.length !== 0) continue;
    const fn = call.callee;
    if (fn.type !== 'FunctionExpression' || fn.params.length !== 0 || fn.id) continue;
    const body = fn.body.body;
    const name = d.id.name;
    const first = body[0];
    const last = body[body.length - 1];
    if (body.length < 2 || first.type !== 'FunctionDeclaration' || first.id.name !== name) continue;
    if (last.type !== 'ReturnStatement' || !last.argument || last.argument.type !== 'Identifier' || last.argument.name !== name) continue;
    const middle = body.slice(1, -1);
    if (!middle.every((st) => st.type === 'ExpressionStatement') || middle.some(usesOuterThis)) continue;
    const text = [first, ...middle].map((st) => src.slice(st.start, st.end)).join('\n');
    edits.push({ start: top.start, end: top.end, text: top === decl ? text : 'export ' + text });
  }
  if (edits.length === 0) return 0;
  let out = src;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  writeFileSync(file, out);
  return edits.length;
}
const jsFiles = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? jsFiles(p) : p.endsWith('.js') ? [p] : [];
});
let flattened = 0;
for (const f of jsFiles(es5)) flattened += flattenClassWrappers(f);
if (flattened === 0) throw new Error('build-device: no ES5 class wrapper unwrapped: has tsc\'s class emit changed? (see flattenClassWrappers)');
await build({
  entryPoints: [join(es5, 'device/entry.js')],
  outfile: 'dist/espruino/hookline.js',
  bundle: true,
  format: 'iife',
  globalName: 'hookline',
  target: 'es5',
  platform: 'neutral',
  logLevel: 'warning',
});
// Module-level numeric constants (`var ST_IDLE = 3;`, the link's frame types, ...) are one JsVar
// each in the bundle's scope on Espruino, and every use is a scope look-up: ~150 JsVars at rest.
// In the bundle (one scope: esbuild's IIFE) a `var` whose initialiser is a number (or arithmetic on
// numbers and such constants) and which is never assigned and never declared again in any nested
// scope is replaced by its value at every use, and its declaration dropped.
function inlineConstants(src) {
  const ast = parse(src, { ecmaVersion: 5 });
  const iife = ast.body.length === 1 && ast.body[0].type === 'ExpressionStatement' ? ast.body[0].expression : null;
  const fn = iife && iife.type === 'CallExpression' ? iife.callee : null;
  if (!fn || fn.type !== 'FunctionExpression') throw new Error('build-device: inlineConstants expects one IIFE (esbuild --format=iife)');
  const top = fn.body.body;
  const inits = new Map(); // name -> init expression (top-level var)
  for (const st of top) if (st.type === 'VariableDeclaration') for (const d of st.declarations) if (d.init) inits.set(d.id.name, d.init);
  const boundInside = new Set();
  const assigned = new Set();
  const topDecls = new Set();
  for (const st of top) if (st.type === 'VariableDeclaration') for (const d of st.declarations) topDecls.add(d);
  const walk = (n, visit) => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => walk(c, visit));
    visit(n);
    for (const k in n) if (k !== 'type' && k !== 'start' && k !== 'end') walk(n[k], visit);
  };
  walk(top, (n) => {
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression') {
      for (const p of n.params) boundInside.add(p.name);
      if (n.type === 'FunctionExpression' && n.id) boundInside.add(n.id.name);
    }
    if (n.type === 'VariableDeclarator' && !topDecls.has(n)) boundInside.add(n.id.name);
    if (n.type === 'CatchClause') boundInside.add(n.param.name);
    if (n.type === 'AssignmentExpression' && n.left.type === 'Identifier') assigned.add(n.left.name);
    if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') assigned.add(n.argument.name);
  });
  for (const st of top) if (st.type === 'FunctionDeclaration') boundInside.add(st.id.name); // (a function, not a constant)
  const value = new Map();
  const evaluate = (e) => {
    if (e.type === 'Literal') return typeof e.value === 'number' ? e.value : undefined;
    if (e.type === 'Identifier') return value.get(e.name);
    if (e.type === 'UnaryExpression') {
      const a = evaluate(e.argument);
      return a === undefined ? undefined : e.operator === '-' ? -a : e.operator === '~' ? ~a : e.operator === '+' ? a : undefined;
    }
    if (e.type === 'BinaryExpression') {
      const a = evaluate(e.left);
      const b = evaluate(e.right);
      if (a === undefined || b === undefined) return undefined;
      const ops = { '+': a + b, '-': a - b, '*': a * b, '/': a / b, '%': a % b, '|': a | b, '&': a & b, '^': a ^ b, '<<': a << b, '>>': a >> b, '>>>': a >>> b };
      return ops[e.operator];
    }
    return undefined;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, init] of inits) {
      if (value.has(name) || assigned.has(name) || boundInside.has(name)) continue;
      const v = evaluate(init);
      if (typeof v === 'number' && Number.isFinite(v)) {
        value.set(name, v);
        changed = true;
      }
    }
  }
  // References to replace: identifiers that are not property names, declarations or labels.
  const edits = [];
  const visitRefs = (n, parent, key) => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => visitRefs(c, parent, key));
    if (n.type === 'Identifier' && value.has(n.name)) {
      const isProp = (parent.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent.type === 'Property' && key === 'key');
      const isDecl = parent.type === 'VariableDeclarator' && key === 'id';
      if (!isProp && !isDecl) {
        const v = value.get(n.name);
        const text = Object.is(v, -0) ? '-0' : String(v);
        edits.push({ start: n.start, end: n.end, text: v < 0 || Object.is(v, -0) ? '(' + text + ')' : text });
      }
    }
    for (const k in n) if (k !== 'type' && k !== 'start' && k !== 'end') visitRefs(n[k], n, k);
  };
  visitRefs(fn.body, fn, 'body');
  // Drop the declarations (a kept declarator keeps its text, with its own references replaced).
  const applyIn = (start, end) => {
    let t = src.slice(start, end);
    for (const e of edits.filter((x) => x.start >= start && x.end <= end).sort((x, y) => y.start - x.start)) {
      t = t.slice(0, e.start - start) + e.text + t.slice(e.end - start);
    }
    return t;
  };
  const drops = [];
  for (const st of top) {
    if (st.type !== 'VariableDeclaration') continue;
    const keep = st.declarations.filter((d) => !value.has(d.id.name));
    if (keep.length === st.declarations.length) continue;
    drops.push({ start: st.start, end: st.end, text: keep.length === 0 ? '' : 'var ' + keep.map((d) => applyIn(d.start, d.end)).join(', ') + ';' });
  }
  for (const d of drops) {
    for (let i = edits.length - 1; i >= 0; i--) if (edits[i].start >= d.start && edits[i].end <= d.end) edits.splice(i, 1);
    edits.push(d);
  }
  edits.sort((a, b) => b.start - a.start);
  let out = src;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { code: out, count: value.size };
}

// A property name longer than 4 characters costs Espruino an extension JsVar (9 more characters
// each) for every object or prototype that has it: ~430 JsVars in the app. Names that are only ever
// `private` class members in device/ and shared/ (the TypeScript program of tsconfig.device.json)
// are shortened by esbuild's mangleProps; a name that is also declared anywhere without `private`
// (a public member, an interface or type member, the Espruino API's declarations, the machine
// profile's fields), or appears as a string literal (bracket access), keeps its name, so nothing
// outside the bundle (the simulator, the board's API, Storage JSON) sees a change.
function privateOnlyNames() {
  const ts = createRequire(import.meta.url)('typescript');
  const cfg = ts.getParsedCommandLineOfConfigFile('tsconfig.device.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(cfg.fileNames, cfg.options, ts.createCompilerHost(cfg.options, true)); // (parents set)
  const priv = new Set();
  const pub = new Set();
  const isPrivate = (n) => (ts.getCombinedModifierFlags(n) & ts.ModifierFlags.Private) !== 0;
  const nameOf = (n) => (n.name && (ts.isIdentifier(n.name) || ts.isPrivateIdentifier(n.name)) ? n.name.text : null);
  for (const sf of program.getSourceFiles()) {
    if (sf.fileName.includes('/node_modules/')) continue;
    const visit = (n) => {
      if (ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n) ||
          (ts.isParameter(n) && ts.isConstructorDeclaration(n.parent) && ts.getCombinedModifierFlags(n) & ts.ModifierFlags.ParameterPropertyModifier)) {
        const k = nameOf(n);
        if (k) (isPrivate(n) ? priv : pub).add(k);
      } else if (ts.isPropertySignature(n) || ts.isMethodSignature(n) || ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n) || ts.isEnumMember(n)) {
        const k = nameOf(n);
        if (k) pub.add(k);
      } else if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) {
        pub.add(n.text);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  // (`length`, `constructor`, ... are never private here; keep anything short already.)
  return [...priv].filter((k) => !pub.has(k) && k.length > 2 && /^[A-Za-z_$][\w$]*$/.test(k)).sort();
}

// The Espruino app (device/espruino/main.ts): what `hookline flash --target espruino` stores as
// .bootcde; minified because the board keeps the source in flash and parses it at boot. Bundled
// first, its constants inlined (inlineConstants), then minified.
const appBundle = await build({
  entryPoints: [join(es5, 'device/espruino/main.js')],
  write: false,
  bundle: true,
  format: 'iife', // no globalName: main.ts sets its one global, hooklineApp, itself
  target: 'es5',
  platform: 'neutral',
  external: ['Storage', 'timer'], // Espruino's built-in modules, require()d on the board
  logLevel: 'warning',
});
const inlined = inlineConstants(appBundle.outputFiles[0].text);
if (inlined.count < 50) throw new Error(`build-device: only ${inlined.count} constants inlined in the app: has the bundle's shape changed? (see inlineConstants)`);
console.log(`build-device: app.js: ${flattened} class wrappers unwrapped, ${inlined.count} constants inlined`);
const privateNames = privateOnlyNames();
console.log(`build-device: app.js: ${privateNames.length} private member names shortened`);
const appMin = await transform(inlined.code, {
  minify: true,
  target: 'es5',
  logLevel: 'warning',
  mangleProps: privateNames.length > 0 ? new RegExp(`^(${privateNames.join('|')})$`) : undefined,
});
mkdirSync('dist/espruino', { recursive: true });
writeFileSync('dist/espruino/app.js', appMin.code);

rmSync(es5, { recursive: true, force: true });

// Espruino rejects what V8 accepts: an array's `length` is read-only there (since 2v25, 2023), so
// `a.length = 0` throws "Assignment to a constant" on the board. Fail the build on any assignment
// (or ++/--) to a `.length` member in the Espruino bundles; an object's own field called `length`
// (`this.length = n`, the frame decoder) is allowed. Empty arrays with `a.splice(0, a.length)`.
function rejectLengthAssignments(file) {
  const src = readFileSync(file, 'utf8');
  const bad = [];
  const check = (target, node) => {
    if (target.type !== 'MemberExpression') return;
    const named = target.computed
      ? target.property.type === 'Literal' && target.property.value === 'length'
      : target.property.name === 'length';
    if (named && target.object.type !== 'ThisExpression') bad.push(node.start);
  };
  const walk = (node) => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    if (node.type === 'AssignmentExpression') check(node.left, node);
    if (node.type === 'UpdateExpression') check(node.argument, node);
    for (const key in node) if (key !== 'type') walk(node[key]);
  };
  walk(parse(src, { ecmaVersion: 5 }));
  if (bad.length > 0) {
    const at = bad.map((i) => `  ${file} @${i}: ${src.slice(Math.max(0, i - 30), i + 30)}`).join('\n');
    throw new Error(
      `build-device: ${bad.length} assignment(s) to .length in ${file}. Espruino makes an array's ` +
        `length read-only ("Assignment to a constant"); use a.splice(0, a.length) instead:\n${at}`,
    );
  }
}
rejectLengthAssignments('dist/espruino/app.js');
rejectLengthAssignments('dist/espruino/hookline.js');

// What else Espruino (2v29, the Pico-like build in ../shared/realchips/espruino, asked with `typeof`
// and property reads) does not have, though ES5/ES2015 code may use it: these globals (RangeError
// too: `new RangeError(…)` is a ReferenceError there), these static functions, and these methods
// (a missing method on a string or number primitive even throws "Field or method … does not
// already exist"). A use guarded by `typeof NAME` in the enclosing condition (esbuild's own
// `typeof Proxy != "undefined" ? new Proxy(…) : …`) is allowed.
const ESPRUINO_MISSING_GLOBALS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'Proxy', 'Reflect', 'BigInt', 'RangeError', 'escape', 'unescape', 'setImmediate', 'queueMicrotask']);
const ESPRUINO_MISSING_STATICS = {
  Object: ['freeze', 'is'],
  Array: ['from', 'of'],
  Math: ['trunc', 'log2', 'log10', 'hypot', 'cbrt', 'imul', 'clz32', 'fround', 'expm1', 'log1p', 'sinh', 'cosh', 'tanh', 'asinh'],
  Number: ['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'parseFloat', 'parseInt', 'EPSILON', 'MAX_SAFE_INTEGER'],
  String: ['fromCodePoint', 'raw'],
};
const ESPRUINO_MISSING_METHODS = new Set(['codePointAt', 'localeCompare', 'normalize', 'toPrecision', 'flat', 'flatMap']);
function rejectMissingBuiltins(file) {
  const src = readFileSync(file, 'utf8');
  const bad = [];
  const guardedBy = (test) => {
    const names = new Set();
    const walk = (n) => {
      if (n === null || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (n.type === 'UnaryExpression' && n.operator === 'typeof' && n.argument.type === 'Identifier') names.add(n.argument.name);
      for (const k in n) if (k !== 'type') walk(n[k]);
    };
    walk(test);
    return names;
  };
  const bound = new Set(); // (the bundle declares none of these names; if it did, skip them)
  const walk = (n, parent, key, guards) => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => walk(c, parent, key, guards));
    if (n.type === 'VariableDeclarator' || n.type === 'FunctionDeclaration') bound.add(n.id.name);
    if (n.type === 'Identifier' && ESPRUINO_MISSING_GLOBALS.has(n.name) && !guards.has(n.name)) {
      const isProp = (parent.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent.type === 'Property' && key === 'key');
      const isTypeof = parent.type === 'UnaryExpression' && parent.operator === 'typeof';
      if (!isProp && !isTypeof) bad.push({ at: n.start, what: n.name });
    }
    if (n.type === 'MemberExpression' && !n.computed && n.object.type === 'Identifier' && ESPRUINO_MISSING_STATICS[n.object.name]?.includes(n.property.name)) {
      bad.push({ at: n.start, what: `${n.object.name}.${n.property.name}` });
    }
    if (n.type === 'CallExpression' && n.callee.type === 'MemberExpression' && !n.callee.computed && ESPRUINO_MISSING_METHODS.has(n.callee.property.name)) {
      bad.push({ at: n.start, what: `.${n.callee.property.name}()` });
    }
    let inner = guards;
    if ((n.type === 'ConditionalExpression' || n.type === 'IfStatement' || n.type === 'LogicalExpression') && (n.test || n.left)) {
      inner = new Set([...guards, ...guardedBy(n.test ?? n.left)]);
    }
    for (const k in n) if (k !== 'type' && k !== 'start' && k !== 'end') walk(n[k], n, k, k === 'test' ? guards : inner);
  };
  walk(parse(src, { ecmaVersion: 5 }), {}, '', new Set());
  const real = bad.filter((b) => !bound.has(b.what));
  if (real.length > 0) {
    const at = real.map((b) => `  ${file} @${b.at}: ${b.what}: ${src.slice(Math.max(0, b.at - 30), b.at + 40)}`).join('\n');
    throw new Error(`build-device: ${real.length} use(s) of what Espruino does not have in ${file} (see ESPRUINO_MISSING_* in scripts/build-device.mjs):\n${at}`);
  }
}
rejectMissingBuiltins('dist/espruino/app.js');
rejectMissingBuiltins('dist/espruino/hookline.js');

run(bin('tstl'), ['-p', 'tsconfig.lua.json']);
// The NodeMCU app (device/nodemcu/main.ts: runtime + NodeMcuHal + link session) for both Lua
// versions in the field: 5.3 (native bitwise operators) and 5.1, built as typescript-to-lua's
// "JIT" target, whose bitwise operations call the `bit` module NodeMCU's 5.1 firmware has.
run(bin('tstl'), ['-p', 'tsconfig.lua53.json']);
run(bin('tstl'), ['-p', 'tsconfig.lua51.json']);

/**
 * NodeMCU keeps its libraries (math, string, table, bit) in ROM tables in flash, where every
 * `math.floor` is two slow look-ups (the global, then the field: ≈ 2700 cycles each,
 * docs/targets.md "Chip cost"). NodeMCU's own advice is to cache them in locals: each library
 * function the app uses becomes one chunk-level local, read as an upvalue (one VM instruction).
 */
function cacheRomFunctions(file) {
  const src = readFileSync(file, 'utf8');
  const used = new Set();
  const out = src.replace(/(?<![\w.:])(math|string|table|bit)\.([A-Za-z_]\w*)\b(?!\s*=[^=])/g, (m, lib, name) => {
    used.add(`${lib}.${name}`);
    return `__rom_${lib}_${name}`;
  });
  const names = [...used].sort();
  const locals = names.map((n) => `local __rom_${n.replace('.', '_')} = ${n}`).join('\n');
  const nl = out.indexOf('\n');
  writeFileSync(file, `${out.slice(0, nl + 1)}-- NodeMCU ROM-table functions cached in locals (scripts/build-device.mjs, cacheRomFunctions)\n${locals}\n${out.slice(nl + 1)}`);
}
cacheRomFunctions('dist/nodemcu/5.3/hookline.lua');
cacheRomFunctions('dist/nodemcu/5.1/hookline.lua');
