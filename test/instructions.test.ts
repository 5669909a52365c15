import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { planPath, type Plan } from '../host/plan/types';
import { runCli, stderrLines, tempDir } from './helpers/cli';

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(stderrLines(r.stderr)).toHaveLength(1); // progress lines aside (a write error comes after the work)
  expect(r.stderr).toMatch(pattern);
}

/** The hook sequence back out of the HTML: every table row's cells after the line-number header. */
function parseSequence(html: string): { first: number; hooks: string[] }[] {
  const rows: { first: number; hooks: string[] }[] = [];
  for (const m of html.matchAll(/<tr><th>(\d+)<\/th><td>([\dac<td>]+)<\/tr>/g)) {
    rows.push({ first: Number(m[1]), hooks: m[2].split('<td>') });
  }
  return rows;
}

/** How the page names the path's entries: the hook, and for flanked plans its winding (c / a). */
function labels(plan: Plan): string[] {
  return planPath(plan).map((v) => (plan.flanks === 2 ? `${v >> 1}${v % 2 === 0 ? 'c' : 'a'}` : String(v)));
}

/** All text drawn in a PDF: inflate each content stream, decode pdfkit's hex strings in TJ arrays. */
function pdfText(pdf: Buffer): string {
  const s = pdf.toString('latin1');
  const out: string[] = [];
  for (const m of s.matchAll(/stream\n([\s\S]*?)\nendstream/g)) {
    let body = Buffer.from(m[1], 'latin1');
    try { body = inflateSync(body); } catch { /* not compressed */ }
    for (const tj of body.toString('latin1').matchAll(/\[([^\]]*)\] TJ/g)) {
      out.push(Array.from(tj[1].matchAll(/<([0-9a-f]*)>/g), (h) => Buffer.from(h[1], 'hex').toString('latin1')).join(''));
    }
  }
  return out.join('\n');
}

