import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { validateGantry } from '../host/machine/load';
import { repoRoot, tempDir } from './helpers/cli';
import { fakeMarlinOnPort, type FakeMarlin } from './helpers/fake-marlin';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';
import { startStudio, type RunningStudio } from './studio-helpers';

// The studio's Marlin target in headless Chromium, against test/helpers/fake-marlin.ts (Marlin 2.1's
// serial protocol, the imitation test/marlin-run.test.ts uses: ../shared/realchips has no Marlin
// build) behind a socat pty offered by HOOKLINE_STUDIO_SERIAL: connect, the plan's first 5 lines with
// a pause (no line sent while paused) and a resume to done; a two-colour plan's thread changes asked
// and confirmed in the page. Screenshot machine-marlin-*.png.
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
const shots = join(repoRoot, 'test-artifacts/studio');
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : !hasSocat() ? 'socat is missing' : null;
if (why) console.warn(`note: ${why}: the studio's Marlin test is skipped`);
process.env.HOOKLINE_STUDIO_STATE = tempDir('hookline-studio-marlin-');

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const machine = validateGantry(JSON.parse(readFileSync(machinePath, 'utf8')), machinePath);
const text = (page: Page, id: string) => page.locator(`[data-testid=${id}]`).textContent();
const phase = (page: Page) => page.locator('[data-testid=machine-panel]').getAttribute('data-phase');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== null)('studio: the Marlin target (fake Marlin 2.1 on a pty), in headless Chromium', () => {
  let pty: PtyPair;
  let marlin: { marlin: FakeMarlin; close(): Promise<void> };
  let studio: RunningStudio;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    pty = await ptyPair();
    marlin = await fakeMarlinOnPort(pty.b, machine, { settings: 'profile', emergencyParser: true, speed: 50 });
    process.env.HOOKLINE_STUDIO_SERIAL = pty.a;
    studio = await startStudio();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1300 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
    await marlin?.close();
    pty?.close();
  });

  it('connect, 5 lines with a pause (nothing sent while paused) and a resume, to done', async () => {
    await page.goto(studio.url);
    await page.locator('[data-flag=lines]').fill('100');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await page.waitForFunction(() => document.querySelector('[data-testid=numbers]')?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === '100'
      // and scored: the score's seconds of CPU are over before the controller's 5 s identify starts
      && /^\d/.test(document.querySelector('[data-testid=rmse]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.selectOption('[data-testid=machine-target]', 'marlin');
    await page.selectOption('[data-testid=machine-port]', pty.a);
    await page.selectOption('[data-testid=machine-profile]', 'ref-gantry');
    await page.click('[data-testid=machine-connect]');
    await expect.poll(() => text(page, 'machine-message'), { timeout: 30_000 }).toMatch(/^connected to .* \(Marlin \S+ at 115200 baud\); Home and Run open the port again/);
    await page.fill('[data-testid=machine-first-lines]', '5');
    await page.click('[data-testid=machine-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'running' && Number(document.querySelector('[data-testid=machine-runview]')?.dataset.line) >= 1, null, { timeout: 60_000 });
    await page.click('[data-testid=machine-pause]');
    // Marlin: paused at once (no more lines are sent; what it has planned finishes).
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'paused', null, { timeout: 10_000 });
    await sleep(1500); // what Marlin had queued before the pause is answered
    const sent = marlin.marlin.commands.length;
    await sleep(1500);
    expect(marlin.marlin.commands.length).toBe(sent);
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-marlin-1-paused.png') });
    await page.click('[data-testid=machine-resume]');
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'done', null, { timeout: 120_000 });
    expect(await text(page, 'machine-message')).toMatch(/^done: run OK: 5 lines done on Marlin; job [\d.]+ s after homing, \d+ G-code lines, 0 resent$/);
    expect(marlin.marlin.commands.length).toBeGreaterThan(sent);
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-marlin-2-done.png') });
  });

  it('a two-colour plan: each M0 thread change is asked in the page and continues when confirmed', async () => {
    await page.selectOption('[data-testid=mode]', 'colour');
    await page.locator('[data-flag=colors]').fill('2');
    await page.locator('[data-flag=groups]').fill('1');
    await page.locator('[data-flag=lines]').fill('100');
    await page.waitForFunction(() => document.querySelector('[data-testid=numbers]')?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === '100' && document.querySelectorAll('[data-testid=machine-panel]').length === 1, null, { timeout: 60_000 });
    await page.fill('[data-testid=machine-first-lines]', '');
    await page.click('[data-testid=machine-run]');
    // The new run (the last one's view says done until the new one shows).
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-runview]')?.dataset.count === '100' && document.querySelector('[data-testid=machine-panel]')?.dataset.phase !== 'done', null, { timeout: 30_000 });
    const prompts: string[] = [];
    const deadline = Date.now() + 240_000; // a limit for a hang
    while ((await phase(page)) !== 'done') {
      if ((await phase(page)) === 'colour') {
        prompts.push((await text(page, 'machine-colour'))!);
        if (prompts.length === 1) await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-marlin-3-colour.png') });
        const sent = marlin.marlin.commands.length;
        await sleep(1000);
        expect(marlin.marlin.commands.length, 'nothing is sent while the thread change waits').toBe(sent);
        await page.click('[data-testid=machine-colour-done]');
        await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase !== 'colour', null, { timeout: 60_000 });
      }
      if (Date.now() > deadline) throw new Error(`the run did not finish: phase ${await phase(page)}, ${await text(page, 'machine-message')}`);
      await sleep(100);
    }
    expect(await text(page, 'machine-message')).toMatch(/^done: run OK: 100 lines done on Marlin; /);
    expect(prompts.length).toBeGreaterThanOrEqual(1);
    for (const p of prompts) expect(p).toMatch(/^Thread colour [12] of 2, #[0-9a-f]{6}: tie it on, then continue\.Thread changed: continue$/);
  });

  it('the studio stopped mid-run: it stops the controller (as Ctrl-C twice) and exits; restarted, Resume continues at the CLI\'s resume point', async () => {
    await page.selectOption('[data-testid=mode]', 'mono');
    await page.locator('[data-flag=lines]').fill('100');
    await page.waitForFunction(() => document.querySelector('[data-testid=numbers]')?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === '100', null, { timeout: 60_000 });
    await page.fill('[data-testid=machine-first-lines]', '30');
    await page.click('[data-testid=machine-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-runview]')?.dataset.count === '30' && document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'running'
      && Number(document.querySelector('[data-testid=machine-runview]')?.dataset.line) >= 3, null, { timeout: 60_000 });
    const port = new URL(studio.url).port;
    const t0 = Date.now();
    expect(await studio.stop()).toBe(0);
    const stopS = (Date.now() - t0) / 1000;
    studio = await startStudio(['--port', port]);
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'interrupted', null, { timeout: 60_000 });
    const at = /^the studio stopped during this run at line (\d+) of 30 on /.exec((await text(page, 'machine-message'))!);
    expect(at, (await text(page, 'machine-message'))!).not.toBeNull();
    await page.selectOption('[data-testid=machine-target]', 'marlin');
    await page.selectOption('[data-testid=machine-port]', pty.a);
    await page.click('[data-testid=machine-connect]');
    await expect.poll(() => text(page, 'machine-message'), { timeout: 30_000 }).toMatch(/; press Resume to re-home and continue the run at the first hook not certainly wound$/);
    const t1 = Date.now();
    await page.click('[data-testid=machine-resume]');
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'done', null, { timeout: 120_000 });
    console.log(`studio-machine-marlin: the studio stopped in ${stopS.toFixed(1)} s mid-run; resumed to done in ${((Date.now() - t1) / 1000).toFixed(1)} s (from ${Date.now() - t0} ms after the stop)`);
    expect(await text(page, 'machine-message')).toMatch(/^done: run OK: 30 lines done on Marlin \(resumed at line \d+\); /);
  });
});
