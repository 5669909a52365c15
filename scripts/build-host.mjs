// Bundle the host CLI into ES modules: fast start-up, no TypeScript at run time. Code that only
// some commands need (pdfkit, serialport, the simulation targets' VMs, Firmata) is imported
// dynamically and split into chunks, so `hookline plan` does not load it.
//
// The build replaces files atomically (write aside, rename into place, the entry point last) and
// keeps the previous build's chunks for a while: a `hookline` process started before a rebuild
// still finds the chunks it imports lazily, and one started during it finds a whole CLI (a rebuild
// that deleted dist/host first made concurrently running tests fail with "the CLI is not built").
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const outdir = resolve('dist/host');
const result = await build({
  // studio-worker, studio-sim-worker: the studio's planner and simulator threads (host/studio/), loaded by path.
  entryPoints: { cli: 'host/cli.ts', 'studio-worker': 'host/studio/plan-worker.ts', 'studio-sim-worker': 'host/studio/sim-worker.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
});

const entry = (f) => /^(cli|studio-worker|studio-sim-worker)\.mjs(\.map)?$/.test(relative(outdir, f.path));
const files = [...result.outputFiles.filter((f) => !entry(f)), ...result.outputFiles.filter(entry)];
for (const f of files) {
  mkdirSync(dirname(f.path), { recursive: true });
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}

// Chunks the new build does not reference go once they are an hour old: a process started from
// an older build has long since imported what it needs by then.
const current = new Set(files.map((f) => f.path));
const chunks = join(outdir, 'chunks');
for (const name of readdirSync(chunks)) {
  const p = join(chunks, name);
  if (!current.has(p) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
}

// The studio's page (web/): its own small bundle for the browser.
await import('./build-studio.mjs');
