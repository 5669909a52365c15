import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planPath, type Plan } from '../host/plan/types';
import { validateGantry } from '../host/machine/load';
import { generateGcode } from '../host/gcode/generate';
import { UserError } from '../host/errors';
import { hookXMm, hookYMm, type MachineProfile } from '../shared/machine';
import { expectedDirections } from '../sim/verify';
import { repoRoot, runCli, tempDir } from './helpers/cli';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const machine = validateGantry(JSON.parse(readFileSync(machinePath, 'utf8')), machinePath);

function expectOneLineError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

/** A plan on the machine's own hooks: a deterministic path, colours switching in groups. */
function makePlan(m: MachineProfile, lines: number, colors: string[]): Plan {
  const nails: [number, number][] = [];
  for (let i = 0; i < m.hooks.count; i++) nails.push([hookXMm(m, i), hookYMm(m, i)]);
  const out: [number, number, number][] = [];
  let h = 3;
  for (let i = 0; i < lines; i++) {
    const next = (h + 37 + ((i * 13) % 70)) % m.hooks.count;
    out.push([Math.floor(i / 4) % colors.length, h, next]);
    h = next;
  }
  return {
    format: 'hookline-plan', version: 1, board: { widthMm: 600, heightMm: 600, frame: 'circle' }, nails,
    threadWidthMm: 0.12, background: '#ffffff', colors, lines: out, source: { file: 'x.png', crop: [0, 0, 10, 10] },
  };
}

interface Arc { cx: number; cy: number; dir: number; turns: number; z: number }
interface Run {
  homedFirst: boolean;
  arcs: Arc[];
  pauses: { afterArcs: number; comment: string }[];
  points: [number, number, number][];
  maxXYFeed: number;
  maxZFeed: number;
  ended: boolean;
}

/**
 * A tiny G-code interpreter: absolute mode, G0/G1/G2/G3 (I/J centre offsets), M0, $H / G28; G10 L2
 * and G54 (the Grbl work offset) are taken as "coordinates are the profile's". Consecutive arcs
 * around the same centre in the same direction are one turn (the generator writes two halves).
 */
function interpret(text: string, home: [number, number, number]): Run {
  let [x, y, z] = home;
  let f = 0;
  let homed = false;
  let moved = false;
  let lastComment = '';
  let lastArc: Arc | null = null;
  const run: Run = { homedFirst: false, arcs: [], pauses: [], points: [], maxXYFeed: 0, maxZFeed: 0, ended: false };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith(';')) {
      lastComment = line;
      continue;
    }
    expect(run.ended).toBe(false);
    if (line === '$H' || line === 'G28') {
      if (!moved) run.homedFirst = true;
      homed = true;
      continue;
    }
    if (line.startsWith('M0')) {
      run.pauses.push({ afterArcs: run.arcs.length, comment: lastComment + ' ' + line });
      continue;
    }
    if (line === 'M2' || line === 'M400') {
      run.ended = true;
      continue;
    }
    const words = new Map<string, number>();
    for (const w of line.split(/\s+/).slice(1)) words.set(w[0], Number(w.slice(1)));
    const g = line.split(/\s+/)[0];
    if (['G21', 'G90', 'G17', 'G54', 'G10'].includes(g) || g.startsWith('M3') || g.startsWith('M280') || g === 'G4') {
      lastArc = null;
      continue;
    }
    expect(['G0', 'G1', 'G2', 'G3']).toContain(g);
    expect(homed).toBe(true);
    moved = true;
    if (words.has('F')) f = words.get('F')!;
    const nx = words.get('X') ?? x;
    const ny = words.get('Y') ?? y;
    const nz = words.get('Z') ?? z;
    if (nx !== x || ny !== y) run.maxXYFeed = Math.max(run.maxXYFeed, f);
    if (nz !== z) run.maxZFeed = Math.max(run.maxZFeed, f);
    if (g === 'G2' || g === 'G3') {
      const cx = x + words.get('I')!;
      const cy = y + words.get('J')!;
      const r0 = Math.hypot(x - cx, y - cy);
      const a0 = Math.atan2(y - cy, x - cx);
      let a1 = Math.atan2(ny - cy, nx - cx);
      const dir = g === 'G3' ? 1 : -1; // G3: angle increasing in machine coordinates
      let sweep = dir * (a1 - a0);
      while (sweep <= 1e-9) sweep += 2 * Math.PI; // end == start: one full turn
      a1 = a0 + dir * sweep;
      if (lastArc && Math.hypot(lastArc.cx - cx, lastArc.cy - cy) < 0.002 && lastArc.dir === dir && lastArc.z === z) {
        lastArc.turns += sweep / (2 * Math.PI);
      } else {
        lastArc = { cx, cy, dir, turns: sweep / (2 * Math.PI), z };
        run.arcs.push(lastArc);
      }
      // Extreme points of the arc for the travel check (a full turn reaches all four).
      run.points.push([cx - r0, cy - r0, z], [cx + r0, cy + r0, z]);
    }
    else lastArc = null;
    x = nx;
    y = ny;
    z = nz;
    run.points.push([x, y, z]);
  }
  return run;
}

