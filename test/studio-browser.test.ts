import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { flankLabel } from '../host/numbering';
import { validatePlan } from '../host/plan/load';
import { repoRoot, runCli, tempDir } from './helpers/cli';
import { startStudio, type RunningStudio } from './studio-helpers';

// The studio page end to end in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser). Screenshots go to test-artifacts/studio/ (gitignored) for a person to look at.
const CHROMIUM = '/usr/bin/chromium';
// The functions passed to page.evaluate run in the page; this file is type-checked without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, DataTransfer: any, DragEvent: any;
const shots = join(repoRoot, 'test-artifacts/studio');
const have = existsSync(CHROMIUM);
// Without it the test is skipped; test/global-setup.ts says so in one line.

/**
 * The thread canvas: its ink (Σ 255 − red over painted pixels), a checksum of its pixels ("the
 * picture changed") and the line count the page shows, read together.
 */
function canvasStats(page: Page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid=thread]');
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) ink += 255 - d[i];
      sum = (sum * 31 + d[i]) >>> 0;
    }
    return { ink, sum, lines: Number(document.querySelector('[data-testid=lines]')?.textContent) };
  });
}

const text = (page: Page, id: string) => page.locator(`[data-testid=${id}]`).textContent();
const job = (page: Page) => page.locator('[data-testid=numbers]').getAttribute('data-job');
/** Wait for a plan other than `before` to be complete with `lines` lines. */
const waitDone = (page: Page, lines: number, before: string | null = null) => page.waitForFunction(([n, old]) => {
  const numbers = document.querySelector('[data-testid=numbers]');
  return numbers.dataset.done === '1' && numbers.dataset.job !== old && document.querySelector('[data-testid=lines]')?.textContent === String(n);
}, [lines, before] as const, { timeout: 120_000 });
/** Move a control and wait for the new plan to be complete. */
async function change(page: Page, flag: string, value: string, lines: number) {
  const before = await job(page);
  await page.locator(`[data-flag=${flag}]`).fill(value);
  await waitDone(page, lines, before);
}

