// Issue #13: physically impossible or oversized inputs are refused with one line (exit 2, nothing
// written) before any work; colour budgets are exact; warnings are one `hookline: warning:` line.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../host/errors';
import { validateMachine } from '../host/machine/load';
import { MAX_PLAN_LINES, validatePlan } from '../host/plan/load';
import { colourWarnings, groupSchedule, splitExact } from '../host/plan/colour';
import { planToJson } from '../host/plan/write';
import type { Plan } from '../host/plan/types';
import { type CliResult, repoRoot, runCli, stderrLines, tempDir } from './helpers/cli';
import { testPlan } from './helpers/test-plan';

const gantryJson = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-gantry.json'), 'utf8'));
const ringJson = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8'));

function expectOneLineError(r: CliResult, re: RegExp): void {
  const lines = stderrLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookline: (?!warning)/);
  expect(lines[0]).toMatch(re);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

function planProblem(edit: (p: Plan) => void): string {
  const p = structuredClone(testPlan({ lines: 50 }));
  edit(p);
  try {
    validatePlan(JSON.parse(JSON.stringify(p)), 'p.json');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  return 'accepted';
}

function machineProblem(base: unknown, edit: (m: any) => void): string {
  const m = structuredClone(base) as any;
  edit(m);
  try {
    validateMachine(m, 'm.json');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  return 'accepted';
}

describe('plan.json: impossible plans are refused by name', () => {
  it('a plan as the planner writes it is accepted', () => {
    expect(planProblem(() => {})).toBe('accepted');
  });
  it.each<[string, (p: Plan) => void, RegExp]>([
    ['a 1e308 mm board', (p) => { p.board.widthMm = p.board.heightMm = 1e308; }, /field board\.widthMm/],
    ['a negative board', (p) => { p.board.widthMm = -600; }, /field board\.widthMm/],
    ['a nail at 1e308', (p) => { p.nails[5] = [1e308, 1e308]; }, /field nails: hook 2 at .* is outside the 600×600 mm circle board/],
    ['a hook off the board', (p) => { p.nails[10] = [700, 300]; p.nails[11] = [700, 302]; }, /hook 5 at \(700, 301\) mm is outside/],
    ['a flank far from its hook', (p) => { p.nails[1] = [p.nails[1][0], p.nails[1][1] + 10]; }, /field nails: nail [01] is 5\.\d+ mm from the centre of its hook 0, more than the hook radius \+ thread/],
    ['10 mm thread', (p) => { p.threadWidthMm = 10; }, /field threadWidthMm/],
    ['hooks too close for the thread', (p) => { p.threadWidthMm = 4; p.hookDiameterMm = 8; }, /mm apart .*8 mm hooks and 4 mm thread .*the thread cannot pass/],
    ['a hook index out of range', (p) => { p.lines[3][2] = 999; }, /lines\[3\] names nail 999 but there are 320 nails/],
    ['a negative hook index', (p) => { p.lines[0][1] = -1; }, /field lines\.0\.1/],
    ['a line from a nail to itself', (p) => { p.lines[4][2] = p.lines[4][1]; }, /lines\[4\] starts and ends at nail/],
    ['a broken path', (p) => { p.lines[6][1] = p.lines[6][1] ^ 1; }, /thread path must be continuous/],
    ['no lines', (p) => { p.lines = []; }, /field lines: the plan has no lines/],
    ['too many lines', (p) => { p.lines = Array.from({ length: MAX_PLAN_LINES + 1 }, () => [0, 0, 2] as [number, number, number]); }, /100001 lines, more than the 100000 a plan may have/],
  ])('%s', (_, edit, re) => {
    expect(planProblem(edit)).toMatch(re);
  });

  it('score, instructions and encode refuse them in one line and write nothing', () => {
    const dir = tempDir();
    const huge = testPlan({ lines: 50 });
    huge.board = { widthMm: 1e308, heightMm: 1e308, frame: 'circle' };
    huge.nails = huge.nails.map(([x, y]) => [x * 1e305, y * 1e305]);
    const p = join(dir, 'huge.json');
    writeFileSync(p, planToJson(huge));
    // Was: {"rmse":0,"ssim":1} and "2.8e+305 m of thread".
    expectOneLineError(runCli(['score', p, 'examples/coffee.png']), /huge\.json: field board\.widthMm/);
    expectOneLineError(runCli(['instructions', p, '-o', join(dir, 'ins')]), /field board\.widthMm/);
    expect(existsSync(join(dir, 'ins'))).toBe(false);
    expectOneLineError(runCli(['encode', p, '-o', join(dir, 'x.hls')]), /field board\.widthMm/);
    expect(existsSync(join(dir, 'x.hls'))).toBe(false);
  });

  it('a plan over the size limits is refused at once, before it is read or parsed', () => {
    const dir = tempDir();
    const big = testPlan({ lines: 10 });
    const p = join(dir, 'big.json');
    // 33 MB: refused by its size (a 5-million-line plan took 80 s and 2.8 GB to encode).
    writeFileSync(p, planToJson(big).replace('{', '{' + ' '.repeat(33 * 1024 * 1024)));
    let t = Date.now();
    expectOneLineError(runCli(['encode', p, '-o', join(dir, 'big.hls')]), /big\.json is 33 MB, larger than any plan of at most 100000 lines/);
    expect(Date.now() - t).toBeLessThan(20_000);
    // 150 000 lines in 2 MB: refused by the count, before the schema.
    const many = testPlan({ lines: 150_000 });
    writeFileSync(p, JSON.stringify(many));
    t = Date.now();
    expectOneLineError(runCli(['score', p, 'examples/coffee.png']), /field lines: 150000 lines, more than the 100000/);
    expectOneLineError(runCli(['instructions', p, '-o', join(dir, 'ins')]), /150000 lines/);
    expect(existsSync(join(dir, 'ins'))).toBe(false);
    expect(Date.now() - t).toBeLessThan(30_000);
  });
});

describe('machine profiles: physically impossible ones are refused', () => {
  it('the reference profiles are accepted', () => {
    for (const f of ['ref-gantry', 'ref-gantry-esp32', 'ref-ring']) {
      expect(machineProblem(JSON.parse(readFileSync(join(repoRoot, `machines/${f}.json`), 'utf8')), () => {})).toBe('accepted');
    }
  });
  it.each<[string, unknown, (m: any) => void, RegExp]>([
    ['1e9 steps/mm', gantryJson, (m) => { m.axes.x.stepsPerMm = 1e9; }, /field axes\.x\.maxSpeedMmS: 200 mm\/s at 1000000000 steps per mm is 200000000000 steps\/s, above the 100000 steps\/s/],
    ['a step rate the pulses cannot give', gantryJson, (m) => { m.stepPulseUs = 100; }, /field axes\.z\.maxSpeedMmS: .* above the 5000 steps\/s .*100 µs pulses/],
    ['0.5 steps/mm', gantryJson, (m) => { m.axes.y.stepsPerMm = 0.5; }, /field axes\.y\.stepsPerMm: 0\.5 steps\/mm moves 2 mm per step, coarser than the 0\.3 mm/],
    ['positions beyond 32 bits', gantryJson, (m) => { m.axes.x.stepsPerMm = 1e7; m.axes.x.maxSpeedMmS = 0.001; m.axes.x.homing = { seekSpeedMmS: 0.001, latchSpeedMmS: 0.0005, backoffMm: 3 }; }, /more than the runtime's positions hold/],
    ['overlapping hooks', gantryJson, (m) => { m.hooks.count = 1000; }, /hooks\.hookDiameterMm: 1000 hooks of 2 mm on a 600 mm circle overlap/],
    ['thread wider than the gap', gantryJson, (m) => { m.thread.widthMm = 10; }, /field thread\.widthMm: 10 mm thread does not pass between hooks 9\.78 mm apart/],
    ['thread too thick for one wrap', gantryJson, (m) => { m.thread.widthMm = 9.5; }, /field thread\.widthMm: one wrap of 9\.5 mm thread .* does not fit under the 12 mm hook heads/],
    ['a hook circle off the board', gantryJson, (m) => { m.hooks.diameterMm = 700; }, /field hooks\.diameterMm: the 700 mm hook circle round \(300, 300\) does not lie on the 600×600 mm board/],
    ['travel that does not hold the board', gantryJson, (m) => { m.axes.x.travelMaxMm = 500; }, /field board\.originMm: hook .* outside axes\.x travel 0\.\.500/],
    ['a ring geared too coarse', ringJson, (m) => { m.ring.motorStepsPerRev = 20; m.ring.gearRatio = 1; }, /field ring\.motorStepsPerRev: 18° per step is too coarse/],
    ['a ring turning too fast for its steps', ringJson, (m) => { m.ring.maxSpeedDegS = 9000; m.ring.homing.seekSpeedDegS = 30; }, /field ring\.maxSpeedDegS: 9000 °\/s .* above the 100000 steps\/s/],
    ['a ring with overlapping hooks', ringJson, (m) => { m.hooks.hookDiameterMm = 8; m.hooks.count = 200; }, /overlap|the arm tip cannot swing/],
  ])('%s', (_, base, edit, re) => {
    expect(machineProblem(base, edit)).toMatch(re);
  });
});

describe('hookline plan: impossible requests are refused before planning, nothing written', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  it.each<[string, string[], RegExp]>([
    ['--hook-mm 50 (hooks overlap)', ['--hook-mm', '50'], /160 hooks on a 600 mm circle board: hooks \d+ and \d+ are 11\.7\d* mm apart .*50 mm hooks .*the hooks overlap/],
    ['--thread-mm 10', ['--thread-mm', '10'], /--thread-mm: 10 is above the maximum 5/],
    ['--thread-mm 4 with 2000 hooks', ['--hooks', '2000', '--thread-mm', '4'], /the hooks overlap|the thread cannot pass/],
    ['--lines above the limit', ['--lines', '100001'], /--lines: 100001 is above the maximum 100000/],
    ['a zero colour budget', ['--palette', '#000000,#d0803c', '--lines-per-color', '100,0'], /--lines-per-color: colour 2 has 0 lines/],
    ['colour budgets above the limit', ['--palette', '#000000,#d0803c', '--lines-per-color', '60000,60000'], /120000 lines in all, above the 100000/],
  ])('%s', (name, args, re) => {
    const out = join(dir, name.replace(/\W+/g, '-'));
    expectOneLineError(runCli(['plan', 'examples/coffee.png', '-o', out, ...args]), re);
    expect(existsSync(out)).toBe(false);
  });

  it('--layout: unknown fields are refused as in machine profiles', () => {
    const layout = join(dir, 'layout.json');
    const hooks = Array.from({ length: 40 }, (_, i) => [300 + 290 * Math.cos((i * Math.PI) / 20), 300 + 290 * Math.sin((i * Math.PI) / 20)]);
    writeFileSync(layout, JSON.stringify({ hooks, hookDiameter: 3 }));
    expectOneLineError(runCli(['plan', 'examples/coffee.png', '-o', join(dir, 'l1'), '--layout', layout]), /layout .*unknown field 'hookDiameter' \(misspelt\?\)/);
    writeFileSync(layout, JSON.stringify({ hooks, board: { widthMm: 600, heightMm: 600, frame: 'circle', shape: 'x' } }));
    expectOneLineError(runCli(['plan', 'examples/coffee.png', '-o', join(dir, 'l2'), '--layout', layout]), /unknown field 'board\.shape'/);
    expect(existsSync(join(dir, 'l1')) || existsSync(join(dir, 'l2'))).toBe(false);
  });

  it('a blank image: no plan with no lines is written', async () => {
    const white = join(dir, 'white.png');
    const sharp = (await import('sharp')).default;
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } }).png().toFile(white);
    expectOneLineError(runCli(['plan', white, '-o', join(dir, 'blank'), '--lines', 'auto']), /no line improves the picture/);
    expect(existsSync(join(dir, 'blank', 'plan.json'))).toBe(false);
  });
});