const home = (m: MachineProfile): [number, number, number] => [m.axes.x.travelMinMm, m.axes.y.travelMinMm, m.axes.z.travelMinMm];

function checkRun(plan: Plan, m: MachineProfile, text: string) {
  const run = interpret(text, home(m));
  expect(run.homedFirst).toBe(true);
  expect(run.ended).toBe(true);
  const path = planPath(plan);
  const dirs = expectedDirections(m, path);
  expect(run.arcs).toHaveLength(path.length);
  path.forEach((h, i) => {
    const a = run.arcs[i];
    expect(Math.abs(a.cx - (hookXMm(m, h) + m.board.originMm[0]))).toBeLessThan(0.002);
    expect(Math.abs(a.cy - (hookYMm(m, h) + m.board.originMm[1]))).toBeLessThan(0.002);
    expect(a.dir).toBe(dirs[i]);
    expect(a.turns).toBeCloseTo(1, 3); // two half turns through a point rounded to 0.001 mm
    expect(a.z).toBeLessThan(m.hooks.headHeightMm);
  });
  for (const [x, y, z] of run.points) {
    expect(x).toBeGreaterThanOrEqual(m.axes.x.travelMinMm);
    expect(x).toBeLessThanOrEqual(m.axes.x.travelMaxMm);
    expect(y).toBeGreaterThanOrEqual(m.axes.y.travelMinMm);
    expect(y).toBeLessThanOrEqual(m.axes.y.travelMaxMm);
    expect(z).toBeGreaterThanOrEqual(m.axes.z.travelMinMm);
    expect(z).toBeLessThanOrEqual(m.axes.z.travelMaxMm);
  }
  expect(run.maxXYFeed).toBeGreaterThan(0);
  expect(run.maxXYFeed).toBeLessThanOrEqual(Math.min(m.axes.x.maxSpeedMmS, m.axes.y.maxSpeedMmS) * 60);
  expect(run.maxZFeed).toBeLessThanOrEqual(m.axes.z.maxSpeedMmS * 60);
  return run;
}

