// The runtime feeding a hardware step generator with segments (device/stepper.ts, sim/step-generator.ts):
// every step of the job lands within the generator's error bound of the step the per-step stepper
// makes at the same point of the same profile, nothing is late, and the piece is wound as planned.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { simulate } from '../sim/simulate';
import { nativeSegmentsTarget } from '../sim/targets/native';
import { NATIVE_GENERATOR, type StepGeneratorSpec } from '../sim/step-generator';
import type { MachineProfile } from '../shared/machine';
import { Verifier } from '../sim/verify';
import { refGantry, samplePath } from './helpers/rig';

const m = refGantry();
const bytes = (path: number[], colors = [0]) => Uint8Array.from(encodeStream(path, 160, colors));

/** Rising STEP edges per axis (µs), from the job's first step on. */
function stepTimes(machine: MachineProfile, stream: Uint8Array, spec: StepGeneratorSpec | null) {
  const pins = [machine.axes.x.pins.step, machine.axes.y.pins.step, machine.axes.z.pins.step];
  const t: number[][] = [[], [], []];
  const r = simulate(stream, machine, {
    target: spec ? nativeSegmentsTarget(spec) : undefined,
    onEdge: { edge: (pin, level, us) => { const a = pins.indexOf(pin); if (a >= 0 && level === 1) t[a].push(us); } },
  });
  return { r, t };
}

describe('step segments: the per-step trajectory, compressed', () => {
  // Chunks of (interval, count, add) within maxErrorUs; phases integrated by the generator: exact.
  it.each([
    ['chunks', NATIVE_GENERATOR, NATIVE_GENERATOR.maxErrorUs + NATIVE_GENERATOR.tickUs],
    ['phases', { ...NATIVE_GENERATOR, phases: true }, NATIVE_GENERATOR.tickUs],
  ] as const)('%s: makes every step of a job within the error bound of the per-step stepper, after the start delay', (_kind, spec, errorUs) => {
    const stream = bytes(samplePath(3, 25));
    const ref = stepTimes(m, stream, null);
    const seg = stepTimes(m, stream, spec);
    expect(ref.r.ok).toBe(true);
    expect(seg.r.ok).toBe(true);
    expect(seg.r.violations).toEqual([]);
    expect(seg.r.wrapped).toEqual(ref.r.wrapped);
    const bound = errorUs + 1e-6;
    for (let a = 0; a < 3; a++) {
      // Homing differs (the generator's seeks read the switch every SEEK_POLL_US and may run a little
      // past it); the job's steps are compared from its start, which both reach homed at the same place.
      const rj = ref.t[a].filter((t) => t >= ref.r.jobStartSeconds * 1e6);
      const sj = seg.t[a].filter((t) => t >= seg.r.jobStartSeconds * 1e6);
      expect(sj.length).toBe(rj.length);
      expect(rj.length).toBeGreaterThan(100);
      // The job starts later on the generator (its homing took longer) and each later start of motion
      // from rest waits one refill period more: from the first step on, the offset only ever grows by
      // whole refill periods.
      let worst = 0;
      let offset = sj[0] - rj[0];
      for (let i = 0; i < rj.length; i++) {
        const d = sj[i] - rj[i];
        const k = Math.round((d - offset) / NATIVE_GENERATOR.refillUs);
        if (k > 0) offset += k * NATIVE_GENERATOR.refillUs;
        worst = Math.max(worst, Math.abs(d - offset));
      }
      expect(worst).toBeLessThanOrEqual(bound);
    }
    // Far fewer interpreter entries than steps: the point of segments (homing's seeks included).
    const steps = seg.t[0].length + seg.t[1].length + seg.t[2].length;
    expect(seg.r.timerEvents).toBeLessThan(steps / 5);
    // The generator made every step, homing's too, from far fewer segments.
    const g = seg.r.stepGenerator!;
    expect(g.lateSegments).toBe(0);
    expect(g.steps).toBe(steps);
    expect(g.segments).toBeLessThan(g.steps / 5);
    expect(ref.r.stepGenerator).toBeNull();
  });

  it('winds any path with any queue depth, lead and error bound, chunks or phases, never late (no chip cost here)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 2, max: 16 }),
        fc.constantFrom(4000, 15000, 60000),
        fc.constantFrom(0.5, 2, 10, 25),
        fc.boolean(),
        (seed, lines, queueLength, leadUs, maxErrorUs, phases) => {
          const spec: StepGeneratorSpec = { queueLength, tickUs: 1, leadUs, refillUs: Math.min(leadUs / 2, 10000), maxErrorUs, phases };
          const path = samplePath(seed, lines);
          const r = simulate(bytes(path), m, { target: nativeSegmentsTarget(spec) });
          expect(r.violations).toEqual([]);
          expect(r.wrapped).toEqual(path);
          expect(r.ok).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('pauses for a colour change and continues', () => {
    const r = simulate(bytes([5, 60, 120, -2, 30, 90, -1, 140, 10], [0x000000, 0xcc0000]), m, { target: nativeSegmentsTarget(), threadChangeSeconds: 45 });
    expect(r.violations).toEqual([]);
    expect(r.pauses).toBe(2);
    expect(r.wrapped).toEqual([5, 60, 120, 30, 90, 140, 10]);
  });

  it('a generator fed too late is a violation, not a silent pass', () => {
    // A lead shorter than the refill period: the queue runs dry between refills.
    const spec: StepGeneratorSpec = { queueLength: 64, tickUs: 1, leadUs: 1000, refillUs: 20000, maxErrorUs: 2 };
    const r = simulate(bytes(samplePath(4, 4)), m, { target: nativeSegmentsTarget(spec) });
    expect(r.violationCounts['late-step'] ?? 0).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
  });

  it('a generator with a coarse 40 µs tick winds with no violation: the verifier allows its rounding, no more', () => {
    const spec: StepGeneratorSpec = { queueLength: 16, tickUs: 40, leadUs: 60000, refillUs: 20000, maxErrorUs: 20 };
    const path = samplePath(6, 8);
    const r = simulate(bytes(path), m, { target: nativeSegmentsTarget(spec) });
    expect(r.violations).toEqual([]);
    expect(r.wrapped).toEqual(path);
  });
});

describe('verifier with coarse step timing (setStepJitter)', () => {
  const fullUs = 1e6 / (m.axes.x.maxSpeedMmS * m.axes.x.stepsPerMm);
  function run(intervals: number[], jitterUs: number) {
    const pos = Float64Array.from([7000, 7000, 8000]);
    const v = new Verifier(m, pos);
    for (let a = 0; a < 3; a++) v.endstop(a, true, 0);
    v.setStepJitter(jitterUs);
    let t = 1e6;
    for (const d of intervals) {
      t += d;
      pos[0] += 1;
      v.step(0, 1, t);
    }
    return v.counts.overspeed ?? 0;
  }
  it('lets single intervals come out short by the rounding (alternating ±jitter around full speed)', () => {
    const j = 30;
    const ivs = Array.from({ length: 200 }, (_, i) => fullUs + (i % 2 ? -1.9 * j : 1.9 * j));
    expect(run(ivs, j)).toBe(0);
  });
  it('but not a sustained speed above maxSpeedMmS, however small each interval\'s shortfall', () => {
    const j = 30;
    const ivs = Array.from({ length: 200 }, () => fullUs * 0.97);
    expect(fullUs - fullUs * 0.97).toBeLessThan(2 * j);
    expect(run(ivs, j)).toBeGreaterThan(0);
  });
});
