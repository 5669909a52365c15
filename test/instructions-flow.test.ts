import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../host/instructions/html';
import { buildInstructions } from '../host/instructions/model';
import { renderPdf } from '../host/instructions/pdf';
import type { Plan } from '../host/plan/types';
import { runCli, tempDir } from './helpers/cli';

/** Text drawn on each page of an uncompressed pdfkit PDF (hex strings in TJ arrays), page by page. */
function pageTexts(pdf: Buffer): string[] {
  const s = pdf.toString('latin1');
  return Array.from(s.matchAll(/stream\n([\s\S]*?)\nendstream/g), (m) =>
    Array.from(m[1].matchAll(/\[([^\]]*)\] TJ/g), (tj) => Array.from(tj[1].matchAll(/<([0-9a-f]*)>/g), (h) => Buffer.from(h[1], 'hex').toString('latin1')).join('')).join('\n'),
  ).filter((t) => t.length > 0);
}

describe('instructions: rows flow across colour changes', () => {
  let plan: Plan;
  beforeAll(() => {
    const dir = tempDir('hookline-flow-');
    const r = runCli(['plan', 'examples/coffee.png', '-o', dir, '--colors', '3', '--lines', '600', '--groups', '4', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
  });

  it('the PDF does not start a page at every colour change; a continued page names its colour', async () => {
    const ins = buildInstructions(plan, 'plan.json');
    const runs = ins.items.filter((i) => i.kind === 'change').length;
    expect(runs).toBeGreaterThanOrEqual(8);
    const pdf = await renderPdf(ins, { compress: false });
    const pages = (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
    // 600 lines are 60+ rows (~28 a page) plus banners and markers: a handful of pages, not one per run.
    expect(pages).toBeLessThan(runs);
    const texts = pageTexts(pdf);
    // Some page holds more than one colour banner (changes are marked in place).
    expect(texts.some((t) => (t.match(/colour change: tie off/g) ?? []).length >= 2)).toBe(true);
    // A page that begins inside a colour run says which colour it continues.
    expect(texts.some((t) => /^Hook sequence, continued: colour \d of 3 \(#[0-9a-f]{6}\)/.test(t))).toBe(true);
  });

  it('the HTML breaks the page only before the sequence; each run\'s rows carry its colour', () => {
    const html = renderHtml(buildInstructions(plan, 'plan.json'));
    expect(html).not.toMatch(/\.run\{break-before/);
    const bars = Array.from(html.matchAll(/<col class="l" style="border-left:3mm solid (#[0-9a-f]{6})">/g), (m) => m[1]);
    expect(new Set(bars)).toEqual(new Set(plan.colors.map((c) => c.toLowerCase())));
  });
});
