import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planPath, type Plan } from '../host/plan/types';
import { runCli, tempDir } from './helpers/cli';

function expectOneLineError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('hookline encode / decode (end to end)', () => {
  let dir = '';
  let plan: Plan;
  beforeAll(() => {
    dir = tempDir();
    expect(runCli(['plan', 'examples/coffee.png', '-o', dir, '--lines', '200', '--quiet']).code).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
  });

  it('round-trips the plan path exactly', () => {
    const enc = runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls')]);
    expect(enc.code).toBe(0);
    expect(enc.stdout).toMatch(/^wrote .*plan\.hls: \d+ bytes, 200 lines, [\d.]+ bits\/line\n$/);
    const dec = runCli(['decode', join(dir, 'plan.hls')]);
    expect(dec.code).toBe(0);
    expect(dec.stdout.trimEnd().split('\n').map(Number)).toEqual(planPath(plan));
    const json = JSON.parse(runCli(['decode', join(dir, 'plan.hls'), '--json']).stdout);
    expect(json).toMatchObject({ hookCount: 160, lineCount: 200, colors: ['#000000'] });
    expect(json.ops.map((o: { hook: number }) => o.hook)).toEqual(planPath(plan));
  });

  it('refuses a corrupted stream, naming the byte', () => {
    const bytes = readFileSync(join(dir, 'plan.hls'));
    bytes[100] ^= 0x01;
    writeFileSync(join(dir, 'bad.hls'), bytes);
    expectOneLineError(runCli(['decode', join(dir, 'bad.hls')]), /bad\.hls: .*(CRC mismatch|out of range|unknown operation).* at byte \d+/);
    writeFileSync(join(dir, 'short.hls'), bytes.subarray(0, 50));
    expectOneLineError(runCli(['decode', join(dir, 'short.hls')]), /short\.hls: truncated after 50 bytes/);
  });

  it('refuses bad plans in one line and writes nothing', () => {
    const broken = { ...plan, lines: [[0, 1, 2], [0, 5, 9]] };
    writeFileSync(join(dir, 'broken.json'), JSON.stringify(broken));
    const out = join(dir, 'broken.hls');
    expectOneLineError(runCli(['encode', join(dir, 'broken.json'), '-o', out]), /lines\[1\] starts at nail 5 but lines\[0\] ended at 2/);
    expect(existsSync(out)).toBe(false);
    writeFileSync(join(dir, 'notjson.json'), '{"format":');
    expectOneLineError(runCli(['encode', join(dir, 'notjson.json'), '-o', out]), /not valid JSON/);
    expectOneLineError(runCli(['encode', join(dir, 'plan.json')]), /missing -o/);
    expectOneLineError(runCli(['decode', join(dir, 'nope.hls')]), /cannot read stream .*nope\.hls: no such file/);
  });
});
