// Build the device runtime for its targets from the one TypeScript source (shared/ + device/):
//   dist/espruino/hookline.js  tsc (ES5 emit) → esbuild (IIFE bundle, ES5), global `hookline`
//   dist/nodemcu/hookline.lua  typescript-to-lua (Lua 5.3), one bundled chunk returning the API
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

rmSync('dist/es5', { recursive: true, force: true });
run(bin('tsc'), ['-p', 'tsconfig.device.json']);
await build({
  entryPoints: ['dist/es5/device/entry.js'],
  outfile: 'dist/espruino/hookline.js',
  bundle: true,
  format: 'iife',
  globalName: 'hookline',
  target: 'es5',
  platform: 'neutral',
  logLevel: 'warning',
});

run(bin('tstl'), ['-p', 'tsconfig.lua.json']);
