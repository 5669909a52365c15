import { describe, expect, it } from 'vitest';
import { checkCustomLayout } from '../host/plan/layout';
import { createProgress } from '../host/progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { out, stream };
}

describe('progress bar', () => {
  it('not a TTY: a plain line per 10 % step, after the delay only', () => {
    const { out, stream } = sink(false);
    let t = 0;
    const p = createProgress({ label: 'plan', stream, now: () => t, delayMs: 1000 });
    p.update(0.3);
    expect(out).toEqual([]); // still inside the delay
    t = 1500;
    for (const f of [0.3, 0.31, 0.5, 1]) p.update(f);
    p.done();
    expect(out).toEqual(['plan: 30% ETA 0:04\n', 'plan: 50% ETA 0:02\n', 'plan: 100%\n']);
  });

  it('TTY: one line redrawn in place and cleared at the end', () => {
    const { out, stream } = sink(true);
    let t = 0;
    const p = createProgress({ label: 'plan', stream, now: () => t, delayMs: 0 });
    p.update(0.5);
    t = 50;
    p.update(0.6); // too soon after the last draw
    t = 200;
    p.update(1);
    p.done();
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\rplan \[#{15}-{15}\]  50%$/);
    expect(out[1]).toMatch(/^\rplan \[#{30}\] 100%$/);
    expect(out[2]).toBe('\r\x1b[K');
  });

  it('quiet: silent', () => {
    const { out, stream } = sink(false);
    const p = createProgress({ label: 'plan', stream, quiet: true, delayMs: 0 });
    p.update(0.5);
    p.done();
    expect(out).toEqual([]);
  });
});

describe('custom layouts (hooks.json)', () => {
  const board = { widthMm: 100, heightMm: 100, frame: 'circle' as const };
  it('accepts hooks inside the frame, the board from the file when given', () => {
    expect(checkCustomLayout({ hooks: [[50, 0], [100, 50], [50, 100]] }, board)).toEqual({ board, nails: [[50, 0], [100, 50], [50, 100]] });
    const rect = { widthMm: 200, heightMm: 50, frame: 'rect' as const };
    expect(checkCustomLayout({ board: rect, hooks: [[0, 0], [200, 50], [10, 40]] }, board).board).toEqual(rect);
  });

  it('refuses bad files with one-line reasons', () => {
    const bad: [unknown, RegExp][] = [
      [[1, 2], /expected an object/],
      [{ hooks: 'x' }, /hooks must be an array/],
      [{ hooks: [[50, 0], [100, 50]] }, /has 2 hooks; give 3 to 2000/],
      [{ hooks: [[50, 0], [100, 50], [50]] }, /hooks\[2\] must be \[x, y\]/],
      [{ hooks: [[50, 0], [100, 50], [5, 5]] }, /hooks\[2\] \[5, 5\] is outside the 100×100 mm circle board/],
      [{ hooks: [[50, 0], [100, 50], [50.001, 0.004]] }, /hooks\[2\] is at the same place as hooks\[0\]/],
      [{ board: { widthMm: -1, heightMm: 5, frame: 'rect' }, hooks: [] }, /board must be/],
      [{ hooks: Array.from({ length: 2001 }, (_, i) => [i / 100, 0]) }, /has 2001 hooks/],
    ];
    for (const [json, msg] of bad) {
      expect(() => checkCustomLayout(json, board)).toThrow(msg);
      try {
        checkCustomLayout(json, board);
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });
});
