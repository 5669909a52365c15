import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { UserError } from '../host/errors';
import { validateMachine } from '../host/machine/load';
import { runCli, stderrLines, tempDir } from './helpers/cli';
import { refGantry, samplePath } from './helpers/rig';

const machinePath = 'machines/ref-gantry.json';

function writeStream(dir: string, path: number[], hookCount = 160): string {
  const file = join(dir, 'p.hls');
  writeFileSync(file, Uint8Array.from(encodeStream(path, hookCount, [0x101010])));
  return file;
}

function expectOneLineError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = stderrLines(r.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookline: /);
  expect(lines[0]).toMatch(pattern);
}

describe('hookline estimate (end to end)', () => {
  it('prints machine time, floor, exact stop and thread length; --json has the numbers', () => {
    const dir = tempDir();
    const file = writeStream(dir, samplePath(5, 40));
    const r = runCli(['estimate', file, '--machine', machinePath]);
    expect(stderrLines(r.stderr)).toEqual([]); // progress lines aside
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on ref-gantry: 40 lines, .* machine time \(.* s\/line, .* × the floor .*exact stop would take .*\), .* m of thread, pile up to .* mm\n$/);
    const j = JSON.parse(runCli(['estimate', file, '--machine', machinePath, '--json']).stdout);
    expect(j.lines).toBe(40);
    expect(j.machineSeconds).toBeGreaterThan(j.floorSeconds);
    expect(j.exactStopSeconds).toBeGreaterThan(j.machineSeconds);
    expect(j.threadMeters).toBeGreaterThan(5);
  });

  it('bad input is one stderr line and exit 2', () => {
    expectOneLineError(runCli(['estimate', '/nonexistent.hls', '--machine', machinePath]), /cannot read stream/);
    expectOneLineError(runCli(['estimate', writeStream(tempDir(), [1, 50, 100])]), /missing --machine/);
  });
});

describe('hookline sim (end to end)', () => {
  it('runs an encoded stream on the reference gantry: report ok, strung.png of what was wrapped', async () => {
    const dir = tempDir();
    const path = samplePath(12, 60);
    const out = join(dir, 'sim');
    const r = runCli(['sim', writeStream(dir, path), '--machine', machinePath, '-o', out, '--width', '256']);
    expect(stderrLines(r.stderr)).toEqual([]); // progress lines aside
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sim OK: wrapped 61 of 61 hooks/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ ok: true, planHooks: 61, wrappedHooks: 61, violations: [], firstMismatch: null });
    expect(report.wrapped).toEqual(path);
    expect(report.machineSeconds).toBeGreaterThan(60);
    // Look-ahead: within 1.6 × the floor even on this short random path, and faster than exact stop.
    expect(report.floorSeconds).toBeGreaterThan(0);
    expect(report.machineSeconds).toBeLessThan(1.6 * report.floorSeconds + 30);
    expect(report.exactStopSeconds).toBeGreaterThan(1.4 * report.machineSeconds - 30);
    expect(report.threadMeters).toBeGreaterThan(10);
    expect(report.maxPileMm).toBeGreaterThan(0);
    expect(report.runtime.stateName).toBe('done');
    const png = await sharp(join(out, 'strung.png')).raw().toBuffer({ resolveWithObject: true });
    expect(png.info.width).toBe(256);
    expect(png.info.channels).toBe(4);
    // Threads were drawn: the pixel under the middle of the first line is darker than the white board.
    const nail = (h: number) => [300 + 300 * Math.cos((2 * Math.PI * h) / 160 - Math.PI / 2), 300 + 300 * Math.sin((2 * Math.PI * h) / 160 - Math.PI / 2)];
    let dark = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 250) dark++;
    expect(dark).toBeGreaterThan(2000);
    const [ax, ay] = nail(path[0]);
    const [bx, by] = nail(path[1]);
    const px = Math.floor(((ax + bx) / 2 / 600) * 256);
    const py = Math.floor(((ay + by) / 2 / 600) * 256);
    expect(png.data[(py * 256 + px) * 4]).toBeLessThan(250);
  });

  it('checks a plan against the machine with --plan: a real plan passes, another board is refused', () => {
    const dir = tempDir();
    for (const [name, board] of [['ok', '600'], ['small', '500']]) {
      expect(runCli(['plan', 'examples/coffee.png', '--lines', '30', '--board-mm', board, '-o', join(dir, name), '--quiet']).code).toBe(0);
      expect(runCli(['encode', join(dir, name, 'plan.json'), '-o', join(dir, name, 'plan.hls')]).code).toBe(0);
    }
    const ok = runCli(['sim', join(dir, 'ok', 'plan.hls'), '--machine', machinePath, '--plan', join(dir, 'ok', 'plan.json'), '-o', join(dir, 'ok', 'sim')]);
    expect(stderrLines(ok.stderr)).toEqual([]);
    expect(ok.stdout).toMatch(/^sim OK: wrapped 31 of 31 hooks/);
    expectOneLineError(
      runCli(['sim', join(dir, 'small', 'plan.hls'), '--machine', machinePath, '--plan', join(dir, 'small', 'plan.json'), '-o', join(dir, 'small', 'sim')]),
      /hook 0 at \(250\.00, 0\.00\) mm is 50\.00 mm from the machine's hook 0 .*--board-mm 600/,
    );
    expectOneLineError(
      runCli(['sim', join(dir, 'small', 'plan.hls'), '--machine', machinePath, '--plan', join(dir, 'ok', 'plan.json'), '-o', join(dir, 'x')]),
      /is not .*plan\.json's path/,
    );
  });

  it('bad input is one stderr line and exit 2', () => {
    const dir = tempDir();
    const stream = writeStream(dir, [1, 40, 80]);
    expectOneLineError(runCli(['sim', join(dir, 'missing.hls'), '--machine', machinePath, '-o', dir]), /cannot read stream .*missing\.hls: no such file/);
    expectOneLineError(runCli(['sim', stream, '--machine', join(dir, 'nope.json'), '-o', dir]), /cannot read machine profile/);
    expectOneLineError(runCli(['sim', stream, '--machine', machinePath, '-o', dir, '--speed', '2']), /Unknown option '--speed'/);
    expectOneLineError(runCli(['sim', stream, '-o', dir]), /missing --machine/);
    expectOneLineError(runCli(['sim', stream, '--machine', machinePath]), /missing -o DIR/);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format": "hookline-machine",');
    expectOneLineError(runCli(['sim', stream, '--machine', broken, '-o', dir]), /broken\.json is not valid JSON/);

    const m = refGantry() as unknown as Record<string, any>;
    m.axes.y.stepsPerMm = 'twenty';
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify(m));
    expectOneLineError(runCli(['sim', stream, '--machine', typo, '-o', dir]), /field axes\.y\.stepsPerMm: .*docs\/machines\.md/);

    const other = writeStream(dir, [1, 40, 80], 200);
    expectOneLineError(runCli(['sim', other, '--machine', machinePath, '-o', dir]), /planned for 200 hooks but .* has 160/);

    const corrupt = join(dir, 'corrupt.hls');
    const bytes = readFileSync(stream);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(corrupt, bytes);
    expectOneLineError(runCli(['sim', corrupt, '--machine', machinePath, '-o', dir]), /body CRC mismatch/);
  });
});

