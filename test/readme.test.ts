import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './helpers/cli';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('README.md shows what the commands print today', () => {
  it('the CLI block is exactly `hookline help`', () => {
    const at = readme.indexOf('## The CLI');
    const open = readme.indexOf('```\n', at) + 4;
    const body = readme.slice(open, readme.indexOf('```\n', open));
    expect(body).toBe(`$ npx hookline help\n${runCli(['help']).stdout}`);
  });

  it('set-up names what a new machine needs besides Node', () => {
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## The CLI'));
    for (const what of ['Node 20', 'socat', 'lua5.1', 'lua5.3', 'skipped']) expect(setup).toContain(what);
  });

  // Reruns `npm start` (plan 3000 lines, encode, simulate) and every command of the session block in
  // a scratch directory; the planner, encoder and simulators are deterministic, progress lines are
  // left out. After changing what a command prints: `node scripts/readme.mjs` rewrites the blocks.
  it('npm start and the session block, figure by figure (scripts/readme.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/readme.mjs'), '--check'], { cwd: repoRoot, encoding: 'utf8', timeout: 900_000 });
    expect(r.stdout + r.stderr).toContain('README.md: the npm start, help and session blocks are what the commands print');
    expect(r.status).toBe(0);
  }, 900_000);
});
