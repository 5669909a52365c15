// What the realchips benches share: the CLI run to completion, the wait for the bridge's status
// file, and how seconds are printed.
import { runCli } from '../test/helpers/cli';

/** `hookline ARGS`, its stdout; throws with its stderr when it fails. */
export function cli(args: string[]): string {
  const r = runCli(args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`hookline ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The bridge rewrites its status file every ~0.5 s wall: wait long enough for a fresh one. */
export const settle = () => new Promise((r) => setTimeout(r, 1200));

export const f1 = (s: number) => `${s.toFixed(1)} s`;