describe.skipIf(!have)('hookline studio in headless Chromium', () => {
  let studio: RunningStudio;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    studio = await startStudio();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    expect(await studio?.stop()).toBe(0);
  });

  it('a photo in, the picture forms, a slider re-plans, plan.json downloads, manual stringing steps and resumes', async () => {
    await page.goto(studio.url);
    await expect.poll(() => page.locator('[data-testid=machine] option').count()).toBeGreaterThan(3);
    const blank = await canvasStats(page);
    await page.screenshot({ path: join(shots, '1-empty.png') });

    // Not a picture: a message in the page.
    const dir = tempDir();
    writeFileSync(join(dir, 'photo.jpg'), 'this is a text file renamed photo.jpg\n');
    await page.setInputFiles('[data-testid=file]', join(dir, 'photo.jpg'));
    await expect.poll(() => text(page, 'upload-error')).toMatch(/^photo\.jpg: this file is not a picture/);
    await page.screenshot({ path: join(shots, '2-not-a-picture.png') });

    // The photo, dropped on the page: lines are drawn while the plan forms, then the whole plan with its numbers.
    await page.evaluate(async (b64: string) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'coffee.png', { type: 'image/png' }));
      document.querySelector('.app').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, readFileSync(join(repoRoot, 'examples/coffee.png')).toString('base64'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=lines]')?.textContent) > 0, null, { timeout: 60_000 });
    const forming = await canvasStats(page);
    expect(blank.ink).toBe(0);
    expect(forming.ink).toBeGreaterThan(0);
    expect(forming.lines).toBeLessThan(3000); // the picture is shown while it forms
    await waitDone(page, 3000);
    await expect.poll(() => text(page, 'rmse'), { timeout: 60_000 }).toMatch(/^0\.\d{3}$/);
    expect(await text(page, 'metres')).toMatch(/^1\d{3}\.\d m$/);
    expect(await page.locator('[data-testid=planner-view]').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const full = await canvasStats(page);
    expect(full.ink).toBeGreaterThan(forming.ink);
    expect(await page.locator('[data-testid=upload-error]').count()).toBe(0); // the good photo cleared the message
    await page.screenshot({ path: join(shots, '3-planned.png') });

    // A slider: fewer lines, a lighter picture; the page's own clock gives change → first lines → complete.
    await change(page, 'lines', '1000', 1000);
    const fewer = await canvasStats(page);
    expect(fewer.ink).toBeLessThan(full.ink);
    await change(page, 'contrast', '2', 1000);
    const contrast = await canvasStats(page);
    expect(contrast.sum).not.toBe(fewer.sum);
    // The importance brush: a stroke across the cup re-plans with the painted mask.
    await page.selectOption('[data-testid=brush-mode]', 'more');
    const box = (await page.locator('[data-testid=brush]').boundingBox())!;
    const beforeBrush = await job(page);
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.35, { steps: 8 });
    await page.mouse.up();
    await waitDone(page, 1000, beforeBrush);
    const brushed = await canvasStats(page);
    expect(brushed.sum).not.toBe(contrast.sum);
    await page.screenshot({ path: join(shots, '4-brush.png') });
    await page.selectOption('[data-testid=brush-mode]', 'off');
    await change(page, 'lines', '3000', 3000);
    console.log(`studio in Chromium: slider change → first lines ${await text(page, 'first-ms')}, → 3000 lines complete ${await text(page, 'done-ms')}`);
    await change(page, 'lines', '1000', 1000);
    await page.screenshot({ path: join(shots, '4-slider-after.png') });

    // plan.json through the browser's download, read with the CLI's schema.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=dl-plan]')]);
    expect(dl.suggestedFilename()).toBe('plan.json');
    const saved = join(dir, 'plan.json');
    await dl.saveAs(saved);
    const plan = validatePlan(JSON.parse(readFileSync(saved, 'utf8')), saved);
    expect(plan.lines.length).toBe(1000);
    expect(plan.planner?.contrast).toBe(2);
    expect(typeof plan.planner?.importance).toBe('string'); // the brush's mask (the server's copy)

    // G-code for the reference gantry, as hookline gcode writes it for the downloaded plan.
    await page.selectOption('.gcode select', 'marlin');
    const [gdl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=dl-gcode]')]);
    expect(gdl.suggestedFilename()).toBe('plan-marlin.gcode');
    await gdl.saveAs(join(dir, 'plan.gcode'));
    const gcode = readFileSync(join(dir, 'plan.gcode'), 'utf8');
    expect(gcode.startsWith('; hookline gcode (marlin) for machine ref-gantry\n')).toBe(true);
    const viaCli = runCli(['gcode', saved, '--machine', 'machines/ref-gantry.json', '--dialect', 'marlin']);
    expect(viaCli.stdout.split('\n').slice(2).join('\n')).toBe(gcode.split('\n').slice(2).join('\n'));

    // The build on the simulated machine: progress, then the verdict and the strung picture.
    await page.click('[data-testid=sim-run]');
    await expect.poll(() => text(page, 'sim-verdict'), { timeout: 120_000 }).toBe('OK: wrapped 1001 of 1001 hooks, no violations');
    expect(await text(page, 'sim-time')).toMatch(/^\d+ (h|min) \d+ (min|s)$/);
    expect(await page.locator('[data-testid=sim-strung]').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await page.screenshot({ path: join(shots, '5-simulated.png'), fullPage: true });

    // Manual stringing: the next hook is the plan's; keys step; a reload resumes at the same line.
    await page.click('[data-testid=manual-open]');
    expect(await text(page, 'next-hook')).toBe(flankLabel(plan.lines[0][2]));
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowLeft');
    expect(await text(page, 'manual-count')).toMatch(/^2 of 1000 lines strung/);
    expect(await text(page, 'next-hook')).toBe(flankLabel(plan.lines[2][2]));
    await page.screenshot({ path: join(shots, '6-manual.png') });
    await page.reload();
    expect(await text(page, 'manual-count')).toMatch(/^2 of 1000 lines strung/);
    expect(await text(page, 'next-hook')).toBe(flankLabel(plan.lines[2][2]));
    const board = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=manual-board]');
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90) red++;
      return red;
    });
    expect(board).toBeGreaterThan(100); // the line to string now, in red
    // Spoken hook numbers (the browser's speech synthesis, recorded here instead of played).
    await page.evaluate(() => {
      const w = globalThis as unknown as { said: string[]; speechSynthesis: { speak: (u: { text: string }) => void } };
      w.said = [];
      w.speechSynthesis.speak = (u) => w.said.push(u.text);
    });
    await page.check('[data-testid=speak]');
    await page.keyboard.press('Space');
    const spoken = (nail: number) => flankLabel(nail).replace(/^(\d+)c$/, '$1, clockwise').replace(/^(\d+)a$/, '$1, anticlockwise');
    // Said after the page has drawn the new place (an effect): poll.
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { said: string[] }).said)).toEqual([spoken(plan.lines[2][2]), spoken(plan.lines[3][2])]);
    await page.reload();
    expect(await page.isChecked('[data-testid=speak]')).toBe(true);
    await page.keyboard.press('Escape');

    // A colour picture (the reloaded page kept the photo and the options: test/studio-photo.test.ts):
    // three colours picked from the photo, 4500 lines in all, drawn in them.
    await page.selectOption('[data-testid=mode]', 'colour');
    await page.locator('[data-flag=lines]').fill('4500');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await waitDone(page, 4500);
    const colours = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=thread]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let tinted = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) tinted++;
      return tinted;
    });
    expect(colours).toBeGreaterThan(1000);
    await page.screenshot({ path: join(shots, '7-colour.png') });

    // The server stops while the page is open: a change gets a message in the page. Started again
    // on the same port, the next change sends the photo again (the new server does not have it) and plans.
    const port = new URL(studio.url).port;
    expect(await studio.stop()).toBe(0);
    await page.locator('[data-flag=lines]').fill('1000');
    await expect.poll(() => text(page, 'plan-error')).toMatch(/^the studio server does not answer \(stopped\?\); start it again with hookline studio$/);
    await page.screenshot({ path: join(shots, '8-server-stopped.png') });
    studio = await startStudio(['--port', port]);
    const stale = await job(page);
    await page.locator('[data-flag=lines]').fill('1100');
    await waitDone(page, 1100, stale);
    expect(await page.locator('[data-testid=plan-error]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
