// Issue #13, "Plans that cannot be built are accepted": one check wherever a plan meets a machine
// (host/machine/compat.ts), and the runtime's pile rule for estimate and gcode as for sim.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planToJson } from '../host/plan/write';
import type { Plan } from '../host/plan/types';
import { type CliResult, repoRoot, runCli, stderrLines, tempDir } from './helpers/cli';
import { testPlan } from './helpers/test-plan';

const gantry = join(repoRoot, 'machines/ref-gantry.json');
const esp32 = join(repoRoot, 'machines/ref-gantry-esp32.json');

/** A one-line error: exit 2, nothing on stdout, one stderr line (progress aside) matching `re`. */
function expectOneLineError(r: CliResult, re: RegExp): void {
  const lines = stderrLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookline: /);
  expect(lines[0]).toMatch(re);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

describe('a plan meets a machine: one check, the mismatch named', () => {
  let dir: string;
  const file = (name: string, plan: Plan) => {
    const p = join(dir, `${name}.json`);
    writeFileSync(p, planToJson(plan));
    return p;
  };
  beforeAll(() => {
    dir = tempDir();
  });

  it('a plan for the machine encodes, and gcode takes it', () => {
    const p = file('ok', testPlan());
    const r = runCli(['encode', p, '-o', join(dir, 'ok.hls'), '--machine', gantry]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(runCli(['gcode', p, '--machine', gantry, '-o', join(dir, 'ok.gcode')]).code).toBe(0);
  });

  it.each([
    ['a rect frame', { frame: 'rect' as const }, /rect frame, the machine has a 600 mm circle of 160 hooks; re-plan with --hooks 160 --board-mm 600 --frame circle/],
    ['a 300 mm board', { boardMm: 300 }, /plan is for a 300 mm circle board, the machine has a 600 mm circle of hooks .*re-plan with .*--board-mm 600/],
    ['120 hooks', { hooks: 120 }, /the plan has 120 hooks but the machine has 160 .*--hooks 160/],
    ['1 mm thread', { threadMm: 1 }, /plan is for 1 mm thread, the profile's is 0\.12 mm .*--thread-mm 0\.12/],
    ['0.05 mm thread', { threadMm: 0.05 }, /plan is for 0\.05 mm thread/],
    ['4 mm hooks', { hookMm: 4 }, /plan is for 4 mm hooks, the machine's are 2 mm .*--hook-mm 2/],
  ])('encode --machine refuses %s, writes nothing', (name, o, re) => {
    const p = file(name.replace(/ /g, '-'), testPlan(o));
    const out = join(dir, `${name}.hls`);
    const r = runCli(['encode', p, '-o', out, '--machine', gantry]);
    expectOneLineError(r, re);
    expect(r.stderr).toMatch(/cannot be built on machine ref-gantry/);
    expect(existsSync(out)).toBe(false);
    // The same check, the same words, where gcode meets the machine.
    expectOneLineError(runCli(['gcode', p, '--machine', gantry, '-o', join(dir, `${name}.gcode`)]), re);
    expect(existsSync(join(dir, `${name}.gcode`))).toBe(false);
  });

  it('50 mm hooks 11.8 mm apart are refused when the plan is read', () => {
    const p = file('hooks50', testPlan({ hookMm: 50 }));
    expectOneLineError(runCli(['encode', p, '-o', join(dir, 'h50.hls'), '--machine', gantry]), /11\.78?\d* mm apart .*50 mm hooks .*the hooks overlap/);
  });

  it('a plan a hook cannot hold (pile-full in the runtime) is refused by encode --machine and gcode, and by estimate of its unbound stream', () => {
    // 160 hooks of 12 mm hold 73 wraps of 0.12 mm thread (× packing 1.25, 0.5 mm clearance twice).
    const p = file('pile', testPlan({ lines: 12_000 }));
    expectOneLineError(runCli(['encode', p, '-o', join(dir, 'pile-bound.hls'), '--machine', gantry]), /piles thread .* a hook holds 73 wraps .*pile-full; use fewer lines/);
    expectOneLineError(runCli(['gcode', p, '--machine', gantry]), /a hook holds 73 wraps .*pile-full/);
    expect(runCli(['encode', p, '-o', join(dir, 'pile.hls')]).code).toBe(0);
    expectOneLineError(runCli(['estimate', join(dir, 'pile.hls'), '--machine', gantry]), /pile\.hls cannot be built on machine ref-gantry .*a hook holds 73 wraps .*pile-full/);
  });

  it('estimate and the runtime agree on 5 mm thread: a profile that takes it, a plan it cannot hold', () => {
    const thick = JSON.parse(readFileSync(gantry, 'utf8'));
    thick.thread.widthMm = 5;
    const m = join(dir, 'thick.json');
    writeFileSync(m, JSON.stringify(thick));
    expect(runCli(['encode', file('thick-plan', testPlan({ lines: 300 })), '-o', join(dir, 'thick.hls')]).code).toBe(0);
    // Was: "pile up to 87.5 mm" with exit 0, while sim alarmed and gcode refused.
    expectOneLineError(runCli(['estimate', join(dir, 'thick.hls'), '--machine', m]), /a hook holds 1 wrap of 5 mm thread .*pile-full/);
  });

  it('sim --plan names the mismatch; sim refuses a stream bound to another profile', () => {
    const small = file('small', testPlan({ boardMm: 300 }));
    expect(runCli(['encode', small, '-o', join(dir, 'small.hls')]).code).toBe(0);
    expectOneLineError(runCli(['sim', join(dir, 'small.hls'), '--machine', gantry, '--plan', small, '-o', join(dir, 'sim-small')]), /300 mm circle board/);
    expect(existsSync(join(dir, 'sim-small'))).toBe(false);
    const ok = file('bound', testPlan({ lines: 20 }));
    expect(runCli(['encode', ok, '-o', join(dir, 'bound.hls'), '--machine', gantry]).code).toBe(0);
    expectOneLineError(runCli(['sim', join(dir, 'bound.hls'), '--machine', esp32, '-o', join(dir, 'sim-esp32')]), /stream is for another machine profile/);
    expect(existsSync(join(dir, 'sim-esp32'))).toBe(false);
  });

  it('an unbound stream: sim and estimate check the hook count and the length', () => {
    const p = file('hooks120', testPlan({ hooks: 120 }));
    expect(runCli(['encode', p, '-o', join(dir, 'h120.hls')]).code).toBe(0);
    expectOneLineError(runCli(['estimate', join(dir, 'h120.hls'), '--machine', gantry]), /planned for 120 hooks but .* has 160/);
    expectOneLineError(runCli(['sim', join(dir, 'h120.hls'), '--machine', gantry, '-o', join(dir, 'sim-h120')]), /planned for 120 hooks but .* has 160/);
    // Was: "the machine raised alarm 6 at line 0".
    expectOneLineError(runCli(['run', join(dir, 'h120.hls'), '--port', 'sim', '--machine', gantry, '-o', join(dir, 'run-h120'), '--quiet']), /planned for 120 hooks but .* has 160/);
    expect(existsSync(join(dir, 'run-h120'))).toBe(false);
  });
});
