import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { wrapDirection } from '../shared/geometry/wrap';
import { simulate } from '../sim/simulate';
import { Verifier, expectedDirections } from '../sim/verify';
import { hookXMm, hookYMm } from '../shared/machine';
import { refGantry, samplePath } from './helpers/rig';

const m = refGantry();
const bytes = (path: number[], colors = [0]) => Uint8Array.from(encodeStream(path, 160, colors));

describe('simulate: an honest run', () => {
  it('wraps exactly the stream\'s hooks, in order and direction, with no violations', () => {
    const path = samplePath(1, 40);
    const r = simulate(bytes(path), m);
    expect(r.violations).toEqual([]);
    expect(r.firstMismatch).toBeNull();
    expect(r.wrapped).toEqual(path);
    expect(r.wrappedDirs).toEqual(expectedDirections(m, path));
    expect(r.wraps.every((w) => w.turns === 1)).toBe(true);
    expect(r.report.stateName).toBe('done');
    expect(r.ok).toBe(true);
  });

  it('takes plausible machine time: at least the chords at full speed, plus homing', () => {
    const path = samplePath(2, 30);
    const r = simulate(bytes(path), m);
    let chords = 0;
    const pos = (h: number) => [300 + 295 * Math.cos(((h / 160) * 360 - 90) * (Math.PI / 180)), 300 + 295 * Math.sin(((h / 160) * 360 - 90) * (Math.PI / 180))];
    for (let i = 1; i < path.length; i++) {
      const [ax, ay] = pos(path[i - 1]);
      const [bx, by] = pos(path[i]);
      chords += Math.hypot(bx - ax, by - ay);
    }
    // Z drops and rises by (travel − wrap) height per hook at ≤ 20 mm/s.
    const zTime = (path.length * 2 * (m.wrap.travelHeightMm - m.wrap.wrapHeightMm)) / m.axes.z.maxSpeedMmS;
    expect(r.homedSeconds).toBeGreaterThan(0);
    expect(r.machineSeconds).toBeGreaterThan(r.homedSeconds + chords / m.axes.x.maxSpeedMmS + zTime);
    expect(r.machineSeconds).toBeLessThan(r.homedSeconds + 30 + path.length * 10);
  });

  it('handles colour changes: pauses for the thread change and still wraps everything', () => {
    const r = simulate(bytes([5, 60, 120, -2, 30, 90, -1, 140, 10], [0x000000, 0xcc0000]), m, { threadChangeSeconds: 45 });
    expect(r.ok).toBe(true);
    expect(r.pauses).toBe(2);
    expect(r.wrapped).toEqual([5, 60, 120, 30, 90, 140, 10]);
  });

  it('starts from any power-on position inside the travel', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 700, noNaN: true }), fc.double({ min: 0, max: 700, noNaN: true }), fc.double({ min: 0, max: 30, noNaN: true }), (x, y, z) => {
        const r = simulate(bytes([3, 90, 40]), m, { startMm: [x, y, z] });
        expect(r.violations).toEqual([]);
        expect(r.ok).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('agrees with the geometry module on the winding direction of every hook', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 159 }), { minLength: 1, maxLength: 30 }), (raw) => {
        const path = raw.filter((h, i) => i === 0 || h !== raw[i - 1]);
        const dirs = expectedDirections(m, path);
        path.forEach((h, i) => expect(dirs[i]).toBe(wrapDirection(m, i > 0 ? path[i - 1] : -1, h, i < path.length - 1 ? path[i + 1] : -1)));
      }),
    );
  });
});

