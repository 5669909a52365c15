/**
 * The Grbl sender's pieces without a board: status reports, `$$` against the profile, and the
 * placement of the machine on the program from reported positions (never ahead of the machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateJobGcode, type ProgramLine } from '../host/gcode/generate';
import { validateGantry } from '../host/machine/load';
import { grblAlarmText, grblErrorText } from '../host/controller/grbl-codes';
import { parseStatus } from '../host/controller/grbl-link';
import { compareGrblSettings, expectedGrblSettings, parseGrblSettings, settingDiffText } from '../host/controller/grbl-settings-check';
import { ProgramProgress } from '../host/controller/program-progress';
import { hooksAndDirections } from '../sim/verify';
import { repoRoot } from './helpers/cli';
import './fast-check-seed';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const machine = validateGantry(JSON.parse(readFileSync(machinePath, 'utf8')), machinePath);

describe('Grbl status reports and codes', () => {
  it('parses Grbl 1.1 status reports with MPos, a sub-state and pins', () => {
    expect(parseStatus('<Idle|MPos:-697.000,-697.000,-3.000|FS:0,0|WCO:-700.000,-700.000,-30.000>')).toEqual({ state: 'Idle', sub: 0, mpos: [-697, -697, -3], pins: '' });
    expect(parseStatus('<Hold:1|MPos:1.5,2.25,-0.001|Bf:15,128|FS:500,0|Pn:XZ>')).toEqual({ state: 'Hold', sub: 1, mpos: [1.5, 2.25, -0.001], pins: 'XZ' });
    expect(parseStatus('<Run|WPos:0,0>')).toBeNull();
    expect(parseStatus('ok')).toBeNull();
  });
  it('says what codes mean, and that it does not know a code', () => {
    expect(grblErrorText(9)).toBe('error:9 (G-code locked out: Grbl is in alarm or jog state (home with $H first))');
    expect(grblAlarmText(2)).toMatch(/^ALARM:2 \(soft limit/);
    expect(grblAlarmText(99)).toBe('ALARM:99 (unknown alarm code)');
  });
});

describe('$$ against the profile', () => {
  const expected = expectedGrblSettings(machine);
  /** A `$$` answer as Grbl 1.1h prints it (floats with three decimals). */
  const dump = (over: Map<number, number> = new Map()) =>
    expected.map((e) => `$${e.n}=${(over.get(e.n) ?? e.value) % 1 === 0 && e.n < 100 ? over.get(e.n) ?? e.value : (over.get(e.n) ?? e.value).toFixed(3)}`);

  it('the profile\'s own settings match', () => {
    expect(compareGrblSettings(parseGrblSettings(dump()), machine)).toEqual([]);
  });

  it('any one compared setting changed is the one difference; $1/$6/$12/$26 and $10 bit 1 are not compared', () => {
    const compared = expected.filter((e) => ![1, 6, 12, 26].includes(e.n));
    fc.assert(fc.property(fc.constantFrom(...compared), fc.integer({ min: 1, max: 500 }), (e, d) => {
      const v = e.n === 10 ? e.value ^ 1 : e.value + d / 4;
      const diffs = compareGrblSettings(parseGrblSettings(dump(new Map([[e.n, v]]))), machine);
      expect(diffs.map((x) => x.n)).toEqual([e.n]);
      expect(settingDiffText(diffs[0])).toMatch(new RegExp(`^\\$${e.n}=\\S+ \\(profile ${e.value}: `));
    }));
    const free = new Map([[1, 25], [6, 1], [12, 0.01], [26, 100], [10, 3]]);
    expect(compareGrblSettings(parseGrblSettings(dump(free)), machine)).toEqual([]);
    expect(compareGrblSettings(parseGrblSettings(dump().filter((l) => !l.startsWith('$100='))), machine).map(settingDiffText)).toEqual(['$100=(not listed) (profile 20: x steps/mm)']);
  });
});

/** A point of line l at fraction t of its way (arcs along the arc). */
function pointOn(l: ProgramLine, t: number): number[] {
  const [fx, fy, fz] = l.from!;
  const [tx, ty, tz] = l.to!;
  if (!l.centre) return [fx + (tx - fx) * t, fy + (ty - fy) * t, fz + (tz - fz) * t];
  const [cx, cy] = l.centre;
  const r = Math.hypot(fx - cx, fy - cy);
  const a0 = Math.atan2(fy - cy, fx - cx);
  return [cx + r * Math.cos(a0 + l.turn! * Math.PI * t), cy + r * Math.sin(a0 + l.turn! * Math.PI * t), fz];
}

describe('placing the machine on the program from its positions', () => {
  const hookCount = machine.hooks.count;
  const jobArb = fc.array(fc.integer({ min: 0, max: hookCount - 1 }), { minLength: 2, maxLength: 12 })
    .filter((p) => p.every((h, i) => i === 0 || Math.abs(h - p[i - 1]) > 2))
    .map((path) => {
      const { dirs } = hooksAndDirections(machine, path, 1);
      return { path, dirs, lineColors: path.slice(1).map(() => 0), colors: ['#000000'], flanked: false };
    });

  it('never counts a hook as wound before the machine finished its turn, and counts all of them once it has been seen past each', () => {
    fc.assert(fc.property(jobArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }), fc.nat(4), fc.nat(), (job, ts, extraAcked, seed) => {
      const { program } = generateJobGcode(job, machine, { dialect: 'grbl', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: 'p' });
      const tol = 1 / machine.axes.x.stepsPerMm + 0.005;
      const pr = new ProgramProgress(program, tol);
      let rnd = seed;
      const jitter = () => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * tol; // report rounding and step quantisation
      let trueWound = 0;
      for (let i = 0; i < program.length; i++) {
        const l = program[i];
        if (l.from && l.to) {
          for (const t of [...ts].sort()) {
            const p = pointOn(l, t).map((v) => v + jitter());
            pr.observe(p, Math.min(program.length, i + 1 + extraAcked));
            expect(pr.wound(0)).toBeLessThanOrEqual(trueWound + (l.woundAfter && t === 1 ? 1 : 0));
          }
        }
        if (l.woundAfter) trueWound = l.hook + 1;
      }
      // Seen in the middle of the last lift: every hook is wound.
      const lastLift = program.map((l, i) => [l, i] as const).filter(([l]) => l.from && l.to && !l.centre && l.from[2] !== l.to[2] && l.hook === job.path.length - 1).pop()!;
      pr.observe(pointOn(lastLift[0], 0.6), program.length);
      expect(pr.wound(0)).toBe(job.path.length);
    }), { numRuns: 40 });
  });

  it('Grbl idle with every line answered: everything is finished', () => {
    const job = { path: [0, 40, 80], dirs: [1, 1, 1], lineColors: [0, 0], colors: ['#000000'], flanked: false };
    const { program } = generateJobGcode(job, machine, { dialect: 'grbl', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: 'p' });
    const pr = new ProgramProgress(program, 0.06);
    expect(pr.wound(0)).toBe(0);
    pr.finishedBefore(program.length);
    expect(pr.wound(0)).toBe(3);
  });
});
