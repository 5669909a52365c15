import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand, parsePlanArgs } from '../host/commands/plan';
import { UserError } from '../host/errors';
import type { Plan } from '../host/plan/types';
import { stderrLines } from './helpers/cli';
import { pngHeaderOnly } from './helpers/png';
import { checkPlan } from './plan-helpers';

/** The same PNG with the IHDR interlace method set to Adam7 (and the chunk's CRC redone). */
function interlaced(png: Buffer): Buffer {
  const out = Buffer.from(png);
  out[8 + 8 + 12] = 1; // signature, IHDR length + type, then the 13 data bytes: interlace is the last
  out.writeUInt32BE(crc32(out.subarray(12, 8 + 8 + 13)), 8 + 8 + 13);
  return out;
}

function hookline(...args: string[]) {
  return spawnSync(process.execPath, ['bin/hookline.js', ...args], { encoding: 'utf8' });
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookline-plan-'));
  writeFileSync(join(dir, 'text.png'), 'this is not an image\n');
  const png = readFileSync('examples/coffee.png');
  writeFileSync(join(dir, 'truncated.png'), png.subarray(0, Math.floor(png.length / 3)));
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'one.png'));
  writeFileSync(join(dir, 'huge.png'), pngHeaderOnly(40000, 30000)); // 1.2 gigapixels: over the hard cap
  writeFileSync(join(dir, 'interlaced.png'), interlaced(pngHeaderOnly(20000, 15000))); // 300 MP, must be decoded whole
  writeFileSync(join(dir, 'dup.json'), JSON.stringify({ hooks: [[0, 300], [600, 300], [300, 0], [600, 300]] }));
  writeFileSync(join(dir, 'off.json'), JSON.stringify({ hooks: [[0, 300], [600, 300], [300, 0], [700, 700]] }));
  writeFileSync(join(dir, 'few.json'), JSON.stringify({ hooks: [[0, 300], [600, 300]] }));
  writeFileSync(join(dir, 'broken.json'), '{"hooks": [[0, 300],');
  writeFileSync(join(dir, 'ring.json'), JSON.stringify({
    board: { widthMm: 300, heightMm: 200, frame: 'rect' },
    hooks: Array.from({ length: 40 }, (_, i) => {
      const a = (2 * Math.PI * i) / 40;
      return [150 + 95 * Math.cos(a), 100 + 95 * Math.sin(a)];
    }),
  }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hookline plan (built CLI)', () => {
  it('writes plan.json, preview.png and forming.gif and prints one summary line', async () => {
    const out = join(dir, 'ok');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--lines', '300');
    // Progress lines appear once planning has taken a second (any run on a busy machine).
    expect(stderrLines(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/300 lines, [\d.]+ m of thread/);
    expect(r.stdout).toContain(join(out, 'plan.json'));
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.nails).toHaveLength(320); // 160 hooks × 2 flanks
    expect(plan).toMatchObject({ version: 2, flanks: 2, hookDiameterMm: 2 });
    expect(plan.lines).toHaveLength(300);
    expect(plan.threadWidthMm).toBe(0.12);
    expect(plan.board).toEqual({ widthMm: 600, heightMm: 600, frame: 'circle' });
    expect(plan.colors).toEqual(['#000000']);
    expect(plan.background).toBe('#ffffff');
    expect(plan.planner).toMatchObject({ name: 'greedy-mono', seed: 1 });
    const meta = await sharp(join(out, 'preview.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    const gif = await sharp(join(out, 'forming.gif'), { animated: true }).metadata();
    expect(gif.format).toBe('gif');
    expect(gif.pages).toBeGreaterThan(10);
    expect(gif.pages).toBeLessThanOrEqual(60);
    expect(readFileSync(join(out, 'forming.gif')).length).toBeLessThan(400_000);
    expect(readdirSync(out).sort()).toEqual(['forming.gif', 'plan.json', 'preview.png']); // no temporary files left
  });

  it('--method set: the chords chosen first, then one thread through them, validated by `hookline encode`', () => {
    const out = join(dir, 'set');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--lines', '600', '--method', 'set', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.lines).toHaveLength(600);
    expect(plan.planner).toMatchObject({ name: 'chord-set-mono', seed: 1 });
    const keys = plan.lines.map(([, a, b]) => (a < b ? `${a}-${b}` : `${b}-${a}`));
    expect(new Set(keys).size).toBe(600); // no nail pair twice
    for (const [, a, b] of plan.lines) {
      const ring = Math.abs((a >> 1) - (b >> 1));
      expect(Math.min(ring, 160 - ring)).toBeGreaterThanOrEqual(8);
    }
    const s = hookline('encode', join(out, 'plan.json'), '-o', join(out, 'plan.hls'));
    expect(s.status, s.stderr).toBe(0);
    const bad = hookline('plan', 'examples/coffee.png', '-o', join(dir, 'set-bad'), '--method', 'tree');
    expect(bad.status).toBe(2);
    expect(stderrLines(bad.stderr)).toEqual(["hookline: --method: 'tree' is not a planning method; give path (greedy along the thread, the default) or set (choose the chords, then thread them)"]);
  });

  it('--quiet prints nothing; flags reach the plan', () => {
    const out = join(dir, 'quiet');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--lines', '40', '--hooks', '90', '--board-mm', '400',
      '--thread-mm', '0.3', '--frame', 'rect', '--seed', '5', '--quiet');
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    expect(plan.nails).toHaveLength(180);
    expect(plan.lines).toHaveLength(40);
    expect(plan.board).toEqual({ widthMm: 400, heightMm: 400, frame: 'rect' });
    expect(plan.threadWidthMm).toBe(0.3);
    expect(plan.planner).toMatchObject({ seed: 5 });
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing file', ['/nonexistent.png'], /\/nonexistent\.png: no such file/],
    ['a text file named .png', ['@/text.png'], /text\.png: not an image/],
    ['a truncated PNG', ['@/truncated.png'], /truncated\.png: .*truncated/],
    ['a 1×1 PNG', ['@/one.png'], /one\.png is too small \(1×1 px\)/],
    ['--hooks abc', ['examples/coffee.png', '--hooks', 'abc'], /--hooks: 'abc' is not a number/],
    ['--hooks 2', ['examples/coffee.png', '--hooks', '2'], /--hooks: 2 is below the minimum 3/],
    ['--hooks 2001', ['examples/coffee.png', '--hooks', '2001'], /above the maximum 2000/],
    ['--lines 0', ['examples/coffee.png', '--lines', '0'], /--lines/],
    ['--lines 2.5', ['examples/coffee.png', '--lines', '2.5'], /whole number/],
    ['--board-mm 10', ['examples/coffee.png', '--board-mm', '10'], /--board-mm/],
    ['--thread-mm 0', ['examples/coffee.png', '--thread-mm', '0'], /--thread-mm/],
    ['--thread-mm -1', ['examples/coffee.png', '--thread-mm', '-1'], /--thread-mm/],
    ['--frame hex', ['examples/coffee.png', '--frame', 'hex'], /--frame: 'hex'/],
    ['--seed -1', ['examples/coffee.png', '--seed', '-1'], /--seed is followed by a value starting with '-'; write it as --seed=VALUE/],
    ['--seed=-1', ['examples/coffee.png', '--seed=-1'], /--seed: -1 is below the minimum 0; give a value from 0/],
    ['an unknown flag', ['examples/coffee.png', '--colour', 'red'], /Unknown option '--colour'/],
    ['two images', ['examples/coffee.png', 'examples/coffee.png'], /expected IMAGE/],
    ['a 40000×30000 PNG', ['@/huge.png'], /huge\.png is too large \(40000×30000 px, limit 1 gigapixel\)/],
    ['a 20000×15000 interlaced PNG', ['@/interlaced.png'], /interlaced\.png is too large for an interlaced PNG \(20000×15000 px, limit 200 megapixels/],
    ['--lines -5', ['examples/coffee.png', '--lines', '-5'], /--lines/],
    ['--lines many', ['examples/coffee.png', '--lines', 'many'], /--lines: 'many' is not a number/],
    ['--min-gap 90 with 160 hooks', ['examples/coffee.png', '--min-gap', '90'], /--min-gap: 90 leaves no allowed line/],
    ['--contrast -1', ['examples/coffee.png', '--contrast', '-1'], /--contrast/],
    ['--gamma 0', ['examples/coffee.png', '--gamma', '0'], /--gamma/],
    ['a missing importance mask', ['examples/coffee.png', '--importance', '@/nope.png'], /nope\.png: no such file/],
    ['a layout with duplicate hooks', ['examples/coffee.png', '--layout', '@/dup.json'], /dup\.json: hooks\[3\] is at the same place as hooks\[1\]/],
    ['a layout with a hook off the board', ['examples/coffee.png', '--layout', '@/off.json'], /off\.json: hooks\[3\] \[700, 700\] is outside/],
    ['a layout with 2 hooks', ['examples/coffee.png', '--layout', '@/few.json'], /few\.json: has 2 hooks; give 3 to 2000/],
    ['a layout that is not JSON', ['examples/coffee.png', '--layout', '@/broken.json'], /broken\.json is not valid JSON/],
    ['a missing layout', ['examples/coffee.png', '--layout', '@/nope.json'], /cannot read layout .*nope\.json/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: exit 2, one line on stderr, nothing written`, () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}`);
      const r = hookline('plan', ...args.map((a) => a.replace('@', dir)), '-o', out, '--lines', args.includes('--lines') ? args[args.indexOf('--lines') + 1] : '50');
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      const lines = stderrLines(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hookline: /);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('a 16000×12600 PNG (over the old 200-megapixel limit) is shrunk while decoding and planned', async () => {
    // One grey: ~220 KB of PNG, ~2.5 s to make, ~0.7 s to plan (a real 30000×30000 photo-like
    // PNG: 8.8 s and 194 MB peak RSS for the whole run, see docs/plan-format.md).
    const file = join(dir, 'big.png');
    await sharp({ create: { width: 16000, height: 12600, channels: 3, background: '#606060' }, limitInputPixels: false })
      .toColourspace('b-w').png({ compressionLevel: 9 }).toFile(file);
    const out = join(dir, 'big');
    const r = hookline('plan', file, '-o', out, '--lines', '20', '--quiet');
    expect([r.status, r.stderr]).toEqual([0, '']);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.source.crop).toEqual([1700, 0, 12600, 12600]);
    expect(plan.lines).toHaveLength(20);
  }, 180_000); // a limit for a hang: making the PNG takes ~2.5 s idle, several times that on a busy machine

  it('--layout hooks.json: custom hooks and board; --lines auto; score agrees with the plan', () => {
    const out = join(dir, 'custom');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--layout', join(dir, 'ring.json'), '--lines', 'auto', '--quiet');
    expect([r.status, r.stderr]).toEqual([0, '']);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.board).toEqual({ widthMm: 300, heightMm: 200, frame: 'rect' });
    expect(plan.nails).toHaveLength(80);
    expect(plan.planner).toMatchObject({ linesRequested: 'auto', stoppedEarly: false });
    expect(plan.lines.length).toBeGreaterThan(20);
    const s = hookline('score', join(out, 'plan.json'), 'examples/coffee.png');
    expect(s.status).toBe(0);
    const score = JSON.parse(s.stdout);
    expect(Object.keys(score)).toEqual(['rmse', 'ssim', 'rmse_view', 'ssim_view', 'lines']);
    expect(score.lines).toBe(plan.lines.length);
    expect(score.rmse).toBeGreaterThan(0);
    expect(score.rmse).toBeLessThan(1);
  });

  it('score: bad input is one line, exit 2', () => {
    const r = hookline('score', join(dir, 'nope.json'), 'examples/coffee.png');
    expect(r.status).toBe(2);
    expect(stderrLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot read plan/);
    const r2 = hookline('score', join(dir, 'ok', 'plan.json'), join(dir, 'text.png'));
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/not an image/);
  });

  it('missing -o and an -o that is a file are refused', () => {
    const r = hookline('plan', 'examples/coffee.png');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing -o DIR/);
    const file = join(dir, 'text.png');
    const r2 = hookline('plan', 'examples/coffee.png', '-o', file, '--lines', '5');
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('this is not an image\n');
  });

  it.skipIf(!existsSync('/proc/self'))('an -o that cannot be created (below /proc) is one line, exit 2, not a hang', () => {
    // Node's recursive mkdirSync spins for ever on ENOENT under /proc; hookline creates levels itself.
    const r = spawnSync(process.execPath, ['bin/hookline.js', 'plan', 'examples/coffee.png', '-o', '/proc/hookline-test/out', '--lines', '5'], {
      encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.endsWith('\n')).toBe(true);
    // The directory is made after planning: on a busy machine the plan's progress comes first.
    expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/^hookline: cannot create output directory \/proc\/hookline-test: .*; choose a writable -o path$/)]);
  });
});

