import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { type RingProfile, ringHookDeg, ringStepsPerRev } from '../shared/geometry/ring';
import { simulate } from '../sim/simulate';
import { RING_START_DEG, RingMotionSampler } from '../sim/report/ring-sampler';
import { WINDOW_US } from '../sim/report/sampler';
import { repoRoot, runCli, stderrLines, tempDir } from './helpers/cli';

const ring = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8')) as RingProfile;
const R = ring.hooks.diameterMm / 2;
const [cx, cy] = ring.hooks.centerMm;
const rIn = R - ring.arm.inOffsetMm;
const rOut = R + ring.arm.outOffsetMm;
/** motion.svg rounds to 0.1 mm. */
const EPS = 0.15;

/** The vertices of one of motion.svg's paths: [x, y, isMoveTo]. */
function vertices(svg: string, state: 'low' | 'high'): [number, number, boolean][] {
  const d = new RegExp(`<path d="([^"]*)"[^>]*data-state="${state}"`).exec(svg)![1];
  const out: [number, number, boolean][] = [];
  for (const m of d.matchAll(/([ML])(-?[\d.]+) (-?[\d.]+)/g)) out.push([Number(m[2]), Number(m[3]), m[1] === 'M']);
  return out;
}

const radius = (x: number, y: number) => Math.hypot(x - cx, y - cy);

describe('hookline sim on a ring machine: motion.svg and the report plots', () => {
  let dir = '';
  let wrapped: number[] = [];
  let stdout = '';

  beforeAll(() => {
    dir = tempDir();
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '20', '--hooks', '200', '--board-mm', '500', '-o', dir, '--quiet']).code).toBe(0);
    expect(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls'), '--machine', 'machines/ref-ring.json']).code).toBe(0);
    const r = runCli(['sim', join(dir, 'plan.hls'), '--machine', 'machines/ref-ring.json', '-o', join(dir, 'sim'), '--plan', join(dir, 'plan.json'), '--width', '128']);
    expect(stderrLines(r.stderr)).toEqual([]); // progress lines aside
    expect(r.code).toBe(0);
    stdout = r.stdout;
    wrapped = JSON.parse(readFileSync(join(dir, 'sim', 'report.json'), 'utf8')).wrapped;
  });

  it('motion.svg: the arm tip on its two radii around the hook circle, passing outside every wound hook', async () => {
    expect(stdout).toMatch(/^sim OK: wrapped 21 of 21 hooks.*report\.html, strung\.png, motion\.svg, build\.gif\n$/);
    const svg = readFileSync(join(dir, 'sim', 'motion.svg'), 'utf8');
    expect((await sharp(Buffer.from(svg)).metadata()).format).toBe('svg');
    expect(svg.match(/<circle /g)).toHaveLength(200);
    const low = vertices(svg, 'low');
    const high = vertices(svg, 'high');
    expect(low.length).toBeGreaterThan(50);
    expect(high.length).toBeGreaterThan(2 * wrapped.length);
    // Every vertex reached with the arm in is on the inner radius, with it out on the outer one; a run
    // starts where the swing started (either radius).
    for (const [x, y, move] of low) {
      const d = radius(x, y);
      if (move) expect(Math.min(Math.abs(d - rIn), Math.abs(d - rOut))).toBeLessThan(EPS);
      else expect(Math.abs(d - rIn)).toBeLessThan(EPS);
    }
    for (const [x, y, move] of high) {
      const d = radius(x, y);
      if (move) expect(Math.min(Math.abs(d - rIn), Math.abs(d - rOut))).toBeLessThan(EPS);
      else expect(Math.abs(d - rOut)).toBeLessThan(EPS);
    }
    // The outside passes are at ± 0.8 half-pitches from the hook, outOffsetMm outside it: each wound
    // hook has one within that distance (+ rounding), in the ring frame as strung.
    const pitchMm = (2 * Math.PI * R) / ring.hooks.count;
    const near = Math.hypot(ring.arm.outOffsetMm, 0.4 * pitchMm) + 0.3;
    for (const h of wrapped) {
      const a = (ringHookDeg(ring, h) * Math.PI) / 180;
      const hx = cx + R * Math.cos(a);
      const hy = cy + R * Math.sin(a);
      const best = Math.min(...high.map(([x, y]) => Math.hypot(x - hx, y - hy)));
      expect(best, `hook ${h}`).toBeLessThan(near);
    }
  });

  it('report.html: the path and the ring speed/acceleration plots in degrees', () => {
    const html = readFileSync(join(dir, 'sim', 'report.html'), 'utf8');
    expect(html).toContain('<b class="ok" id="verdict">OK</b>');
    expect(html).toContain('src="motion.svg"');
    expect(html).toContain('arm in (inside the hook circle)');
    expect(html).toContain('<figcaption>ring speed (deg/s)</figcaption>');
    expect(html).toContain('<figcaption>ring acceleration (deg/s²)</figcaption>');
    expect(html).not.toContain('mm/s');
    expect(html.match(/<polyline [^>]*points="[\d., ]+"/g)).toHaveLength(2);
  });

  it('the sampled ring speed stays within maxSpeedDegS (+ one step per window) and sees an over-speed', () => {
    const bytes = readFileSync(join(dir, 'plan.hls'));
    const quantum = 1 / (ringStepsPerRev(ring) / 360) / (WINDOW_US * 1e-6);
    const run = (speedFactor: number) => {
      const sampler = new RingMotionSampler(ring);
      const r = simulate(bytes, ring, { startMm: [RING_START_DEG, 0, 0], onEdge: sampler, skipEstimates: true, faults: { speedFactor } });
      return { r, s: sampler.finish(r.machineSeconds * 1e6) };
    };
    const ok = run(1);
    expect(ok.r.ok).toBe(true);
    expect(ok.s.speed).toHaveLength(1);
    const top = Math.max(...ok.s.speed[0]);
    expect(top).toBeLessThanOrEqual(ring.ring.maxSpeedDegS + quantum);
    expect(top).toBeGreaterThan(ring.ring.homing.seekSpeedDegS); // it moved, and faster than homing
    const fast = run(1.5);
    expect(fast.r.violationCounts.overspeed).toBeGreaterThan(0);
    expect(Math.max(...fast.s.speed[0])).toBeGreaterThan(ring.ring.maxSpeedDegS + quantum);
  });
});
