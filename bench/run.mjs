// `npm run bench [name ...]`: bundle each bench/*.bench.ts with esbuild and run it in a fresh Node
// process. Every bench prints its figures next to a baseline measured in the same process.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { build } from 'esbuild';

// Flags (--with-reference, …) go to the benches; other arguments name them.
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
// Run only when named: the relaxation bound takes ~30 min for the six images.
const BY_NAME_ONLY = ['plan-bound'];
const benches = readdirSync('bench').filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => (wanted.length === 0 ? !BY_NAME_ONLY.includes(f.replace('.bench.ts', '')) : wanted.includes(f.replace('.bench.ts', ''))));
let failed = 0;
for (const file of benches) {
  const outfile = `dist/bench/${file.replace('.ts', '.mjs')}`;
  await build({ entryPoints: [`bench/${file}`], outfile, bundle: true, platform: 'node', format: 'esm',
    target: 'node20', packages: 'external', logLevel: 'warning' });
  process.stdout.write(`\n## ${file.replace('.bench.ts', '')}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', outfile, ...flags], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