describe('hookline gcode', () => {
  let dir = '';
  const colors = ['#000000', '#d0803c', '#5a6e8c'];
  const plan = makePlan(machine, 40, colors);
  const mono = makePlan(machine, 25, ['#000000']);
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    writeFileSync(join(dir, 'mono.json'), JSON.stringify(mono));
  });

  it('GRBL: homes, wraps every hook of the path once in the planned direction, in travel and feed limits', () => {
    const r = runCli(['gcode', join(dir, 'mono.json'), '--machine', machinePath]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^; hookline gcode \(grbl\)/);
    expect(r.stdout).toMatch(/\nG21\nG90\n/);
    // Stock Grbl with homing on is alarm-locked until $H: $H before any modal line; then the work
    // offset that maps Grbl's homed machine space (-travel..0) onto the profile's coordinates.
    const code = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
    expect(code.slice(0, 6)).toEqual(['$H', 'G21', 'G90', 'G17', 'G10 L2 P1 X-700 Y-700 Z-30', 'G54']);
    // Parked where homing leaves X/Y (the $27 pull-off off the min switches), not on the switches.
    expect(code.slice(-2)).toEqual(['G1 X3 Y3 F12000', 'M2']);
    // Each full turn is two half turns (a Grbl full circle with end = start can come out as no turn).
    expect(r.stdout.match(/^G[23] /gm)?.length).toBe(2 * (mono.lines.length + 1));
    const run = checkRun(mono, machine, r.stdout);
    expect(run.pauses).toHaveLength(0);
  });

  it('--settings: the Grbl $ settings that match the profile, and what cannot be matched', () => {
    const r = runCli(['gcode', '--settings', '--machine', machinePath]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const set = new Map(r.stdout.split('\n').filter((l) => l.startsWith('$')).map((l) => l.split(';')[0].trim().split('=') as [string, string]));
    expect(Object.fromEntries(set)).toMatchObject({
      $0: '3', $3: '0', $4: '0', $5: '0', $11: '0.01', $100: '20', $101: '20', $102: '400', $110: '12000', $112: '1200',
      $120: '1500', $122: '200', $130: '700', $131: '700', $132: '30', $20: '1', $21: '1', $22: '1', $23: '3', $27: '3',
    });
    expect(r.stdout).toMatch(/^; not matched: stepPulseUs 2: Grbl's shortest step pulse is 3 µs/m);
    const marlin = runCli(['gcode', '--settings', '--machine', machinePath, '--dialect', 'marlin']);
    expect(marlin.code).toBe(0);
    expect(marlin.stdout).toContain('\nM92 X20 Y20 Z400 ');
    expect(marlin.stdout).toMatch(/^; not matched at run time/m);
  });

  it('piped into a reader that stops early (| head -1): stops quietly, no stack trace', () => {
    // Far more G-code than a pipe holds, so the writer meets the closed pipe.
    writeFileSync(join(dir, 'long.json'), JSON.stringify(makePlan(machine, 2000, ['#000000'])));
    const r = spawnSync('sh', ['-c', `"${process.execPath}" bin/hookline.js gcode "${join(dir, 'long.json')}" --machine "${machinePath}" | head -1`], {
      cwd: repoRoot, encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^; hookline gcode \(grbl\)[^\n]*\n$/);
    expect(r.stderr).toBe('');
  });

  it('a flanked plan: each hook is wound the way its planned flank says (flank 0 G3, flank 1 G2)', () => {
    const out = join(dir, 'flanked');
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '40', '-o', out, '--quiet']).code).toBe(0);
    const flanked = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as Plan;
    expect(flanked.flanks).toBe(2);
    const r = runCli(['gcode', join(out, 'plan.json'), '--machine', machinePath]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const wound = Array.from(r.stdout.matchAll(/^; hook (\d+)[ca] \((?:start|line \d+ of \d+)\), (G[23])$/gm), (m) => `${m[1]}${m[2]}`);
    expect(wound).toEqual(planPath(flanked).map((v) => `${v >> 1}${v % 2 === 0 ? 'G3' : 'G2'}`));
    expect(new Set(wound.map((w) => w.slice(-2))).size).toBe(2);
  });

  it('Marlin: G28, M0 with the colour at every colour change; -o writes exactly stdout', () => {
    const r = runCli(['gcode', join(dir, 'plan.json'), '--machine', machinePath, '--dialect', 'marlin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nG28\n');
    expect(r.stdout).not.toContain('$H');
    const run = checkRun(plan, machine, r.stdout);
    // The first colour is loaded before the first hook; then one pause per change between lines.
    const expected = [{ afterArcs: 0, color: plan.colors[plan.lines[0][0]] }];
    for (let i = 1; i < plan.lines.length; i++) {
      if (plan.lines[i][0] !== plan.lines[i - 1][0]) expected.push({ afterArcs: i + 1, color: plan.colors[plan.lines[i][0]] });
    }
    expect(expected.length).toBeGreaterThan(5);
    expect(run.pauses.map((p) => p.afterArcs)).toEqual(expected.map((e) => e.afterArcs));
    run.pauses.forEach((p, i) => expect(p.comment).toContain(expected[i].color));

    const out = join(dir, 'out.gcode');
    const w = runCli(['gcode', join(dir, 'plan.json'), '--machine', machinePath, '--dialect', 'marlin', '-o', out]);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^wrote .*out\.gcode/);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
  });

  it('GRBL colour plan pauses with M0', () => {
    const r = runCli(['gcode', join(dir, 'plan.json'), '--machine', machinePath]);
    expect(r.code).toBe(0);
    const run = checkRun(plan, machine, r.stdout);
    expect(run.pauses.length).toBeGreaterThan(5);
    expect(r.stdout.match(/^M0$/gm)?.length).toBe(run.pauses.length);
  });

  it('Marlin servo lift replaces the Z moves (M280); Grbl refuses it (stock Grbl has no servo output) and names --lift z', () => {
    const r = runCli(['gcode', join(dir, 'plan.json'), '--machine', machinePath, '--dialect', 'marlin', '--lift', 'servo', '--servo-up', '1000', '--servo-down', '0']);
    expect(r.code).toBe(0);
    const run = checkRun(plan, machine, r.stdout);
    expect(run.maxZFeed).toBe(0);
    expect(r.stdout).toContain('\nM280 P0 S1000\n');
    expect(r.stdout).toContain('\nM280 P0 S0\n');
    expectOneLineError(runCli(['gcode', join(dir, 'plan.json'), '--machine', machinePath, '--lift', 'servo', '--servo-up', '1000', '--servo-down', '0']), /stock Grbl's M3 S… is spindle PWM.*use --lift z/);
  });

  it('refuses coordinates outside the travel', () => {
    const small = structuredClone(machine);
    small.axes.x.travelMaxMm = 640;
    expect(() => generateGcode(mono, small, { dialect: 'grbl', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: 'p' }))
      .toThrow(UserError);
    expect(() => generateGcode(mono, small, { dialect: 'grbl', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: 'p' }))
      .toThrow(/outside the travel x 3\.\.640, y 3\.\.700 mm \(the travel, kept the 3 mm pull-off away from the endstops\)/);
  });

  it('bad input: one line on stderr, exit 2, nothing written', () => {
    const p = join(dir, 'plan.json');
    const out = join(dir, 'bad.gcode');
    expectOneLineError(runCli(['gcode', p, '--machine', machinePath, '--dialect', 'fanuc', '-o', out]), /unknown --dialect 'fanuc'/);
    expectOneLineError(runCli(['gcode', p, '-o', out]), /missing --machine/);
    expectOneLineError(runCli(['gcode', p, '--machine', machinePath, '--lift', 'servo']), /needs --servo-up/);
    expectOneLineError(runCli(['gcode', p, '--machine', machinePath, '--lift', 'air']), /unknown --lift/);
    expectOneLineError(runCli(['gcode', p, '--machine', join(repoRoot, 'machines/ref-ring.json')]), /ring machine/);
    const more = { ...mono, nails: [...mono.nails, ...mono.nails.slice(0, 40).map(([x, y]) => [x * 0.9 + 30, y * 0.9 + 30])] }; // 40 more hooks, inside the ring
    writeFileSync(join(dir, 'more.json'), JSON.stringify(more));
    expectOneLineError(runCli(['gcode', join(dir, 'more.json'), '--machine', machinePath]), /has 200 hooks but .* has 160/);
    const moved = structuredClone(mono);
    moved.nails[7] = [moved.nails[7][0] + 1, moved.nails[7][1]];
    writeFileSync(join(dir, 'moved.json'), JSON.stringify(moved));
    expectOneLineError(runCli(['gcode', join(dir, 'moved.json'), '--machine', machinePath, '-o', out]), /hook 7 at .* from the machine's hook 7/);
    expectOneLineError(runCli(['gcode', join(dir, 'nope.json'), '--machine', machinePath]), /cannot read plan/);
    expect(existsSync(out)).toBe(false);
  });
});