function check(dir: string, plan: Plan) {
  const html = readFileSync(join(dir, 'instructions.html'), 'utf8');
  const pdf = readFileSync(join(dir, 'instructions.pdf'));
  const path = labels(plan);
  const hookOf = (v: number) => (plan.flanks === 2 ? v >> 1 : v);
  // Every hook of the path, in order, with rows numbered by their first line.
  const rows = parseSequence(html);
  expect(rows.flatMap((r) => r.hooks)).toEqual(path.slice(1));
  let line = 1;
  for (const r of rows) { expect(r.first).toBe(line); line += r.hooks.length; }
  expect(html).toMatch(/Start: tie on colour \d+ \(#[0-9a-f]{6}\) at hook (\d+)/);
  expect(html).toContain(`at hook ${hookOf(planPath(plan)[0])}</span>`);
  expect(html).toContain('Hook numbers are 0-based');
  // Print CSS.
  expect(html).toMatch(/@page\{size:A4;margin:[^}]+\}/);
  // Markers at 100 and 200 only (250 lines).
  expect(Array.from(html.matchAll(/data-done="(\d+)"/g), (m) => Number(m[1]))).toEqual([100, 200]);
  // PDF: header, trailer, pages, the hook numbers.
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
  expect((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThanOrEqual(2);
  const text = pdfText(pdf);
  expect(text).toContain('Hook sequence');
  const drawnHooks = text.split('\n').filter((t) => /^\d+[ac]?$/.test(t));
  // Row labels are numbers too: the hooks appear as a subsequence of the numbers drawn.
  let k = 1;
  for (const n of drawnHooks) if (k < path.length && n === path[k]) k++;
  expect(k).toBe(path.length);
  return { html, text };
}

describe('hookline instructions', () => {
  const dir = tempDir('hookline-instr-');
  const mono = join(dir, 'mono');
  const col = join(dir, 'col');

  beforeAll(() => {
    for (const [out, extra] of [[mono, ['--lines', '250']], [col, ['--palette', '#000000,#d0803c', '--lines-per-color', '150,100', '--groups', '2']]] as const) {
      const r = runCli(['plan', 'examples/coffee.png', '-o', out, '--quiet', ...extra]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('one colour: the whole path, markers, A4 CSS, a PDF with the hooks', () => {
    const r = runCli(['instructions', join(mono, 'plan.json'), '-o', join(mono, 'ins')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*instructions\.html .* and .*instructions\.pdf .*: 250 lines, [\d.]+ m of thread\n$/);
    const plan = JSON.parse(readFileSync(join(mono, 'plan.json'), 'utf8')) as Plan;
    const { html } = check(join(mono, 'ins'), plan);
    expect(html.match(/class="chg/g)).toHaveLength(1);
    // Thread length: centre-to-centre sum.
    const mm = plan.lines.reduce((s, [, a, b]) => s + Math.hypot(plan.nails[a][0] - plan.nails[b][0], plan.nails[a][1] - plan.nails[b][1]), 0);
    expect(html).toContain(`<td>${(mm / 1000).toFixed(1)} m</td>`);
    expect(readdirSync(join(mono, 'ins')).sort()).toEqual(['instructions.html', 'instructions.pdf']);
  });

  it('colour plan: a banner with swatch and hook at each colour change', () => {
    const r = runCli(['instructions', join(col, 'plan.json'), '-o', join(col, 'ins')]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(join(col, 'plan.json'), 'utf8')) as Plan;
    const { html, text } = check(join(col, 'ins'), plan);
    const banners = Array.from(html.matchAll(/<div class="chg[^"]*" data-line="(\d+)" data-hook="(\d+)" data-color="(#[0-9a-f]{6})"><span class="sw" style="background:(#[0-9a-f]{6})"><\/span><span>([^<]*)<\/span>/g));
    // The page names hooks; a flanked plan's colour changes name nails (flanks) of them.
    const changes = plan.colorChanges!.map((c) => ({ ...c, hook: plan.flanks === 2 ? c.hook >> 1 : c.hook }));
    expect(plan.flanks).toBe(2);
    expect(changes.length).toBeGreaterThan(1);
    expect(banners.map((b) => [Number(b[1]) - 1, Number(b[2]), b[3]])).toEqual(changes.map((c) => [c.line, c.hook, plan.colors[c.color]]));
    for (const [i, b] of banners.entries()) {
      expect(b[4]).toBe(b[3]);
      const c = changes[i];
      if (i > 0) {
        expect(b[5]).toBe(`Line ${c.line + 1}: colour change: tie off at hook ${c.hook}, tie on colour ${c.color + 1} (${plan.colors[c.color]}) at hook ${c.hook}`);
        expect(text).toContain(`Line ${c.line + 1}: colour change`);
      }
      // The banner comes right before the row starting at that line.
      const after = html.slice(b.index! + b[0].length);
      expect(after).toMatch(new RegExp(`^\\s*</div>\\s*<table class="seq"><colgroup>.*?</colgroup>\\s*<tr><th>${c.line + 1}</th>`));
    }
    // Thread per colour.
    for (const [i, hex] of plan.colors.entries()) expect(html).toContain(`<td>${i + 1}: ${hex}</td><td>${plan.lines.filter((l) => l[0] === i).length}</td>`);
  });

  it('bad input: one line, exit 2, nothing written', () => {
    const out = join(dir, 'bad');
    expectOneLineError(runCli(['instructions', join(dir, 'nope.json'), '-o', out]), /cannot read plan .*no such file/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format":"hookline-plan"');
    expectOneLineError(runCli(['instructions', broken, '-o', out]), /not valid JSON/);
    const wrong = join(dir, 'wrong.json');
    const plan = JSON.parse(readFileSync(join(mono, 'plan.json'), 'utf8')) as Plan;
    plan.lines[3][1] = (plan.lines[3][1] + 1) % plan.nails.length;
    writeFileSync(wrong, JSON.stringify(plan));
    expectOneLineError(runCli(['instructions', wrong, '-o', out]), /continuous/);
    expectOneLineError(runCli(['instructions', join(mono, 'plan.json')]), /missing -o DIR/);
    expect(existsSync(out)).toBe(false);
    // -o under a regular file, and a read-only directory.
    expectOneLineError(runCli(['instructions', join(mono, 'plan.json'), '-o', join(mono, 'plan.json', 'x')]), /cannot create output directory/);
    const ro = join(dir, 'ro');
    runCli(['instructions', join(mono, 'plan.json'), '-o', ro]);
    chmodSync(ro, 0o500);
    if (process.getuid?.() !== 0) {
      expectOneLineError(runCli(['instructions', join(mono, 'plan.json'), '-o', ro]), /cannot write .*permission denied/);
    }
    chmodSync(ro, 0o700);
  });
});
