import { execFileSync } from 'node:child_process';

// End-to-end tests drive the built CLI and device artifacts: build them once per run.
// HOOKLINE_SKIP_BUILD=1 skips it when iterating on unit tests against an existing build.
export default function setup() {
  if (process.env.HOOKLINE_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
}
