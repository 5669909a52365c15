import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupSchedule, kmeansPalette, labToRgb, lum, parseColour, rgbToLab } from '../host/plan/colour';
import { UserError } from '../host/errors';
import type { Plan } from '../host/plan/types';
import { stderrLines } from './helpers/cli';
import { checkPlan } from './plan-helpers';

function hookline(...args: string[]) {
  return spawnSync(process.execPath, ['bin/hookline.js', ...args], { encoding: 'utf8' });
}

const PALETTE = '#000000,#d0803c,#5a6e8c';
let dir: string;
let plan: Plan;
let planOut: ReturnType<typeof hookline>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookline-colour-'));
  planOut = hookline('plan', 'examples/coffee.png', '-o', join(dir, 'ok'), '--palette', PALETTE,
    '--lines-per-color', '120,60,40', '--groups', '2');
  if (planOut.status === 0) plan = JSON.parse(readFileSync(join(dir, 'ok', 'plan.json'), 'utf8')) as Plan;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hookline plan --palette (built CLI)', () => {
  it('writes plan.json, preview.png, one preview per colour and forming.gif', () => {
    expect(stderrLines(planOut.stderr)).toEqual([]); // progress lines aside (after 1 s)
    expect(planOut.status).toBe(0);
    expect(planOut.stdout).toMatch(/planned 220 lines \(120 #000000, 60 #d0803c, 40 #5a6e8c\), 5 colour changes/);
    for (const f of ['plan.json', 'preview.png', 'preview-1.png', 'preview-2.png', 'preview-3.png', 'forming.gif']) {
      expect(existsSync(join(dir, 'ok', f)), f).toBe(true);
    }
    expect(readFileSync(join(dir, 'ok', 'forming.gif')).subarray(0, 6).toString()).toBe('GIF89a');
  });

  it('is a valid plan: colours = palette, one continuous path, budgets met', () => {
    checkPlan(plan); // includes lines[i][1] === lines[i-1][2]: every group continues from where the previous one ended
    expect(plan.colors).toEqual(['#000000', '#d0803c', '#5a6e8c']);
    expect(plan.background).toBe('#ffffff');
    expect([0, 1, 2].map((c) => plan.lines.filter((l) => l[0] === c).length)).toEqual([120, 60, 40]);
  });

  it('layers: groups cycle through the colours, darkest on top; the first-found lines are placed last', () => {
    // Runs of one colour in placement order (bottom first).
    const runs: number[] = [];
    plan.lines.forEach(([c], i) => { if (i === 0 || plan.lines[i - 1][0] !== c) runs.push(c); });
    // Found order per cycle: black (darkest), blue-grey, orange; placement is its reverse.
    expect(runs).toEqual([1, 2, 0, 1, 2, 0]);
    // Group sizes taper: the last placed (top) black group is the largest.
    expect(plan.lines.slice(-80).every((l) => l[0] === 0)).toBe(true);
    // The found path started at planner.foundStart: reversed, that is where the last placed line ends.
    expect(plan.lines[plan.lines.length - 1][2]).toBe(plan.planner?.foundStart);
    // colorChanges: one pause event per run, at the line where it starts, tied on where the previous ended.
    expect(plan.colorChanges?.map((e) => e.color)).toEqual(runs);
    for (const e of plan.colorChanges ?? []) {
      expect(plan.lines[e.line][0]).toBe(e.color);
      expect(plan.lines[e.line][1]).toBe(e.hook);
      if (e.line > 0) expect(plan.lines[e.line - 1][0]).not.toBe(e.color);
    }
  });

  it('hookline score gives the RGB RMSE of a colour plan', () => {
    const r = hookline('score', join(dir, 'ok', 'plan.json'), 'examples/coffee.png');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { rmse: number; lines: number; colors: number };
    expect(s.lines).toBe(220);
    expect(s.colors).toBe(3);
    expect(s.rmse).toBeGreaterThan(0.2);
    expect(s.rmse).toBeLessThan(0.8);
  });

  it('encodes and simulates: the runtime pauses at every colour change', () => {
    const hls = join(dir, 'ok', 'plan.hls');
    const e = hookline('encode', join(dir, 'ok', 'plan.json'), '-o', hls, '--machine', 'machines/ref-gantry.json');
    expect(e.status, e.stderr).toBe(0);
    const s = hookline('sim', hls, '--machine', 'machines/ref-gantry.json', '-o', join(dir, 'sim'), '--plan', join(dir, 'ok', 'plan.json'));
    expect(s.status, s.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'sim', 'report.json'), 'utf8')) as { ok: boolean; pauses: number };
    expect(report.ok).toBe(true);
    expect(report.pauses).toBe(plan.colorChanges!.length); // the first thread load and each change
  }); // the suite-wide limit (vitest.config.ts: a hang, not speed)

  it('--colors K picks the palette from the image, the same for the same seed', () => {
    const a = hookline('plan', 'examples/coffee.png', '-o', join(dir, 'k1'), '--colors', '2', '--lines', '60', '-q');
    const b = hookline('plan', 'examples/coffee.png', '-o', join(dir, 'k2'), '--colors', '2', '--lines', '60', '-q');
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const pa = JSON.parse(readFileSync(join(dir, 'k1', 'plan.json'), 'utf8')) as Plan;
    const pb = JSON.parse(readFileSync(join(dir, 'k2', 'plan.json'), 'utf8')) as Plan;
    expect(pa.colors).toHaveLength(2);
    expect(pa.colors).toEqual(pb.colors);
    expect(pa.lines).toEqual(pb.lines);
    expect(pa.lines.length).toBeGreaterThan(40);
  });
});

