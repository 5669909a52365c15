// Bundle the host CLI into ES modules: fast start-up, no TypeScript at run time. Code that only
// some commands need (pdfkit, serialport, the simulation targets' VMs, Firmata) is imported
// dynamically and split into chunks, so `hookline plan` does not load it.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/host', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'host/cli.ts' },
  outdir: 'dist/host',
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
});
