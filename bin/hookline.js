#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/host/cli.mjs', import.meta.url));
if (!existsSync(built)) {
  process.stderr.write("hookline: the CLI is not built (dist/host/cli.mjs missing); run 'npm install' or 'npm run build'\n");
  process.exit(2);
}
// `hookline decode x.hls | head`: the reader closed the pipe; stop quietly, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(built);
process.exitCode = await main(process.argv.slice(2));
