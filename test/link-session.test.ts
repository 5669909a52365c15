import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { machineHash } from '../host/stream/machine-hash';
import { runLinkSim } from '../sim/session/link-sim';
import { expectedDirections } from '../sim/verify';
import { refGantry, samplePath } from './helpers/rig';
import { runCli, tempDir, runCliAsync } from './helpers/cli';
import { hasSocat, ptyPair } from './helpers/pty';
import { spawn } from 'node:child_process';
import { openSerial } from '../host/link/serial';
import { attachSimDevice } from '../sim/session/serial-device';
import { repoRoot } from './helpers/cli';
import { waitUntil } from './helpers/wait';


const m = refGantry();
const faults = { corrupt: 0.01, drop: 0.01, dup: 0.005, reorder: 0 };
const stream = (lines: number, seed = 3) => Uint8Array.from(encodeStream(samplePath(seed, lines), 160, [0], { version: 4, machineHash: machineHash(m) }));

describe('link session: host ↔ simulated device in virtual time', () => {
  it('strings a clean 60-line plan exactly, with no violations', () => {
    const s = stream(60);
    const r = runLinkSim(s, m, { seed: 1 });
    expect(r.error).toBeNull();
    expect(r.wrapped).toEqual(r.planHooks);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('200 lines through 1% corrupt, 1% dropped, 0.5% duplicated bytes and 8 power cuts: the wrapped sequence equals the plan', () => {
    const s = stream(200, 7);
    const r = runLinkSim(s, m, { faults, resets: 8, seed: 11 });
    expect(r.error).toBeNull();
    expect(r.faults.resets).toBe(8);
    expect(r.faults.resetsNoticed).toBeGreaterThanOrEqual(5);
    expect(r.faults.corrupted).toBeGreaterThan(100);
    expect(r.faults.retransmissions).toBeGreaterThan(0);
    // 0 lines lost, 0 strung twice, every wrap the planned way round
    expect(r.wrapped).toEqual(r.planHooks);
    expect(r.wrappedDirs).toEqual(expectedDirections(m, r.planHooks));
    expect(r.firstMismatch).toBeNull();
    // Resumed from the stored progress each time, never from before it
    expect(r.startedAt.length).toBeGreaterThan(5);
    for (let i = 1; i < r.startedAt.length; i++) expect(r.startedAt[i]).toBeGreaterThanOrEqual(r.startedAt[i - 1]);
    // Re-homing after each cut is safe: Z homes upwards, away from the hooks and the pile (it used to
    // home down through the pile; docs/protocol.md 7).
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('a colour change pauses the machine; the host continues after the (virtual) thread change', () => {
    const p = samplePath(4, 30);
    const ops = [...p.slice(0, 15), -2, ...p.slice(15)];
    const s = Uint8Array.from(encodeStream(ops, 160, [0x000000, 0xff0000], { version: 4, machineHash: machineHash(m) }));
    const r = runLinkSim(s, m, { seed: 2, threadChangeSeconds: 20 });
    expect(r.error).toBeNull();
    expect(r.pauses).toBe(1);
    expect(r.wrapped).toEqual(p);
    expect(r.violations).toEqual([]);
  });

  it('refuses a device that runs another machine profile, in one clear line', () => {
    const r = runLinkSim(stream(20), m, { deviceMachineHash: 0x1234567 });
    expect(r.error).toMatch(/^the device runs machine profile 0x01234567 but the stream is for 0x[0-9a-f]{8}; encode/);
    expect(r.wrapped).toEqual([]);
  });
});

describe.skipIf(!hasSocat())('hookline run on a real port', () => {
  it('a silent port (a pty with nothing on the other end) fails after 10 s of HELLOs with one line, exit 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'plan.hls');
    writeFileSync(file, stream(10));
    const pty = await ptyPair();
    try {
      // The 10 s are the host's own (the message names them); the limit is for a hang only: on a
      // busy machine node's start-up alone can take seconds.
      const r = runCli(['run', file, '--port', pty.a], { timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/the port does not answer: no reply to HELLO in 10 s/);
    } finally {
      pty.close();
    }
  }, 180_000);

  it('hookline run strings a short plan on the simulated device behind a real pty (socat + serialport)', async () => {
    const dir = tempDir();
    const file = join(dir, 'plan.hls');
    const s = stream(5, 9);
    writeFileSync(file, s);
    const pty = await ptyPair();
    const link = await openSerial(pty.b, 115200);
    try {
      const dev = attachSimDevice(link, m, { speed: 20 });
      const r = await runCliAsync(['run', file, '--port', pty.a, '--yes', '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('run OK: 5 lines done\n');
      expect(r.code).toBe(0);
      await dev.finished;
      expect(dev.verifier.wraps.map((w) => w.hook)).toEqual(samplePath(9, 5));
      expect(dev.verifier.violations).toEqual([]);
    } finally {
      await link.close();
      pty.close();
    }
  }, 180_000);

  it('a colour change asks the operator for the colour by number and value, and Enter continues the run', async () => {
    const dir = tempDir();
    const file = join(dir, 'plan.hls');
    const path = samplePath(4, 6);
    const ops = [...path.slice(0, 4), -2, ...path.slice(4)];
    writeFileSync(file, Uint8Array.from(encodeStream(ops, 160, [0x000000, 0xd0803c], { version: 4, machineHash: machineHash(m) })));
    const pty = await ptyPair();
    const link = await openSerial(pty.b, 115200);
    try {
      const dev = attachSimDevice(link, m, { speed: 20 });
      const p = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'run', file, '--port', pty.a, '--quiet'], { cwd: repoRoot });
      let stderr = '';
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => {
        stderr += d;
        if (/press Enter to continue $/.test(stderr)) p.stdin.write('\n');
      });
      // A run that finished must also exit: a paused stdin once kept it alive (killed after a
      // limit for a hang; the run takes ~3 s idle, several times that on a busy machine).
      const killer = setTimeout(() => p.kill(), 120_000);
      const code = await new Promise<number | null>((r) => p.on('close', r));
      clearTimeout(killer);
      expect(stderr).toMatch(/change the thread to colour 2 of 2, #d0803c, then press Enter to continue/);
      expect([code, stdout]).toEqual([0, 'run OK: 6 lines done\n']);
      await dev.finished;
      expect(dev.verifier.wraps.map((w) => w.hook)).toEqual(path);
    } finally {
      await link.close();
      pty.close();
    }
  }, 180_000);

  it('Ctrl-C pauses the machine and exits; run --resume continues at the device\'s last wrapped hook: nothing lost, nothing twice', async () => {
    const dir = tempDir();
    const file = join(dir, 'plan.hls');
    const path = samplePath(12, 14);
    writeFileSync(file, Uint8Array.from(encodeStream(path, 160, [0], { version: 4, machineHash: machineHash(m) })));
    const pty = await ptyPair();
    const link = await openSerial(pty.b, 115200);
    try {
      const dev = attachSimDevice(link, m, { speed: 10 });
      const p = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'run', file, '--port', pty.a, '--yes'], { cwd: repoRoot });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => p.on('close', r));
      // Interrupt once the machine is stringing (line 3 or later): the run's start-up may take seconds.
      expect(await waitUntil(() => dev.runtime.status().line >= 3)).toBe(true);
      p.kill('SIGINT');
      expect(await exited).toBe(2);
      // One line: the machine stopped at line N, or (a busy machine kept it from confirming within
      // the run's own 5 s) that it was asked to stop; either way --resume continues.
      expect(stderr.trim().split('\n').at(-1)).toMatch(/interrupted at line \d+ of 14: the machine (stopped at line \d+.*|was asked to stop but did not confirm .*); run again with --resume/);
      expect(await waitUntil(() => dev.runtime.status().stateName === 'paused')).toBe(true);
      const paused = dev.runtime.status();
      expect(paused.stateName).toBe('paused');
      expect(paused.hooksWrapped).toBeLessThan(path.length);
      const r = await runCliAsync(['run', file, '--port', pty.a, '--resume', '--yes', '--quiet']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      await dev.finished;
      expect(dev.verifier.wraps.map((w) => w.hook)).toEqual(path);
      expect(dev.verifier.wraps.map((w) => w.dir)).toEqual(expectedDirections(m, path));
      expect(dev.verifier.violations).toEqual([]);
    } finally {
      await link.close();
      pty.close();
    }
  }, 300_000);
});
