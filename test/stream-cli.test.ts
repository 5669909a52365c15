import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planPath, type Plan } from '../host/plan/types';
import { repoRoot, runCli, tempDir } from './helpers/cli';

function expectOneLineError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('hookline encode / decode of a plan on hook centres (formats 1 and 4)', () => {
  let dir = '';
  let plan: Plan;
  beforeAll(() => {
    dir = tempDir();
    expect(runCli(['plan', 'examples/coffee.png', '-o', dir, '--lines', '200', '--flanks', '1', '--quiet']).code).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
  });

  it('writes format 4 by default and format 1 on request; both round-trip the plan path exactly', () => {
    const v1 = runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan1.hls'), '--format', '1']);
    expect(v1.stdout).toMatch(/^wrote .*plan1\.hls: 423 bytes, 200 lines, 16\.9 bits\/line\n$/);
    expect(runCli(['decode', join(dir, 'plan1.hls')]).stdout.trimEnd().split('\n').map(Number)).toEqual(planPath(plan));
    expectOneLineError(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'x.hls'), '--format', '1', '--chunk-lines', '9']), /need format 4 or 5/);
    const enc = runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls')]);
    expect(enc.code).toBe(0);
    expect(enc.stdout).toMatch(/^wrote .*plan\.hls: \d+ bytes, 200 lines, [\d.]+ bits\/line\n$/);
    const dec = runCli(['decode', join(dir, 'plan.hls')]);
    expect(dec.code).toBe(0);
    expect(dec.stdout.trimEnd().split('\n').map(Number)).toEqual(planPath(plan));
    const json = JSON.parse(runCli(['decode', join(dir, 'plan.hls'), '--json']).stdout);
    expect(json).toMatchObject({ version: 4, hookCount: 160, lineCount: 200, colors: ['#000000'], chunkCount: 1 });
    expect(json.ops.map((o: { hook: number }) => o.hook)).toEqual(planPath(plan));
  });

  it('refuses a corrupted stream, naming the byte', () => {
    const bytes = readFileSync(join(dir, 'plan.hls'));
    bytes[100] ^= 0x01;
    writeFileSync(join(dir, 'bad.hls'), bytes);
    expectOneLineError(runCli(['decode', join(dir, 'bad.hls')]), /bad\.hls: .*(CRC mismatch|out of range|unknown operation|corrupt chunk body).* at byte \d+/);
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

describe('hookline encode (format 5, a flanked plan) --machine / decode / inspect (end to end)', () => {
  let dir = '';
  let plan: Plan;
  const machine = join(repoRoot, 'machines/ref-gantry.json');
  beforeAll(() => {
    dir = tempDir();
    expect(runCli(['plan', 'examples/coffee.png', '-o', dir, '--lines', '300', '--quiet']).code).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
  });

  it('encodes for a machine, decodes, and refuses it for another profile', () => {
    const enc = runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls'), '--machine', machine, '--chunk-lines', '100']);
    expect(enc.code).toBe(0);
    const m = enc.stdout.match(/^wrote .*plan\.hls: (\d+) bytes, 300 lines, ([\d.]+) bits\/line\n$/);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(9);
    const json = JSON.parse(runCli(['decode', join(dir, 'plan.hls'), '--json']).stdout);
    expect(json).toMatchObject({ version: 5, hookCount: 320, lineCount: 300, colors: ['#000000'], chunkLines: 100, chunkCount: 4 });
    expectOneLineError(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'x.hls'), '--format', '4']), /only stream format 5 carries/);
    expect(json.machineHash).toBeGreaterThan(0);
    expect(json.ops.map((o: { hook: number }) => o.hook)).toEqual(planPath(plan));
    // People's numbering: hook and winding (c / a), as the instructions print it.
    expect(runCli(['decode', join(dir, 'plan.hls'), '--machine', machine]).stdout.trimEnd().split('\n')).toEqual(planPath(plan).map((v) => `${v >> 1}${v % 2 === 0 ? 'c' : 'a'}`));
    const other = JSON.parse(readFileSync(machine, 'utf8'));
    other.thread.widthMm = 0.2;
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    expectOneLineError(runCli(['decode', join(dir, 'plan.hls'), '--machine', join(dir, 'other.json')]), /plan\.hls: the stream is for another machine profile \(hash 0x[0-9a-f]{8}, this machine 0x[0-9a-f]{8}\)/);
  });

  it('refuses a newer major version, and a retired one, with a clear message', () => {
    const bytes = readFileSync(join(dir, 'plan.hls'));
    bytes[4] = 6;
    writeFileSync(join(dir, 'newer.hls'), bytes);
    expectOneLineError(runCli(['decode', join(dir, 'newer.hls')]), /stream format version 6 is not supported \(this hookline reads versions 1, 4 and 5\)/);
    bytes[4] = 3;
    writeFileSync(join(dir, 'older.hls'), bytes);
    expectOneLineError(runCli(['decode', join(dir, 'older.hls')]), /older\.hls: stream format 3 was written by an older hookline .*; re-encode it with 'hookline encode'/);
  });

  it('inspect shows header and chunks, and skips a damaged chunk', () => {
    const ok = runCli(['inspect', join(dir, 'plan.hls')]);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/plan\.hls: \d+ bytes, format 5\.0, 300 lines, [\d.]+ bits\/line/);
    expect(lines[1]).toMatch(/header: \d+ bytes; machine 0x[0-9a-f]{8}; 320 flanks of 160 hooks; palette #000000; 4 chunks of 100 hook operations/);
    expect(lines.filter((l) => / ok$/.test(l))).toHaveLength(4);
    expect(lines.at(-1)).toMatch(/^end: end record at byte \d+ \(4 bytes\); all chunks verified$/);
    const bytes = readFileSync(join(dir, 'plan.hls'));
    const chunk1 = Number(lines[4].trim().split(/\s+/)[1]);
    bytes[chunk1 + 20] ^= 0x08;
    writeFileSync(join(dir, 'damaged.hls'), bytes);
    const bad = runCli(['inspect', join(dir, 'damaged.hls')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/ 1 .*BAD: (body CRC mismatch|corrupt chunk body)/);
    expect(bad.stdout).toMatch(/end: end record at byte \d+ \(4 bytes\); 1 damaged chunk skipped/);
    expectOneLineError(runCli(['decode', join(dir, 'damaged.hls')]), /damaged\.hls: (body CRC mismatch|corrupt chunk body) at byte \d+ \(chunk 1\)/);
  });
});
