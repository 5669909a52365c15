// Build the device runtime for its targets from the one TypeScript source (shared/ + device/):
//   dist/espruino/hookline.js  tsc (ES5 emit) → esbuild (IIFE bundle, ES5), global `hookline`
//   dist/nodemcu/hookline.lua  typescript-to-lua (Lua 5.3), one bundled chunk returning the API
//   dist/nodemcu/5.3/hookline.lua, dist/nodemcu/5.1/hookline.lua  the NodeMCU app (device/nodemcu/main.ts)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'acorn';
import { build } from 'esbuild';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

// tsc's ES5 output goes to a private directory, so builds running at the same time cannot see each
// other's half-written files.
const es5 = mkdtempSync(join(tmpdir(), 'hookline-es5-'));
run(bin('tsc'), ['-p', 'tsconfig.device.json', '--outDir', es5]);
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
// The Espruino app (device/espruino/main.ts): what `hookline flash --target espruino` stores as
// .bootcde; minified because the board keeps the source in flash and parses it at boot.
await build({
  entryPoints: [join(es5, 'device/espruino/main.js')],
  outfile: 'dist/espruino/app.js',
  bundle: true,
  format: 'iife',
  globalName: 'hooklineApp',
  target: 'es5',
  platform: 'neutral',
  external: ['Storage'], // Espruino's built-in module, require()d on the board
  minify: true,
  logLevel: 'warning',
});

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

run(bin('tstl'), ['-p', 'tsconfig.lua.json']);
// The NodeMCU app (device/nodemcu/main.ts: runtime + NodeMcuHal + link session) for both Lua
// versions in the field: 5.3 (native bitwise operators) and 5.1, built as typescript-to-lua's
// "JIT" target, whose bitwise operations call the `bit` module NodeMCU's 5.1 firmware has.
run(bin('tstl'), ['-p', 'tsconfig.lua53.json']);
run(bin('tstl'), ['-p', 'tsconfig.lua51.json']);