describe('warnings: one hookline: warning: line on stderr, none with --quiet', () => {
  it('a 2000×20 image on a square board warns that only its centre is used', async () => {
    const dir = tempDir();
    const sharp = (await import('sharp')).default;
    const wide = join(dir, 'wide.png');
    await sharp({ create: { width: 2000, height: 20, channels: 3, background: '#606060' } }).png().toFile(wide);
    const r = runCli(['plan', wide, '-o', join(dir, 'a'), '--lines', '20']);
    expect(r.code).toBe(0);
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hookline: warning: .*wide\.png is 2000×20 px; the 600×600 mm board shows only its centre 20×20 px \(1 % of the image\)/);
    const q = runCli(['plan', wide, '-o', join(dir, 'b'), '--lines', '20', '--quiet']);
    expect(q.code).toBe(0);
    expect(q.stderr).toBe('');
  });
});

describe('colour budgets are exact', () => {
  it('splitExact adds up to the total whatever the shares', () => {
    for (let seed = 1; seed < 200; seed++) {
      const k = 1 + (seed % 16);
      const raw = Array.from({ length: k }, (_, i) => ((seed * 7919 + i * 104729) % 1000) + 1);
      const sum = raw.reduce((s, v) => s + v, 0);
      const total = 100 + seed * 37;
      const out = splitExact(total, raw.map((v) => v / sum));
      expect(out.reduce((s, v) => s + v, 0)).toBe(total);
      out.forEach((v, i) => expect(Math.abs(v - (total * raw[i]) / sum)).toBeLessThan(1));
    }
  });
  it('the group schedule spends each budget exactly', () => {
    const palette = Array.from({ length: 12 }, (_, i) => `#${(i * 20).toString(16).padStart(2, '0')}3040`);
    const budgets = splitExact(2400, palette.map((_, i) => (i + 1) / 78));
    const s = groupSchedule(palette, budgets, 4);
    expect(s.reduce((t, [, n]) => t + n, 0)).toBe(2400);
  });
  it('an automatic split that leaves colours almost no lines is a warning, explicit budgets are not', () => {
    const plan = testPlan({ lines: 600 });
    plan.colors = ['#000000', '#d0803c', '#5a6e8c'];
    plan.lines.forEach((l, i) => { l[0] = i < 598 ? 0 : i === 598 ? 1 : 2; });
    plan.colorChanges = [{ line: 0, color: 0, hook: 0 }, { line: 598, color: 1, hook: 0 }, { line: 599, color: 2, hook: 0 }];
    const said: string[] = [];
    colourWarnings(plan, true, (t) => said.push(t));
    expect(said).toEqual([expect.stringMatching(/^2 of 3 colours get almost no lines \(#d0803c: 1, #5a6e8c: 1 of 600\); use fewer --colors/)]);
    said.length = 0;
    colourWarnings(plan, false, (t) => said.push(t));
    expect(said).toEqual([]);
  });
  it.each([
    [['--colors', '12', '--lines', '2400'], 2400],
    [['--colors', '16', '--lines', '600'], 600],
  ])('plan %j gives exactly %i lines', (args, n) => {
    const dir = tempDir();
    const r = runCli(['plan', 'examples/coffee.png', '-o', dir, ...args]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
    expect(plan.lines.length).toBe(n);
    if (n === 600) {
      // 16 colours in 4 groups: 63 thread changes in 600 lines.
      expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/^hookline: warning: 600 lines with 63 colour changes \(one every 10 lines\)/)]);
    }
  });
});
