import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { colourLabel, flankLabel, hookLabel, pathPlace } from '../host/numbering';
import { runCli, tempDir } from './helpers/cli';

describe('one numbering for people', () => {
  it('hooks 0..N-1, c / a for the winding, lines and colours from 1', () => {
    expect([hookLabel(12), hookLabel(12, 1), hookLabel(12, -1), hookLabel(0, null)]).toEqual(['12', '12c', '12a', '0']);
    expect([flankLabel(0), flankLabel(1), flankLabel(318), flankLabel(319)]).toEqual(['0c', '0a', '159c', '159a']);
    expect(colourLabel(1, 3)).toBe('colour 2 of 3');
    expect([pathPlace(0), pathPlace(7)]).toEqual(['the start hook', 'line 7']);
  });

  describe('decode, gcode and the instructions print the same hooks (a flanked plan of 160 hooks)', () => {
    const dir = tempDir('hookline-numbering-');
    beforeAll(() => {
      expect(runCli(['plan', 'examples/coffee.png', '-o', dir, '--lines', '60', '--quiet']).code).toBe(0);
      expect(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls')]).code).toBe(0);
      expect(runCli(['instructions', join(dir, 'plan.json'), '-o', join(dir, 'ins')]).code).toBe(0);
    });

    it('decode: one hook per line as 0..159 plus c / a; --json keeps the flank indices', () => {
      const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
      expect(plan.flanks).toBe(2);
      const lines = runCli(['decode', join(dir, 'plan.hls')]).stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(61);
      for (const l of lines) {
        expect(l).toMatch(/^\d+[ca]$/);
        expect(parseInt(l, 10)).toBeLessThan(160);
      }
      // The instructions' rows (line 1 onwards) are the same labels.
      const html = readFileSync(join(dir, 'ins', 'instructions.html'), 'utf8');
      const rows = Array.from(html.matchAll(/<tr><th>\d+<\/th><td>([\dac<td>]+)<\/tr>/g), (m) => m[1].split('<td>')).flat();
      expect(rows).toEqual(lines.slice(1));
      expect(html).toContain(`at hook ${parseInt(lines[0], 10)}</span>`);
      const json = JSON.parse(runCli(['decode', join(dir, 'plan.hls'), '--json']).stdout);
      expect(json.ops.map((o: { hook: number }) => flankLabel(o.hook))).toEqual(lines);
      expect(Math.max(...json.ops.map((o: { hook: number }) => o.hook))).toBeGreaterThanOrEqual(160); // machine format: flanks 0..319
    });

    it('gcode comments: the same labels, the start hook and lines counted from 1', () => {
      const decoded = runCli(['decode', join(dir, 'plan.hls')]).stdout.trimEnd().split('\n');
      const g = runCli(['gcode', join(dir, 'plan.json'), '--machine', 'machines/ref-gantry.json']).stdout;
      const comments = Array.from(g.matchAll(/^; hook (\d+[ca]) \((start|line (\d+) of 60)\), G[23]$/gm));
      expect(comments.map((m) => m[1])).toEqual(decoded);
      expect(comments.map((m) => (m[3] === undefined ? 0 : Number(m[3])))).toEqual(decoded.map((_, i) => i));
    });
  });
});
