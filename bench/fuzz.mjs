// `npm run fuzz [count] [seed]`: bundle bench/fuzz-stream.ts and fuzz the stream decoder
// (default 1,000,000 mutated and random streams). Exit 1 on the first violation.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

const outfile = 'dist/bench/fuzz-stream.mjs';
await build({ entryPoints: ['bench/fuzz-stream.ts'], outfile, bundle: true, platform: 'node', format: 'esm',
  target: 'node20', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
