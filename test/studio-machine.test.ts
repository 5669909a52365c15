import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot, tempDir } from './helpers/cli';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';
import { POST, startStudio, type RunningStudio } from './studio-helpers';

// "Run the machine" end to end in headless Chromium (Debian's chromium, playwright-core): a plan run
// on the simulated machine — `hookline device` behind a real socat pty, driven by the studio over
// openSerial and the link protocol exactly as a board on a USB port — with pause and resume, a
// colour change confirmed in the page, two tabs (one read-only), a reload, a restarted server that
// resumes the run, and a port that vanishes mid-run. Screenshots: test-artifacts/studio/machine-*.png.
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
const shots = join(repoRoot, 'test-artifacts/studio');
const have = existsSync(CHROMIUM) && hasSocat();

/** The studio's own state directory for this test (the machine's run file and the simulated machine's record). */
const stateDir = tempDir();
process.env.HOOKLINE_STUDIO_STATE = stateDir;

interface SimRecord { socatPid: number; devicePid: number; dir: string }
const simRecord = (): SimRecord | null => {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'sim-machine.json'), 'utf8')) as SimRecord;
  } catch {
    return null;
  }
};
const endPid = (pid: number) => {
  try {
    process.kill(pid);
  } catch {
    // already gone
  }
};

const attr = (page: Page, name: string) => page.locator('[data-testid=machine-panel]').getAttribute(name);
const text = (page: Page, id: string) => page.locator(`[data-testid=${id}]`).textContent();
/** Lines the page shows as done. */
const lineOf = async (page: Page) => Number(await page.locator('[data-testid=machine-runview]').getAttribute('data-line'));
const waitPhase = (page: Page, phase: string, timeout = 120_000) =>
  page.waitForFunction((p) => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === p, phase, { timeout });
const waitConnected = (page: Page) =>
  page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.connection === 'connected', null, { timeout: 120_000 });
