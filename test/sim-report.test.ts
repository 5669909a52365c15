import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { encodeStream } from '../shared/stream/encoder';
import { simulate } from '../sim/simulate';
import { MotionSampler, gantryStartMm } from '../sim/report/sampler';
import { lineAt, renderReportHtml } from '../sim/report/render';
import { runCli, stderrLines, tempDir } from './helpers/cli';
import { refGantry, samplePath } from './helpers/rig';

/** Image descriptors (0x2C) in a GIF, walking its blocks (not a byte scan: pixel data may hold 0x2C). */
function gifFrames(b: Uint8Array): number {
  let p = 13;
  if (b[10] & 0x80) p += 3 * (1 << ((b[10] & 7) + 1));
  let frames = 0;
  for (;;) {
    const t = b[p++];
    if (t === 0x3b || t === undefined) return frames;
    if (t === 0x21) {
      p++;
      while (b[p] !== 0) p += b[p] + 1;
      p++;
    } else if (t === 0x2c) {
      frames++;
      const flags = b[p + 8];
      p += 9;
      if (flags & 0x80) p += 3 * (1 << ((flags & 7) + 1));
      p++; // LZW minimum code size
      while (b[p] !== 0) p += b[p] + 1;
      p++;
    } else throw new Error(`bad GIF block 0x${t.toString(16)} at ${p - 1}`);
  }
}

describe('hookline sim outputs: motion.svg, report.html, build.gif', () => {
  it('writes them next to report.json; the path lies on the board, the page has the verdict and violation table', async () => {
    const dir = tempDir();
    const stream = join(dir, 'p.hls');
    writeFileSync(stream, Uint8Array.from(encodeStream(samplePath(3, 40), 160, [0x101010])));
    const out = join(dir, 'sim');
    const r = runCli(['sim', stream, '--machine', 'machines/ref-gantry.json', '-o', out, '--width', '256']);
    expect(stderrLines(r.stderr)).toEqual([]); // progress lines aside
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/report\.html, strung\.png, motion\.svg, build\.gif\n$/);

    const svg = readFileSync(join(out, 'motion.svg'), 'utf8');
    // librsvg (through sharp) parses it as XML/SVG: malformed markup throws.
    const meta = await sharp(Buffer.from(svg)).metadata();
    expect(meta.format).toBe('svg');
    const low = /<path d="([^"]*)"[^>]*data-state="low"/.exec(svg)![1];
    expect(low).toMatch(/^M[\d.]+ [\d.]+L/);
    const nums = low.match(/-?\d+(\.\d+)?/g)!.map(Number);
    expect(nums.length).toBeGreaterThan(200);
    expect(nums.length / 2).toBeLessThanOrEqual(50_000);
    for (const v of nums) {
      expect(v).toBeGreaterThanOrEqual(-5);
      expect(v).toBeLessThanOrEqual(605); // ref-gantry's board is 600 mm square
    }
    expect(svg.match(/<circle /g)).toHaveLength(160);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<b class="ok" id="verdict">OK</b>');
    expect(html).toContain('planned 41, wrapped 41');
    expect(html).toMatch(/<table id="violations">.*no violations/s);
    expect(html).toMatch(/<polyline [^>]*points="[\d., ]+"/);
    expect(html).toContain('src="motion.svg"');

    const gif = readFileSync(join(out, 'build.gif'));
    expect(gif.subarray(0, 6).toString()).toBe('GIF89a');
    const frames = gifFrames(gif);
    expect(frames).toBeGreaterThan(1);
    expect(frames).toBeLessThanOrEqual(60);
  });

  it('lists each violation with its kind, time and line', () => {
    const m = refGantry();
    const stream = Uint8Array.from(encodeStream(samplePath(5, 12), m.hooks.count, [0x101010]));
    const startMm = gantryStartMm(m);
    const sampler = new MotionSampler(m, startMm);
    const r = simulate(stream, m, { faults: { speedFactor: 1.5 }, startMm, onEdge: sampler, skipEstimates: true });
    const samples = sampler.finish(r.machineSeconds * 1e6);
    expect(r.ok).toBe(false);
    expect(r.violations.length).toBeGreaterThan(0);
    const html = renderReportHtml({ r, machine: m, streamPath: 'p.hls', plannedPng: null, plannedLabel: '', samples });
    expect(html).toContain('<b class="bad" id="verdict">FAILED</b>');
    const v = r.violations[0];
    const table = html.slice(html.indexOf('<table id="violations">'));
    expect(table).toContain(`<td>${v.kind}</td>`);
    expect(table).toContain(`<td>${lineAt(r.wraps, v.timeUs)}</td>`);
    // The sampled speed envelope sees the over-speed too.
    expect(Math.max(...samples.speed[0], ...samples.speed[1])).toBeGreaterThan(m.axes.x.maxSpeedMmS);
  });
});
