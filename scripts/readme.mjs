// README.md's sample output, from real runs: `node scripts/readme.mjs` rewrites the three blocks
// (what `npm start` prints, `hookline help`, the CLI session) with what the commands print today;
// `node scripts/readme.mjs --check` only compares and exits 1 on a difference (test/readme.test.ts).
//
// Every command runs in a scratch directory that links to this checkout's bin/, dist/, examples/
// and machines/, so the README's relative paths (out/…, examples/coffee.png) work as written and
// nothing lands in the checkout. Progress lines on stderr (`sim: 50% ETA 0:07`) depend on the
// machine's speed and are left out; everything else the command prints to stdout or stderr is kept.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const check = process.argv.includes('--check');
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');

const work = mkdtempSync(join(tmpdir(), 'hookline-readme-'));
for (const d of ['bin', 'dist', 'examples', 'machines', 'node_modules', 'package.json']) symlinkSync(join(root, d), join(work, d));

const PROGRESS = /^[a-z]+: \d+%( ETA [\d:]+)?$/;

/** Run one shell command line as the README shows it (`npx hookline` is this checkout's CLI). */
function sh(line, env = {}) {
  const cmd = line.replace(/(^|[|;&]\s*)npx hookline\b/g, `$1node ${join(root, 'bin/hookline.js')}`);
  const r = spawnSync('bash', ['-c', `{ ${cmd}\n} 2>&1`], { cwd: work, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return (r.stdout ?? '').split('\n').filter((l) => !PROGRESS.test(l)).join('\n').replace(/\n*$/, '\n');
}

/** The fenced block right after `marker` in the README: [start, end) offsets of its body. */
function block(marker) {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md: '${marker}' not found`);
  const open = readme.indexOf('```\n', at) + 4;
  const close = readme.indexOf('```\n', open);
  return { open, close, body: readme.slice(open, close) };
}

const blocks = [];

// 1. `npm start`.
{
  const b = block('`npm start` prints:');
  blocks.push({ name: 'npm start', ...b, want: sh(`node ${join(root, 'scripts/start.mjs')}`) });
}
// 2. `npx hookline help`.
{
  const b = block('## The CLI');
  blocks.push({ name: 'hookline help', ...b, want: `$ npx hookline help\n${sh('npx hookline help')}` });
}
// 3. The session: each `$ ` line is run in order and followed by what it printed.
{
  const b = block('A session with real output');
  const out = [];
  for (const line of b.body.split('\n')) {
    if (!line.startsWith('$ ')) continue;
    out.push(line, ...sh(line.slice(2)).replace(/\n$/, '').split('\n').filter((l, i, a) => !(a.length === 1 && l === '')));
  }
  blocks.push({ name: 'session', ...b, want: out.join('\n') + '\n' });
}
rmSync(work, { recursive: true, force: true });

let text = readme;
let differ = 0;
for (const b of [...blocks].sort((x, y) => y.open - x.open)) {
  if (b.body === b.want) continue;
  differ++;
  if (check) {
    const got = b.body.split('\n');
    const want = b.want.split('\n');
    process.stdout.write(`README.md, the ${b.name} block differs from what the commands print:\n`);
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
      if (got[i] !== want[i]) process.stdout.write(`  line ${i + 1}\n  - ${got[i] ?? '(none)'}\n  + ${want[i] ?? '(none)'}\n`);
    }
  }
  text = text.slice(0, b.open) + b.want + text.slice(b.close);
}
if (check) {
  if (differ === 0) process.stdout.write('README.md: the npm start, help and session blocks are what the commands print\n');
  process.exit(differ ? 1 : 0);
}
if (differ) writeFileSync(readmePath, text);
process.stdout.write(differ ? `README.md: rewrote ${differ} block(s)\n` : 'README.md: up to date\n');