describe('simulate: a flanked stream (format 3) is wound on the planned flanks', () => {
  // Hooks from a sample path, each touched on a flank chosen at random: about half the windings go
  // against the way the thread turns, so a runtime that ignored the flanks would fail.
  const hooks = samplePath(4, 40);
  let seed = 7;
  const flank = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) >> 16) & 1;
  const flanks = hooks.map((h) => 2 * h + flank());
  const stream = Uint8Array.from(encodeStream(flanks, 320, [0], { version: 5 }));
  const planned = flanks.map((v) => (v % 2 === 0 ? 1 : -1));

  it('wraps the hooks in the planned directions, ok', () => {
    const r = simulate(stream, m);
    expect(r.violations).toEqual([]);
    expect(r.wrapped).toEqual(hooks);
    expect(r.wrappedDirs).toEqual(planned);
    expect(r.ok).toBe(true);
    const turning = expectedDirections(m, hooks);
    const against = planned.filter((d, i) => d !== turning[i]).length;
    expect(against).toBeGreaterThan(5);
  });

  it('a winding against the planned flank is caught at that hook', () => {
    const r = simulate(stream, m, { faults: { reverseWrap: 13 }, skipEstimates: true });
    expect(r.ok).toBe(false);
    expect(r.firstMismatch).toMatchObject({ index: 13, expectedHook: hooks[13], wrappedHook: hooks[13], expectedDir: planned[13], wrappedDir: -planned[13] });
  });

  it('a stream with flanks for another hook count is refused by the runtime', () => {
    const other = Uint8Array.from(encodeStream(flanks, 322, [0], { version: 5 }));
    const r = simulate(other, m, { skipEstimates: true });
    expect(r.ok).toBe(false);
    expect(r.report.errorName).toBe('hook-count-mismatch');
  });
});

describe('simulate: the verifier catches faults', () => {
  const path = samplePath(4, 20);
  const stream = bytes(path);

  it('a skipped hook → mismatch at that hook', () => {
    const r = simulate(stream, m, { faults: { skipHook: 7 } });
    expect(r.ok).toBe(false);
    expect(r.firstMismatch).toMatchObject({ index: 7, expectedHook: path[7], wrappedHook: path[8] });
    expect(r.wrapped.length).toBe(path.length - 1);
  });

  it('a hook wound the wrong way round → mismatch in direction only', () => {
    const r = simulate(stream, m, { faults: { reverseWrap: 11 } });
    expect(r.ok).toBe(false);
    expect(r.wrapped).toEqual(path);
    const mm = r.firstMismatch!;
    expect(mm.index).toBe(11);
    expect(mm.wrappedHook).toBe(mm.expectedHook);
    expect(mm.wrappedDir).toBe(-mm.expectedDir!);
  });

  it('no homing → steps before homing (and the runtime\'s positions are wrong)', () => {
    const r = simulate(stream, m, { faults: { skipHoming: true } });
    expect(r.ok).toBe(false);
    expect(r.violationCounts['step-before-homing']).toBeGreaterThan(0);
    // z may move towards its top switch unhomed; x/y stepping + before homing is the violation
    expect(r.violations.some((v) => v.kind === 'step-before-homing' && v.axis !== 'z')).toBe(true);
  });

  it('no soft limits on a board that does not fit → travel violations', () => {
    const shifted = refGantry();
    shifted.board.originMm = [-3, 50];
    const leftHooks = [40, 120, 60, 125];
    const honest = simulate(bytes(leftHooks), shifted);
    expect(honest.ok).toBe(false);
    expect(honest.report.errorName).toBe('soft-limit');
    expect(honest.violationCounts.travel).toBeUndefined();
    const r = simulate(bytes(leftHooks), shifted, { faults: { ignoreSoftLimits: true } });
    expect(r.ok).toBe(false);
    expect(r.violationCounts.travel).toBeGreaterThan(0);
    expect(r.violations.find((v) => v.kind === 'travel')!.axis).toBe('x');
  });

  it('moves faster than the profile allows → overspeed', () => {
    const r = simulate(stream, m, { faults: { speedFactor: 1.5 } });
    expect(r.ok).toBe(false);
    expect(r.violationCounts.overspeed).toBeGreaterThan(0);
  });

  it('lost steps → the hooks actually wrapped differ, or the runtime alarms', () => {
    const r = simulate(bytes(samplePath(6, 60)), m, { plantFaults: { loseStepEvery: 400, loseStepAxis: 'y' } });
    expect(r.ok).toBe(false);
    expect(r.firstMismatch ?? r.alarm).not.toBeNull();
  });

  it('a truncated stream → incomplete', () => {
    const r = simulate(stream.subarray(0, stream.length - 6), m);
    expect(r.ok).toBe(false);
    expect(r.violationCounts.incomplete).toBe(1);
  });
});

