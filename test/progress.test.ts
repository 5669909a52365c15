import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProgress, formatEta } from '../host/progress';
import { repoRoot, runCli, tempDir } from './helpers/cli';

/** The built CLI with HOOKLINE_PROGRESS_DELAY_MS set (undefined: removed from the environment). */
function cliWithDelay(delay: string | undefined, args: string[]) {
  const env = { ...process.env };
  if (delay === undefined) delete env.HOOKLINE_PROGRESS_DELAY_MS;
  else env.HOOKLINE_PROGRESS_DELAY_MS = delay;
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/hookline.js'), ...args], { cwd: repoRoot, encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sink(isTTY: boolean) {
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { out, stream };
}

describe('progress with an ETA', () => {
  it('formats the time left as m:ss and h:mm:ss', () => {
    expect(formatEta(0)).toBe('0:00');
    expect(formatEta(7_400)).toBe('0:07');
    expect(formatEta(61_000)).toBe('1:01');
    expect(formatEta(3_725_000)).toBe('1:02:05');
  });

  it('TTY: the ETA is on the bar, from the time so far and the fraction left', () => {
    const { out, stream } = sink(true);
    let t = 0;
    const p = createProgress({ label: 'sim', stream, now: () => t, delayMs: 1000 });
    t = 7000;
    p.update(0.5);
    t = 10_500;
    p.update(0.75);
    t = 14_000;
    p.update(1);
    p.done();
    expect(out[0]).toBe('\rsim [###############---------------]  50% ETA 0:07');
    expect(out[1]).toBe('\rsim [#######################-------]  75% ETA 0:04'); // 10.5 s × 0.25 / 0.75 = 3.5 s
    expect(out[2]).toBe('\rsim [##############################] 100%'.padEnd(out[1].length)); // the old ETA is overwritten
    expect(out[3]).toBe('\r\x1b[K');
  });

  it('not a TTY: plain lines at most every 10 %, each with its ETA', () => {
    const { out, stream } = sink(false);
    let t = 0;
    const p = createProgress({ label: 'score', stream, now: () => t, delayMs: 1000 });
    for (let i = 1; i <= 100; i++) {
      t = i * 100;
      p.update(i / 100);
    }
    p.done();
    expect(out).toEqual(['score: 10% ETA 0:09\n', ...[2, 3, 4, 5, 6, 7, 8, 9].map((k) => `score: ${k}0% ETA 0:${String(10 - k).padStart(2, '0')}\n`), 'score: 100%\n']);
  });

  it('a busy machine: silent while the work (CPU time) is under the delay, unless the wait passes three delays', () => {
    const { out, stream } = sink(false);
    let t = 0;
    let cpu = 0;
    const p = createProgress({ label: 'sim', stream, now: () => t, cpuNow: () => cpu, delayMs: 1000 });
    for (let i = 1; i <= 5; i++) {
      t = i * 580; // 2.9 s of waiting for 0.25 s of work
      cpu = i * 50;
      p.update(i / 10 - 0.05);
    }
    expect(out).toEqual([]);
    t = 3100; // three delays of waiting: a bar after all
    p.update(0.6);
    expect(out).toEqual(['sim: 60% ETA 0:02\n']);
    out.length = 0;
    // A long run gets its bar once the work passes the delay too.
    const q = createProgress({ label: 'sim', stream, now: () => t, cpuNow: () => cpu, delayMs: 1000 });
    t += 1500;
    cpu += 1200;
    q.update(0.2);
    expect(out).toEqual(['sim: 20% ETA 0:06\n']);
  });

  it('a short run prints nothing: under the delay, or about to end when the delay is over', () => {
    for (const tty of [true, false]) {
      const { out, stream } = sink(tty);
      let t = 0;
      const p = createProgress({ label: 'estimate', stream, now: () => t, delayMs: 1000 });
      t = 900;
      p.update(0.6);
      t = 1100;
      p.update(0.7); // 0.47 s left: not worth a bar
      t = 1500;
      p.update(1);
      p.done();
      expect(out).toEqual([]);
    }
  });
});

describe('sim, score, estimate and instructions report progress with an ETA', () => {
  const dir = tempDir('hookline-progress-');
  beforeAll(() => {
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '40', '-o', dir, '--quiet']).code).toBe(0);
    expect(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls')]).code).toBe(0);
  });
  const commands: [string, string[]][] = [
    ['sim', ['sim', join(dir, 'plan.hls'), '--machine', 'machines/ref-gantry.json', '-o', join(dir, 'sim'), '--width', '128']],
    ['estimate', ['estimate', join(dir, 'plan.hls'), '--machine', 'machines/ref-gantry.json']],
    ['score', ['score', join(dir, 'plan.json'), 'examples/coffee.png']],
    ['instructions', ['instructions', join(dir, 'plan.json'), '-o', join(dir, 'ins')]],
  ];

  it('with no delay, plain lines with an ETA on stderr (not a TTY); stdout as without', () => {
    for (const [name, args] of commands) {
      const r = cliWithDelay('0', args);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length, name).toBeGreaterThan(0);
      for (const l of lines) expect(l, name).toMatch(new RegExp(`^${name}: \\d+%( ETA \\d+:\\d\\d)?$`));
      expect(lines.some((l) => / ETA /.test(l)), name).toBe(true);
      if (name === 'sim') expect(lines.length).toBeGreaterThanOrEqual(5); // from inside the simulation loop
      expect(r.stdout, name).toBe(cliWithDelay(undefined, args).stdout);
    }
  }, 300_000);

  it('with the default delay, stderr holds progress lines at most (none on an idle machine: these runs take well under a second of CPU)', () => {
    for (const [name, args] of commands) {
      const r = cliWithDelay(undefined, args);
      expect(r.code, name).toBe(0);
      for (const l of r.stderr.split('\n').filter(Boolean)) expect(l, name).toMatch(new RegExp(`^${name}: \\d+%( ETA \\d+:\\d\\d)?$`));
    }
  }, 300_000);
});
