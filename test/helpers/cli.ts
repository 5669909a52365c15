import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (bin/hookline.js) as a user would; killed after timeoutMs (a limit for a hang). */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/hookline.js'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'hookline-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A progress line (host/progress.ts): `label: 50%` or `label: 50% ETA 0:07` when stderr is not a
 * TTY, `label [#####-----]  50% ETA 0:07` redrawn after `\r` on a TTY; `hookline run`'s bar says
 * `run: line 3/14 colour 1 of 1 ETA …` instead of a percentage.
 */
export const PROGRESS_LINE = /^(?!hookline:)[A-Za-z][\w-]*(?: [\w-]+)?(?::| \[[#-]*\]) +(?:\d{1,3}%|line \d+\/\d+)(?: .*)?$/;

/**
 * The lines of stderr that are not progress: what a test about something else should look at.
 * Long commands (plan, sim, score, estimate, instructions, …) print progress once they have run
 * for a second, which on a busy machine happens to short runs too: a test must not expect an
 * empty stderr from them (or pass --quiet where the command has it).
 */
export function stderrLines(stderr: string): string[] {
  return stderr
    .split(/\r|\n/)
    .map((l) => l.replace(/\x1b\[K/g, '').trimEnd())
    .filter((l) => l !== '' && !PROGRESS_LINE.test(l));
}

/**
 * The built CLI in a child process without blocking this one (a simulated device or fake board
 * answers from here meanwhile); killed after timeoutMs, a limit for a hang, not for speed (the
 * machine may be busy). Also the wall time it took.
 */
export function runCliAsync(args: string[], timeoutMs = 120_000): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill(), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export interface SpawnedCli {
  /** Everything printed so far. */
  out(): { stdout: string; stderr: string };
  /** Write to the command's stdin (operator keys: one per line on a pipe). */
  type(text: string): void;
  /** Resolves when stderr matches `re` (a limit for a hang: timeoutMs). */
  waitStderr(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult & { ms: number }>;
  kill(sig?: NodeJS.Signals): void;
}

/** The built CLI in a child process with stdin as a pipe, watched while it runs. */
export function spawnCli(args: string[], timeoutMs = 300_000): SpawnedCli {
  const t0 = Date.now();
  const p = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  let exited = false;
  p.stdout!.on('data', (d) => (stdout += d));
  p.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of watchers.slice()) w();
  });
  p.stdin!.on('error', () => {}); // the command may exit before reading what was typed
  const t = setTimeout(() => p.kill(), timeoutMs);
  const done = new Promise<CliResult & { ms: number }>((resolve) => {
    p.on('close', (code) => {
      clearTimeout(t);
      exited = true;
      for (const w of watchers.slice()) w();
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
  return {
    out: () => ({ stdout, stderr }),
    type: (text) => void p.stdin!.write(text),
    waitStderr: (re, ms = 300_000) => new Promise((resolve, reject) => {
      const check = () => {
        const m = stderr.match(re);
        if (m) {
          watchers.splice(watchers.indexOf(check), 1);
          clearTimeout(limit);
          resolve(m);
        } else if (exited) {
          watchers.splice(watchers.indexOf(check), 1);
          clearTimeout(limit);
          reject(new Error(`the command exited before stderr matched ${re}: ${stderr.slice(-500)}${stdout.slice(-300)}`));
        }
      };
      const limit = setTimeout(() => {
        watchers.splice(watchers.indexOf(check), 1);
        reject(new Error(`stderr did not match ${re} within ${ms} ms: ${stderr.slice(-500)}`));
      }, ms);
      watchers.push(check);
      check();
    }),
    done,
    kill: (sig = 'SIGTERM') => void p.kill(sig),
  };
}