describe('verifier on hand-made motion', () => {
  /** A verifier whose nozzle we move step by step (x, y in board mm are converted to machine steps). */
  function hand(startBoardMm: number[], zMm: number) {
    const pos = Float64Array.from([(startBoardMm[0] + m.board.originMm[0]) * 20, (startBoardMm[1] + m.board.originMm[1]) * 20, zMm * 400]);
    const v = new Verifier(m, pos);
    for (let a = 0; a < 3; a++) v.endstop(a, true, 0);
    let t = 0;
    const step = (axis: number, dir: number) => {
      pos[axis] += dir;
      t += 1000;
      v.step(axis, dir, t);
    };
    /** Straight line to (x, y) board mm in single steps (staircase). */
    const lineTo = (x: number, y: number) => {
      const tx = Math.round((x + m.board.originMm[0]) * 20);
      const ty = Math.round((y + m.board.originMm[1]) * 20);
      while (pos[0] !== tx || pos[1] !== ty) {
        const dx = tx - pos[0];
        const dy = ty - pos[1];
        if (Math.abs(dx) >= Math.abs(dy)) step(0, Math.sign(dx));
        else step(1, Math.sign(dy));
      }
    };
    const zTo = (mm: number) => {
      const tz = Math.round(mm * 400);
      while (pos[2] !== tz) step(2, Math.sign(tz - pos[2]));
    };
    return { v, lineTo, zTo, time: () => t };
  }

  const h = 40; // at the right-hand side of the circle
  const hx = hookXMm(m, h);
  const hy = hookYMm(m, h);
  const around = (turns: number, dir: number, r = 4, k = 64) => {
    const pts: number[][] = [];
    for (let i = 0; i <= Math.round(k * turns); i++) {
      const a = (dir * 2 * Math.PI * i) / k;
      pts.push([hx + r * Math.cos(a), hy + r * Math.sin(a)]);
    }
    return pts;
  };

  it('counts a full low turn as a wrap with its direction, and a 3/4 turn as none', () => {
    for (const [turns, dir, expected] of [[1, 1, [h]], [1, -1, [h]], [0.75, 1, []], [2, 1, [h]]] as const) {
      const r = hand([hx + 4, hy], 15);
      r.zTo(8);
      for (const [x, y] of around(turns, dir)) r.lineTo(x, y);
      r.zTo(15);
      expect(r.v.wraps.map((w) => w.hook)).toEqual(expected);
      if (expected.length) {
        expect(r.v.wraps[0].dir).toBe(dir);
        expect(r.v.wraps[0].turns).toBe(Math.floor(turns));
      }
      expect(r.v.violations).toEqual([]);
    }
  });

  it('a full turn at travel height wraps nothing', () => {
    const r = hand([hx + 4, hy], 15);
    for (const [x, y] of around(1, 1)) r.lineTo(x, y);
    expect(r.v.wraps).toEqual([]);
  });

  it('reports a collision when the nozzle goes through a hook while low', () => {
    const r = hand([hx - 5, hy], 15);
    r.zTo(8);
    r.lineTo(hx + 5, hy);
    expect(r.v.violations.map((x) => x.kind)).toEqual(['collision']);
    expect(r.v.violations[0].hook).toBe(h);
  });

  it('reports steps outside the travel and steps towards + before homing', () => {
    const pos = Float64Array.from([2, 100, 6000]);
    const v = new Verifier(m, pos);
    v.endstop(0, true, 0);
    pos[0] -= 3;
    v.step(0, -1, 10);
    pos[1] += 1;
    v.step(1, 1, 20);
    expect(v.violations.map((x) => [x.kind, x.axis])).toEqual([['travel', 'x'], ['step-before-homing', 'y']]);
  });
});
