import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors';

let root: string | null = null;

/**
 * The installed hookline package's directory (where dist/, machines/ and examples/ are), found by
 * walking up from this module: it runs both bundled (dist/host/cli.mjs) and from source (tests).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'hookline') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('hookline: cannot find the package directory (package.json named hookline) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** A built device artifact, with a fix in the message when it is missing. */
export function builtArtifact(rel: string): string {
  const p = join(packageRoot(), rel);
  if (!existsSync(p)) throw new UserError(`missing ${p}; run 'npm run build:device'`);
  return p;
}
