// Build the device runtime for its targets from the one TypeScript source (shared/ + device/):
//   dist/espruino/hookline.js  tsc (ES5 emit) → esbuild (IIFE bundle, ES5), global `hookline`
//   dist/nodemcu/hookline.lua  typescript-to-lua (Lua 5.3), one bundled chunk returning the API
//   dist/nodemcu/5.3/hookline.lua, dist/nodemcu/5.1/hookline.lua  the NodeMCU app (device/nodemcu/main.ts)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

run(bin('tstl'), ['-p', 'tsconfig.lua.json']);
// The NodeMCU app (device/nodemcu/main.ts: runtime + NodeMcuHal + link session) for both Lua
// versions in the field: 5.3 (native bitwise operators) and 5.1, built as typescript-to-lua's
// "JIT" target, whose bitwise operations call the `bit` module NodeMCU's 5.1 firmware has.
run(bin('tstl'), ['-p', 'tsconfig.lua53.json']);
run(bin('tstl'), ['-p', 'tsconfig.lua51.json']);
