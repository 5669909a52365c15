// Bundle the host CLI into one ES module: fast start-up, no TypeScript at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['host/cli.ts'],
  outfile: 'dist/host/cli.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
