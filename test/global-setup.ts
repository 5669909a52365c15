import { execFileSync, spawnSync } from 'node:child_process';

/** Programs some tests run; without one, those tests are skipped (not failed): say so once, up front. */
const TOOLS: [string, string][] = [
  ['socat', 'serial-link tests over a pseudo-terminal pair (hil, run, flash, link-serial)'],
  ['lua5.3', 'the NodeMCU build in native Lua 5.3 (fengari covers the rest)'],
  ['lua5.1', 'the NodeMCU build in native Lua 5.1'],
  ['simavr', 'stock Grbl 1.1h on a simulated Uno (grbl-real; also needs ../shared/realchips and libsimavr-dev)'],
  ['chromium', 'the studio page in headless Chromium (studio-browser)'],
];

// End-to-end tests drive the built CLI and device artifacts: build them once per run.
// HOOKLINE_SKIP_BUILD=1 skips it when iterating on unit tests against an existing build.
export default function setup() {
  const missing = TOOLS.filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  for (const [tool, what] of missing) console.warn(`note: ${tool} is not installed: the tests of ${what} are skipped (.ci/run installs it)`);
  if (process.env.HOOKLINE_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
}
