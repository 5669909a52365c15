import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand, parsePlanArgs } from '../host/commands/plan';
import { UserError } from '../host/errors';
import type { Plan } from '../host/plan/types';
import { checkPlan } from './plan-helpers';

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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hookline plan (built CLI)', () => {
  it('writes plan.json and preview.png and prints one summary line', async () => {
    const out = join(dir, 'ok');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--lines', '300');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/300 lines, [\d.]+ m of thread/);
    expect(r.stdout).toContain(join(out, 'plan.json'));
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    checkPlan(plan);
    expect(plan.nails).toHaveLength(160);
    expect(plan.lines).toHaveLength(300);
    expect(plan.threadWidthMm).toBe(0.12);
    expect(plan.board).toEqual({ widthMm: 600, heightMm: 600, frame: 'circle' });
    expect(plan.colors).toEqual(['#000000']);
    expect(plan.background).toBe('#ffffff');
    expect(plan.planner).toMatchObject({ name: 'greedy-mono', seed: 1 });
    const meta = await sharp(join(out, 'preview.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    expect(readdirSync(out).sort()).toEqual(['plan.json', 'preview.png']); // no temporary files left
  });

  it('--quiet prints nothing; flags reach the plan', () => {
    const out = join(dir, 'quiet');
    const r = hookline('plan', 'examples/coffee.png', '-o', out, '--lines', '40', '--hooks', '90', '--board-mm', '400',
      '--thread-mm', '0.3', '--frame', 'rect', '--seed', '5', '--quiet');
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    expect(plan.nails).toHaveLength(90);
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
    ['--seed -1', ['examples/coffee.png', '--seed', '-1'], /--seed/],
    ['an unknown flag', ['examples/coffee.png', '--colour', 'red'], /Unknown option '--colour'/],
    ['two images', ['examples/coffee.png', 'examples/coffee.png'], /expected IMAGE/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: exit 2, one line on stderr, nothing written`, () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}`);
      const r = hookline('plan', ...args.map((a) => a.replace('@', dir)), '-o', out);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n');
      expect(lines).toHaveLength(2); // one line plus the final newline
      expect(lines[0]).toMatch(/^hookline: /);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

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
});

describe('planCommand (in process)', () => {
  it('parses defaults', () => {
    expect(parsePlanArgs(['x.png', '-o', 'out'])).toEqual({
      image: 'x.png', out: 'out', frame: 'circle', hooks: 160, lines: 3000, boardMm: 600, threadMm: 0.12, seed: 1, quiet: false,
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
