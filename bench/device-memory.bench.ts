// `npm run bench:device-memory`: what the device runtime occupies at rest on the boards, from the
// built artifacts (docs/targets.md, issue #5's decoder budget): the Espruino app after boot and
// homing in JsVars (estimate, sim/targets/espruino-jsvars.ts; a Pico has 5100 of 16 B) and one
// stream decoder; the NodeMCU app's Lua heap (collectgarbage "count") in Debian's lua5.3, measured
// on the files `hookline flash --target nodemcu --dry-run` writes. Baseline: the Pico's 5100 JsVars
// and the 1 KB.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appJsVarsAtRest, decoderJsVars } from '../sim/targets/espruino-jsvars';
import { luaHeapKb } from '../sim/targets/lua-heap';

const PICO_JSVARS = 5100;
const JSVAR_BYTES = 16;
const app = readFileSync('dist/espruino/app.js', 'utf8');
const lib = readFileSync('dist/espruino/hookline.js', 'utf8');
console.log('Espruino (estimate, ±30 %):');
for (const m of ['ref-gantry', 'ref-ring']) {
  const n = appJsVarsAtRest(app, readFileSync(`machines/${m}.json`, 'utf8'));
  console.log(`  app at rest, ${m}: ${n} JsVars = ${((100 * n) / PICO_JSVARS).toFixed(0)} % of a Pico`);
}
const d = decoderJsVars(lib);
console.log(`  stream decoder: ${d} JsVars ≈ ${d * JSVAR_BYTES} B (budget 1024 B: ${((d * JSVAR_BYTES) / 1024).toFixed(2)}×)`);

const lua = spawnSync('sh', ['-c', 'command -v lua5.3'], { encoding: 'utf8' }).stdout.trim();
if (!lua) {
  console.log('NodeMCU: lua5.3 not installed, skipped');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-mem-'));
  execFileSync(process.execPath, ['bin/hookline.js', 'flash', '--target', 'nodemcu', '--dry-run', '-o', dir, '--lua', '5.3', '--machine', 'machines/ref-gantry-esp32.json']);
  const k = luaHeapKb(lua, dir);
  console.log('NodeMCU app in lua5.3 (Lua heap, KB):');
  console.log(`  code ${k.code.toFixed(1)}, booted runtime ${k.runtime.toFixed(1)}, link session ${k.session.toFixed(1)}, stream decoder ${(k.decoder * 1024).toFixed(0)} B (budget 1024 B: ${k.decoder.toFixed(2)}×)`);
}
