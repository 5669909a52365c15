import { execFileSync, spawnSync } from 'node:child_process';

// End-to-end tests drive the built CLI and device artifacts: build them once per run.
// HOOKLINE_SKIP_BUILD=1 skips it when iterating on unit tests against an existing build.
export default function setup() {
  // Say up front which tests will be skipped for a missing system tool (README.md, Set up).
  const missing = [
    ['socat', 'the serial-link, device, flash and hil tests over a pty pair'],
    ['lua5.1', 'the NodeMCU build in a real Lua 5.1'],
    ['lua5.3', 'the NodeMCU build in a real Lua 5.3 (fengari still runs it)'],
  ].filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  for (const [tool, what] of missing) process.stderr.write(`note: ${tool} is not installed: ${what} are skipped (Debian: apt-get install ${tool})\n`);
  if (process.env.HOOKLINE_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
}