describe('planCommand (in process)', () => {
  it('parses defaults', () => {
    expect(parsePlanArgs(['x.png', '-o', 'out'])).toEqual({
      image: 'x.png', out: 'out', frame: 'circle', hooks: 160, lines: 3000, boardMm: 600, threadMm: 0.12, seed: 1, quiet: false,
    });
    expect(parsePlanArgs(['x.png', '-o', 'o', '--lines', 'auto', '--min-gap', '3', '--contrast', '1.2', '--gamma', '0.8',
      '--importance', 'm.png', '--layout', 'h.json', '--passes', '1'])).toMatchObject({
      lines: 'auto', minGap: 3, contrast: 1.2, gamma: 0.8, importance: 'm.png', layout: 'h.json', passes: 1,
    });
  });

  it('validates flags before touching the image', async () => {
    await expect(planCommand.run(['/nonexistent.png', '-o', join(dir, 'x'), '--hooks', '1'])).rejects.toThrow(/--hooks/);
    await expect(planCommand.run(['/nonexistent.png', '-o', join(dir, 'x')])).rejects.toThrow(UserError);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('runs end to end in process', async () => {
    const out = join(dir, 'inproc');
    await planCommand.run(['examples/coffee.png', '-o', out, '--lines', '20', '--hooks', '50', '--quiet']);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.lines).toHaveLength(20);
  });
});
