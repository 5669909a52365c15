/**
 * `hookline run --target grbl` on ports that are not a Grbl 1.1: one line, exit 2, within 10 s.
 * The other end of a real pty pair answers as the thing it imitates (nothing, noise, a Marlin
 * printer's boot text, an old Grbl); the sender's behaviour on real Grbl is test/grbl-run-real.
 */
import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, runCliAsync, stderrLines, tempDir } from './helpers/cli';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');

/** The far end of the pty: `answer` gets what the sender wrote and returns what to send back. */
async function peer(path: string, answer: (got: Buffer) => Buffer | null) {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('data', (d: Buffer) => {
    const a = answer(d);
    if (a) port.write(a);
  });
  return () => new Promise<void>((res) => (port.isOpen ? port.close(() => res()) : res()));
}

describe.skipIf(!hasSocat())('run --target grbl: a port that is not a Grbl 1.1', () => {
  const dir = tempDir('hookline-grbl-input-');
  let hls = '';
  let pty: PtyPair | null = null;
  let closePeer: (() => Promise<void>) | null = null;
  beforeAll(() => {
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '3', '-o', join(dir, 'p'), '--quiet']).code).toBe(0);
    hls = join(dir, 'p/plan.hls');
    expect(runCli(['encode', join(dir, 'p/plan.json'), '--machine', machinePath, '-o', hls]).code).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const attempt = async (answer: (got: Buffer) => Buffer | null) => {
    pty = await ptyPair();
    closePeer = await peer(pty.b, answer);
    try {
      const r = await runCliAsync(['run', hls, '--target', 'grbl', '--port', pty.a, '--machine', machinePath, '--yes'], 60_000);
      const lines = stderrLines(r.stderr);
      return { ...r, lines };
    } finally {
      await closePeer();
      pty.close();
    }
  };

  it('silence: nothing answered, with what to check', async () => {
    const r = await attempt(() => null);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([expect.stringMatching(/^hookline: run --target grbl: nothing answered on .* within 5 s \(a '\?' and a soft reset sent\); check --port, the cable, .*--baud \(115200 now; Grbl's is 115200\)$/)]);
    expect(r.ms).toBeLessThan(10_000 + 2_000); // the CLI's own start-up on a busy machine: 2 s
  }, 60_000);

  it('garbage (a wrong baud rate looks like this): what came back, and --baud', async () => {
    const r = await attempt(() => Buffer.from([0xf8, 0x80, 0x1c, 0xfe, 0x00, 0x86]));
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([expect.stringMatching(/^hookline: run --target grbl: .* answered, but not as Grbl 1\.1 \(got '[^']+'.*\); check --baud .*$/)]);
    expect(r.ms).toBeLessThan(12_000);
  }, 60_000);

  it('a Marlin printer board: named, and --target marlin suggested', async () => {
    let said = false;
    const r = await attempt(() => {
      if (said) return Buffer.from('echo:Unknown command: "?"\nok\n');
      said = true;
      return Buffer.from('start\necho:Marlin 2.1.2.1\necho: Last Updated: 2023-07-18\n');
    });
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([expect.stringMatching(/^hookline: run --target grbl: .* is a Marlin board \(it said 'start echo:Marlin 2\.1\.2\.1.*'\), not Grbl; use --target marlin$/)]);
    expect(r.ms).toBeLessThan(12_000);
  }, 60_000);

  it('Grbl 0.9: the version and what to do', async () => {
    const r = await attempt((got) => (got.includes(0x18) ? Buffer.from("\r\nGrbl 0.9j ['$' for help]\r\n") : got.toString() === '$I\n' ? Buffer.from('[0.9j.20160726:]\r\nok\r\n') : null));
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([expect.stringMatching(/^hookline: run --target grbl: .* runs Grbl 0\.9j; hookline streams to Grbl 1\.1 .*; update the firmware$/)]);
  }, 60_000);

  it('--resume without a resume point: says so before opening the port', () => {
    const r = runCli(['run', hls, '--target', 'grbl', '--port', '/dev/null-not-a-port', '--machine', machinePath, '--resume']);
    expect(r.code).toBe(2);
    expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/^hookline: --resume: cannot read the resume point .*plan\.hls\.resume\.json: no such file; run without --resume to start .* from the beginning$/)]);
    expect(existsSync(`${hls}.resume.json`)).toBe(false);
  });

  it('no --machine, --port sim, --faults: one line each', () => {
    for (const [args, re] of [
      [['--port', 'x'], /missing --machine/],
      [['--port', 'sim', '--machine', machinePath], /--port must be the controller's serial port/],
      [['--port', 'x', '--machine', machinePath, '--faults', 'drop=0.1'], /--faults is for --port sim/],
    ] as [string[], RegExp][]) {
      const r = runCli(['run', hls, '--target', 'grbl', ...args]);
      expect(r.code).toBe(2);
      expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(re)]);
    }
  });
});