describe('machine profile validation', () => {
  const check = (edit: (m: Record<string, any>) => void): string => {
    const m = refGantry() as unknown as Record<string, any>;
    edit(m);
    try {
      validateMachine(m, 'm.json');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as Error).message;
    }
    return 'valid';
  };

  it('accepts the reference gantry', () => {
    expect(check(() => {})).toBe('valid');
  });

  it('names the field and the fix', () => {
    expect(check((m) => (m.axes.x.stepPerMm = 20))).toMatch(/field axes\.x: unknown field 'stepPerMm' \(misspelt\?\)/);
    expect(check((m) => delete m.wrap.radiusMm)).toMatch(/field wrap\.radiusMm: /);
    expect(check((m) => (m.hooks.count = 0))).toMatch(/field hooks\.count: /);
    expect(check((m) => (m.axes.z.pins.step = m.axes.x.pins.dir))).toMatch(/field axes\.z\.pins\.step: pin 5 is already used by axes\.x\.pins\.dir/);
    expect(check((m) => (m.wrap.wrapHeightMm = 12))).toMatch(/field wrap\.wrapHeightMm: .*not below the hook heads/);
    expect(check((m) => (m.wrap.travelHeightMm = 40))).toMatch(/field wrap\.travelHeightMm: .*beyond the z travel/);
    expect(check((m) => (m.wrap.radiusMm = 1.5))).toMatch(/field wrap\.radiusMm: .*would hit the hook/);
    expect(check((m) => (m.wrap.radiusMm = 10))).toMatch(/field wrap\.radiusMm: .*neighbouring hook/);
    expect(check((m) => (m.board.originMm = [-3, 50]))).toMatch(/field board\.originMm: hook \d+ is wrapped at x .*outside axes\.x travel/);
    expect(check((m) => (m.homingOrder = ['x', 'x', 'z']))).toMatch(/field homingOrder: /);
    expect(check((m) => (m.axes.y.travelMinMm = -5))).toMatch(/field axes\.y\.travelMinMm: .*past the min endstop/);
  });
});
