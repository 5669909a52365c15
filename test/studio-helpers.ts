import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers/cli';
import type { PlanEvent } from '../host/studio/protocol';
import { readNdjson } from '../web/ndjson';

export interface RunningStudio {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

let testStateDir: string | undefined;

/** Start the built CLI's `hookline studio` on a free port; resolves with the address it prints. */
export function startStudio(args: string[] = []): Promise<RunningStudio> {
  // The studio's state (the machine's run, the simulated machine's record) in a temp directory of this test file, not ~/.local/state.
  const env = { ...process.env, HOOKLINE_STUDIO_STATE: process.env.HOOKLINE_STUDIO_STATE ?? (testStateDir ??= tempDir('hookline-studio-state-')) };
  const child = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'studio', '--port', '0', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`hookline studio exited (${code}) before printing its address: ${err}`)));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.removeAllListeners('exit');
      resolve({
        url: m[1],
        child,
        stderr: () => err,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done(child.exitCode);
          child.once('exit', (code) => done(code));
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

/** POST headers the page sends. */
export const POST = { 'x-hookline': '1' };

/**
 * POST /api/plan and collect every event of the stream, each with the ms since the request.
 * `untilDone`: stop reading at the done event (the score, seconds later, is not waited for).
 */
export async function planEvents(base: string, body: unknown, signal?: AbortSignal, untilDone = false): Promise<{ status: number; events: (PlanEvent & { at: number })[]; error?: string }> {
  const t0 = performance.now();
  const res = await fetch(new URL('api/plan', base), { method: 'POST', headers: { ...POST, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  if (!res.ok) return { status: res.status, events: [], error: ((await res.json()) as { error: string }).error };
  const events: (PlanEvent & { at: number })[] = [];
  await readNdjson<PlanEvent>(res.body!, (e) => {
    events.push({ ...e, at: performance.now() - t0 });
    return untilDone && e.type === 'done';
  });
  return { status: res.status, events };
}