describe('colour plans: bad input is one line, exit 2', () => {
  const bad: [string, string[], RegExp][] = [
    ['unknown colour name', ['--palette', 'black,chartreuse-ish'], /--palette: 'chartreuse-ish' is not a colour/],
    ['malformed colour', ['--palette', '#00000,#d0803c'], /--palette: '#00000' is not a colour/],
    ['bad background', ['--palette', '#000000', '--background', 'wite'], /--background: 'wite' is not a colour/],
    ['one colour equal to the background', ['--palette', '#ffffff'], /colour 1 \(#ffffff\) is the background colour/],
    ['equal to a given background', ['--palette', 'black', '--background', '#000'], /is the background colour/],
    ['budgets do not match the palette', ['--palette', PALETTE, '--lines-per-color', '100,200'], /--lines-per-color: 2 budgets for 3 colours/],
    ['order names a missing colour', ['--palette', PALETTE, '--order', '1,2,4'], /--order: colour 4 does not exist/],
    ['order misses a colour', ['--palette', PALETTE, '--order', '1,2,1,2'], /--order: colour 3 never appears/],
    ['colour flag without a palette', ['--groups', '3'], /--groups is for colour plans/],
  ];
  for (const [what, args, msg] of bad) {
    it(what, () => {
      const r = hookline('plan', 'examples/coffee.png', '-o', join(dir, 'bad'), ...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    });
  }
});

describe('colour helpers', () => {
  it('parseColour: hex, short hex, names; others refused', () => {
    expect(parseColour('#D0803C', 'palette')).toBe('#d0803c');
    expect(parseColour('#fa0', 'palette')).toBe('#ffaa00');
    expect(parseColour(' Black ', 'palette')).toBe('#000000');
    expect(() => parseColour('#ggg000', 'palette')).toThrow(UserError);
    expect(() => parseColour('', 'palette')).toThrow(UserError);
  });

  it('groupSchedule: default cycles darkest first, budgets split evenly; an explicit order', () => {
    const pal = ['#d0803c', '#000000', '#5a6e8c'];
    expect(groupSchedule(pal, [10, 7, 4], 2, undefined, 0)).toEqual([[1, 3], [2, 2], [0, 5], [1, 4], [2, 2], [0, 5]]);
    expect(groupSchedule(pal, [10, 7, 4], 1, [0, 2, 0, 1], 0)).toEqual([[0, 5], [2, 4], [0, 5], [1, 7]]);
    // Default taper: the first-found (top) groups are the largest, every line is kept.
    const tapered = groupSchedule(['#000000'], [2500], 4);
    expect(tapered.map(([, n]) => n)).toEqual([1187, 813, 437, 63]);
    expect(lum('#000000')).toBeLessThan(lum('#5a6e8c'));
  });

  it('CIELAB round trip and k-means determinism', () => {
    const lab = rgbToLab(0.8, 0.5, 0.2);
    const back = labToRgb(...lab);
    expect(back[0]).toBeCloseTo(0.8, 4);
    expect(back[2]).toBeCloseTo(0.2, 4);
    const w = 32, h = 32;
    const data = new Float32Array(w * h * 3);
    for (let p = 0; p < w * h; p++) data.set(p % w < 16 ? [0.2, 0.2, 0.2] : [0.8, 0.4, 0.2], p * 3);
    const mask = new Uint8Array(w * h).fill(1);
    const a = kmeansPalette({ data, width: w, height: h }, mask, 2, '#ffffff', 7);
    expect(a).toEqual(kmeansPalette({ data, width: w, height: h }, mask, 2, '#ffffff', 7));
    expect(a).toEqual(['#333333', '#cc6633']); // the two clusters' colours, dark first
  });
});