/** Red pixels of the nozzle layer (the nozzle and the line being strung). */
const nozzlePixels = (page: Page) => page.evaluate(() => {
  const c = document.querySelector('[data-testid=machine-nozzle]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let red = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90) red++;
  return red;
});
const waitPlanned = (page: Page, lines: number) => page.waitForFunction((n) => {
  const numbers = document.querySelector('[data-testid=numbers]');
  return numbers?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === String(n);
}, lines, { timeout: 120_000 });
/**
 * Drive the run until `done()` holds, confirming each thread change in the page as it comes (where
 * the plan's colour changes fall depends on the planner); returns the prompts seen.
 */
async function confirmColoursUntil(page: Page, done: () => Promise<boolean>): Promise<string[]> {
  const prompts: string[] = [];
  const deadline = Date.now() + 180_000; // a limit for a hang
  for (;;) {
    if (await done()) return prompts;
    if ((await attr(page, 'data-phase')) === 'colour') {
      prompts.push((await text(page, 'machine-colour'))!);
      await page.click('[data-testid=machine-colour-done]');
      await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase !== 'colour', null, { timeout: 60_000 });
    }
    if (Date.now() > deadline) throw new Error(`the run did not get there; phase ${await attr(page, 'data-phase')}, line ${await lineOf(page)}`);
    await page.waitForTimeout(100);
  }
}
/** Press Pause once the run is past `line` (and not at a thread change, where Pause is off). */
async function pauseAfter(page: Page, line: number): Promise<string[]> {
  const prompts: string[] = [];
  await page.locator('[data-testid=machine-pause]').scrollIntoViewIfNeeded();
  for (;;) {
    prompts.push(...await confirmColoursUntil(page, async () => (await attr(page, 'data-phase')) === 'running' && (await lineOf(page)) >= line));
    try {
      await page.click('[data-testid=machine-pause]', { timeout: 5000 });
      return prompts;
    } catch {
      // A thread change came first (Pause is off then): confirm it and try again.
      expect(await attr(page, 'data-phase')).not.toBe('done');
    }
  }
}
const PROMPT = /^Thread colour ([12]) of 2, (#[0-9a-f]{6}): tie it on, then continue\.Thread changed: continue$/;

/** The simulated machine's verdict as the page shows it when a run is done. */
const EXACT = /^done: all 100 lines strung; the simulated machine wrapped 101 of 101 hooks, exactly the plan's, 0 violations$/;

describe.skipIf(!have)('studio: run the machine, in headless Chromium', () => {
  let studio: RunningStudio;
  let browser: Browser;
  let context: BrowserContext;
  let a: Page;
  let b: Page;
  /** A port with nothing on the other end, offered to the studio by HOOKLINE_STUDIO_SERIAL. */
  let silent: PtyPair;
  const errors: string[] = [];
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    silent = await ptyPair();
    process.env.HOOKLINE_STUDIO_SERIAL = silent.a;
    studio = await startStudio();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    a = await context.newPage();
    a.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    try {
      await browser?.close();
      await studio?.stop();
    } finally {
      // A simulated machine left on by a failed test: ended by the ids this test's studio recorded.
      const rec = simRecord();
      if (rec) [rec.devicePid, rec.socatPid].forEach(endPid);
      silent?.close();
    }
  });

  it('runs a colour plan on the simulated machine to done with a pause, a resume and a thread change; a second tab watches read-only', async () => {
    await a.goto(studio.url);
    await expect.poll(() => a.locator('[data-testid=machine-port] option').count()).toBeGreaterThan(0);
    expect(await a.locator('[data-testid=machine-port] option[value=sim]').count()).toBe(1);
    // A short colour plan for the reference gantry: 100 lines, 2 colours in one group each (one thread change).
    await a.selectOption('[data-testid=machine]', 'ref-gantry');
    await a.selectOption('[data-testid=mode]', 'colour');
    await a.locator('[data-flag=colors]').fill('2');
    await a.locator('[data-flag=groups]').fill('1');
    await a.locator('[data-flag=lines]').fill('100');
    await a.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await waitPlanned(a, 100);

    await a.selectOption('[data-testid=machine-speed]', '50');
    await a.click('[data-testid=machine-connect]');
    await waitConnected(a);
    expect(await text(a, 'machine-message')).toMatch(/^connected to simulated machine .*\(firmware \d+\.\d+, unhomed\)$/);

    // The second tab: the same machine, read-only (the first tab acted first and holds control).
    b = await context.newPage();
    b.on('pageerror', (e) => errors.push(e.message));
    await b.goto(studio.url);
    await b.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.readonly === '1', null, { timeout: 60_000 });
    expect(await b.isDisabled('[data-testid=machine-disconnect]')).toBe(true);

    await a.click('[data-testid=machine-run]');
    // A colour plan starts by asking for its first thread (as hookline run does), before line 1.
    await waitPhase(a, 'colour');
    expect(await lineOf(a)).toBe(0);
    const prompts = await pauseAfter(a, 10);
    await waitPhase(a, 'paused');
    expect(await text(a, 'machine-eta')).toMatch(/^(\d+ s|\d+ min \d\d s)$/);
    expect(await nozzlePixels(a)).toBeGreaterThan(50);
    await a.screenshot({ path: join(shots, 'machine-1-paused.png') });
    const pausedAt = await lineOf(a);
    // Paused: no progress for a while (the machine's STATUS keeps coming).
    await a.waitForTimeout(1500);
    expect(await lineOf(a)).toBe(pausedAt);
    expect(pausedAt).toBeLessThan(100);
    await waitPhase(b, 'paused');
    expect(await lineOf(b)).toBe(pausedAt);
    expect(await b.isDisabled('[data-testid=machine-resume]')).toBe(true);
    await b.screenshot({ path: join(shots, 'machine-2-paused-readonly-tab.png') });
    // A read-only tab's command is refused by the server too.
    const refused = await b.evaluate(async () => {
      const r = await fetch('/api/machine/resume', { method: 'POST', headers: { 'x-hookline': '1', 'x-hookline-client': 'another-tab-1234', 'content-type': 'application/json' }, body: '{}' });
      return [r.status, ((await r.json()) as { error: string }).error];
    });
    expect(refused).toEqual([409, 'another tab controls the machine (this one is read-only); press Take control to drive it from here']);

    // A reload keeps control (the tab's id lives in sessionStorage) and shows the run where it is.
    await a.reload();
    await waitPhase(a, 'paused');
    expect(await attr(a, 'data-readonly')).toBe('0');
    expect(await lineOf(a)).toBe(pausedAt);

    await a.click('[data-testid=machine-resume]');
    await a.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.phase !== 'paused', null, { timeout: 60_000 });
    // The thread changes: the machine pauses and the page asks for the next colour (confirmed here as they come).
    prompts.push(...await confirmColoursUntil(a, async () => {
      const phase = await attr(a, 'data-phase');
      if (phase === 'colour' && prompts.length === 1) await a.screenshot({ path: join(shots, 'machine-3-colour-change.png') });
      return phase === 'done';
    }));
    // Two colours, one group each: the first thread and one change, to the other colour.
    expect(prompts.map((p) => PROMPT.exec(p)?.[1]).sort()).toEqual(['1', '2']);
    await expect.poll(() => text(a, 'machine-message'), { timeout: 60_000 }).toMatch(EXACT);
    expect(await text(a, 'machine-line')).toBe('100 of 100');
    await a.screenshot({ path: join(shots, 'machine-4-done.png') });
    await expect.poll(() => text(b, 'machine-message')).toMatch(EXACT);
  });

  it('a server restarted in the middle of a run: the page reconnects, and Resume finishes it on the same machine, nothing lost, nothing twice', async () => {
    await a.selectOption('[data-testid=machine-speed]', '50');
    await a.click('[data-testid=machine-connect]');
    await waitConnected(a);
    await a.click('[data-testid=machine-run]');
    await pauseAfter(a, 15);
    await waitPhase(a, 'paused');
    const pausedAt = await lineOf(a);
    const port = new URL(studio.url).port;
    expect(await studio.stop()).toBe(0);
    await expect.poll(() => text(a, 'machine-down')).toMatch(/^the studio server does not answer/);
    await a.screenshot({ path: join(shots, 'machine-5-server-stopped.png') });
    // The simulated machine stayed on, paused, like a real one.
    const rec = simRecord()!;
    expect(() => process.kill(rec.devicePid, 0)).not.toThrow();

    studio = await startStudio(['--port', port]);
    await waitPhase(a, 'interrupted');
    expect(await a.locator('[data-testid=machine-down]').count()).toBe(0);
    expect(await text(a, 'machine-message')).toBe(`the studio stopped during this run at line ${pausedAt} of 100 on simulated machine (hookline device on a socat pty); connect to it and press Resume (or Forget run)`);
    await a.screenshot({ path: join(shots, 'machine-6-server-back.png') });
    await a.click('[data-testid=machine-connect]');
    await waitConnected(a);
    await a.click('[data-testid=machine-resume]');
    await waitPhase(a, 'paused'); // the device is still paused from before
    await a.click('[data-testid=machine-resume]');
    await confirmColoursUntil(a, async () => (await attr(a, 'data-phase')) === 'done');
    // The same simulated machine (one device process across both servers) wrapped exactly the plan.
    await expect.poll(() => text(a, 'machine-message'), { timeout: 60_000 }).toMatch(EXACT);
    expect(simRecord()).toBeNull();
  });

  it('the other tab takes control; a port that vanishes mid-run is a message in the page and the server keeps serving', async () => {
    await b.reload();
    await b.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.readonly === '1', null, { timeout: 60_000 });
    await b.click('[data-testid=machine-take]');
    await a.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.readonly === '1', null, { timeout: 60_000 });
    expect(await attr(b, 'data-readonly')).toBe('0');
    await waitPlanned(b, 100); // the reloaded tab planned its own copy of the picture
    await b.selectOption('[data-testid=machine-speed]', '10');
    await b.click('[data-testid=machine-connect]');
    await waitConnected(b);
    await b.click('[data-testid=machine-run]');
    await confirmColoursUntil(b, async () => (await attr(b, 'data-phase')) === 'running' && (await lineOf(b)) >= 3);
    // Pull the plug: the simulated machine's serial port (socat) goes away.
    endPid(simRecord()!.socatPid);
    await waitPhase(b, 'interrupted');
    const gone = /^the serial port simulated machine \(hookline device on a socat pty\) went away at line (\d+) of 100 \(.+\); connect the simulated machine again \(a new one: it starts from line 0\) and press Resume$/.exec((await text(b, 'machine-message'))!);
    expect(Number(gone?.[1])).toBeGreaterThanOrEqual(3); // mid-run
    expect(await attr(b, 'data-connection')).toBe('off');
    await b.screenshot({ path: join(shots, 'machine-7-port-vanished.png') });
    const res = await fetch(new URL('api/machines', studio.url));
    expect(res.status).toBe(200);
    // A port the server did not list is refused.
    const bad = await fetch(new URL('api/machine/connect', studio.url), {
      method: 'POST', headers: { ...POST, 'x-hookline-client': 'test-client-1', 'content-type': 'application/json' }, body: JSON.stringify({ port: '/etc/passwd', target: 'hookline', machine: 'ref-gantry' }),
    });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([409, 'another tab controls the machine (this one is read-only); press Take control to drive it from here']);
    const claim = { ...POST, 'x-hookline-client': 'test-client-1', 'content-type': 'application/json' };
    await fetch(new URL('api/machine/claim', studio.url), { method: 'POST', headers: claim, body: '{}' });
    const bad2 = await fetch(new URL('api/machine/connect', studio.url), { method: 'POST', headers: claim, body: JSON.stringify({ port: '/etc/passwd', target: 'hookline', machine: 'ref-gantry' }) });
    expect([bad2.status, ((await bad2.json()) as { error: string }).error]).toEqual([400, "'/etc/passwd' is not a port the studio listed; refresh the list and choose one of it"]);
    await b.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.readonly === '1', null, { timeout: 60_000 });
  });

  it('a listed port where nothing answers: one line in the page after the handshake\'s 10 s', async () => {
    await b.click('[data-testid=machine-take]');
    await b.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.readonly === '0', null, { timeout: 60_000 });
    await b.click('[data-testid=machine-refresh]');
    await b.selectOption('[data-testid=machine-port]', silent.a);
    await b.click('[data-testid=machine-connect]');
    await expect.poll(() => text(b, 'machine-message'), { timeout: 120_000 })
      .toBe(`${silent.a} (HOOKLINE_STUDIO_SERIAL) does not answer: no reply to HELLO in 10 s; check that the board runs hookline firmware (hookline flash), its power and the cable`);
    expect(await attr(b, 'data-connection')).toBe('off');
    await b.screenshot({ path: join(shots, 'machine-8-not-answering.png') });
    expect(errors).toEqual([]);
  });
});
