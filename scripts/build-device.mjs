// Build the device runtime for its targets from the one TypeScript source (shared/ + device/):
//   dist/espruino/hookline.js  tsc (ES5 emit) → esbuild (IIFE bundle, ES5), global `hookline`
//   dist/nodemcu/hookline.lua  typescript-to-lua (Lua 5.3), one bundled chunk returning the API
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

rmSync(es5, { recursive: true, force: true });

run(bin('tstl'), ['-p', 'tsconfig.lua.json']);
