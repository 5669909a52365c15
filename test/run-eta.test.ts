// hookline run on a real port shows the time left: from the motion estimate of the stream on its
// machine (scaled by the machine's own pace once it has done 30 s of it), or from the rate of lines
// seen when no --machine is given. A colour-change pause stops its clock.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineEta } from '../host/link/eta';
import { openSerial } from '../host/link/serial';
import { machineHash } from '../host/stream/machine-hash';
import { encodeStream } from '../shared/stream/encoder';
import { estimateMotion } from '../shared/motion/estimate';
import { attachSimDevice } from '../sim/session/serial-device';
import { refGantry, samplePath } from './helpers/rig';
import { repoRoot, tempDir } from './helpers/cli';
import { hasSocat, ptyPair } from './helpers/pty';

describe('LineEta', () => {
  const est = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]; // 10 lines of 10 s each

  it('with an estimate: the estimate of the lines left until 30 s of it are done, then scaled by the pace seen', () => {
    const eta = new LineEta(10, est);
    expect(eta.update(0, 0)).toBe(100);
    expect(eta.update(2, 40_000)).toBe(80); // 20 s of estimate done: not trusted yet
    // 40 s of estimate took 80 s here: the 60 s left will take 120 s.
    expect(eta.update(4, 80_000)).toBeCloseTo(120, 9);
    expect(eta.update(10, 200_000)).toBe(0);
  });

  it('without an estimate: nothing until 3 lines, then the lines left at the rate seen', () => {
    const eta = new LineEta(10, null);
    expect(eta.update(0, 0)).toBeNaN();
    expect(eta.update(2, 10_000)).toBeNaN();
    expect(eta.update(4, 20_000)).toBeCloseTo(30, 9); // 5 s per line, 6 lines left
  });

  it('a pause stops the clock; a restart further back (a reset) measures from there', () => {
    const eta = new LineEta(10, null);
    eta.update(0, 0);
    expect(eta.update(4, 20_000)).toBeCloseTo(30, 9);
    expect(eta.update(4, 25_000, true)).toBeCloseTo(30, 9);
    expect(eta.update(4, 600_000, true)).toBeCloseTo(30, 9); // ten minutes changing the thread
    expect(eta.update(5, 605_000)).toBeCloseTo(25, 9); // 5 s per line still
    expect(eta.update(2, 700_000)).toBeNaN(); // resumed at line 2 after a power cut
    expect(eta.update(6, 720_000)).toBeCloseTo(20, 9);
  });

  it('estimateMotion gives a time per line that rises to the whole run', () => {
    const m = refGantry();
    const hooks = samplePath(4, 30);
    const e = estimateMotion(m, hooks, false);
    expect(e.lineSeconds).toHaveLength(31);
    expect(e.lineSeconds[0]).toBe(0);
    expect(e.lineSeconds[30]).toBe(e.seconds);
    for (let i = 1; i <= 30; i++) expect(e.lineSeconds[i]).toBeGreaterThanOrEqual(e.lineSeconds[i - 1]);
  });
});

describe.skipIf(!hasSocat())('hookline run on a real port shows an ETA', () => {
  it('with --machine every progress line carries a time left (not --:--), falling as the lines go', async () => {
    const m = refGantry();
    const dir = tempDir();
    const file = join(dir, 'plan.hls');
    writeFileSync(file, Uint8Array.from(encodeStream(samplePath(5, 30), 160, [0], { version: 4, machineHash: machineHash(m) })));
    const pty = await ptyPair();
    const link = await openSerial(pty.b, 115200);
    try {
      const dev = attachSimDevice(link, m, { speed: 50 });
      const p = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'run', file, '--port', pty.a, '--machine', join(repoRoot, 'machines/ref-gantry.json'), '--yes'], { cwd: repoRoot });
      let stderr = '';
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const killer = setTimeout(() => p.kill('SIGKILL'), 240_000); // a hang, not speed
      const code = await new Promise<number | null>((r) => p.on('close', r));
      clearTimeout(killer);
      dev.stop();
      expect(stdout).toBe('run OK: 30 lines done\n');
      expect(code).toBe(0);
      const bar = stderr.trim().split('\n').filter((l) => l.startsWith('run: line '));
      expect(bar.length).toBeGreaterThanOrEqual(3);
      const seconds = bar.map((l) => {
        const t = /ETA (?:(\d+)h(\d+)m|(\d+)m(\d+)s)$/.exec(l);
        expect(t, l).not.toBeNull();
        return t![1] !== undefined ? Number(t![1]) * 3600 + Number(t![2]) * 60 : Number(t![3]) * 60 + Number(t![4]);
      });
      expect(seconds[seconds.length - 1]).toBeLessThan(seconds[0]);
    } finally {
      await link.close();
      pty.close();
    }
  }, 300_000);
});
