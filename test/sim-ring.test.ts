import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { UserError } from '../host/errors';
import { validateMachine } from '../host/machine/load';
import type { RingProfile } from '../shared/geometry/ring';
import { simulate } from '../sim/simulate';
import { runCli, stderrLines, tempDir } from './helpers/cli';
import { repoRoot } from './helpers/cli';
import { samplePath } from './helpers/rig';

const ringJson = () => JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8'));
const ring = ringJson() as RingProfile;

describe('ref-ring profile', () => {
  it('validates, with the numbers of the reference machine', () => {
    const m = validateMachine(ringJson(), 'ref-ring.json') as RingProfile;
    expect(m.kind).toBe('ring');
    expect(m.hooks.count).toBe(200);
    expect(m.hooks.diameterMm).toBe(500);
    expect(m.ring.motorStepsPerRev * m.ring.gearRatio).toBe(16000);
    expect([m.ring.maxSpeedDegS, m.ring.accelDegS2, m.arm.swingMs]).toEqual([90, 360, 150]);
  });

  it('names the field and the fix', () => {
    const bad = (f: (j: any) => void, pattern: RegExp) => {
      const j = ringJson();
      f(j);
      expect(() => validateMachine(j, 'r.json')).toThrow(UserError);
      expect(() => validateMachine(j, 'r.json')).toThrow(pattern);
    };
    bad((j) => (j.ring.maxSpeedDegS = -1), /field ring\.maxSpeedDegS: .*docs\/machines\.md/);
    bad((j) => (j.arm.swingMS = 150), /field arm: unknown field 'swingMS' \(misspelt\?\)/);
    bad((j) => (j.arm.pin = j.ring.pins.hall), /field arm\.pin: pin 9 is already used by ring\.pins\.hall/);
    bad((j) => (j.hooks.count = 600), /field hooks\.count: 600 hooks are .* apart/);
    bad((j) => (j.ring.homing.backoffDeg = 2), /field ring\.homing\.backoffDeg/);
  });
});

describe('ref-ring simulated', () => {
  const path = samplePath(4, 120, 200, 10);
  const stream = Uint8Array.from(encodeStream(path, 200, [0], { version: 4 }));

  it('homes on the hall sensor, then winds every hook of the stream the way the thread turns, within the limits', () => {
    const r = simulate(stream, ring);
    expect(r.violations).toEqual([]);
    expect(r.firstMismatch).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.wrapped).toEqual(path);
    expect(r.homedSeconds).toBeGreaterThanOrEqual(0);
    expect(r.report.stateName).toBe('done');
    // Each hook: at least two arm swings (150 ms each) and the turn; never faster than the floor.
    expect(r.machineSeconds).toBeGreaterThan(r.floorSeconds + path.length * 0.3);
    expect(r.estimateSeconds).toBeGreaterThan(0.9 * (r.machineSeconds - r.homedSeconds) - 10);
  });

  it('the verifier sees a hook wound the wrong way and a hook left out', () => {
    const wrong = simulate(stream, ring, { faults: { reverseWrap: 7 }, skipEstimates: true });
    expect(wrong.ok).toBe(false);
    expect(wrong.firstMismatch).toMatchObject({ index: 7, expectedHook: path[7], wrappedHook: path[7] });
    const skipped = simulate(stream, ring, { faults: { skipHook: 9 }, skipEstimates: true });
    expect(skipped.ok).toBe(false);
    expect(skipped.firstMismatch).toMatchObject({ index: 9, expectedHook: path[9] });
  });

  it('hookline sim and estimate run a ring plan end to end', () => {
    const dir = tempDir();
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '20', '--hooks', '200', '--board-mm', '500', '-o', dir, '--quiet']).code).toBe(0);
    expect(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls'), '--machine', 'machines/ref-ring.json']).code).toBe(0);
    const r = runCli(['sim', join(dir, 'plan.hls'), '--machine', 'machines/ref-ring.json', '-o', join(dir, 'sim'), '--plan', join(dir, 'plan.json'), '--width', '128']);
    expect(stderrLines(r.stderr)).toEqual([]); // progress lines aside
    expect(r.stdout).toMatch(/^sim OK: wrapped 21 of 21 hooks/);
    const e = runCli(['estimate', join(dir, 'plan.hls'), '--machine', 'machines/ref-ring.json']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/on ref-ring: 20 lines/);
  });
});
