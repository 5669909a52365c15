import { execFileSync } from 'node:child_process';

// End-to-end tests drive the built CLI and device artifacts: build them once per run.
export default function setup() {
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
}
