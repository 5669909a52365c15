import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { repoRoot, tempDir } from './helpers/cli';
import { grblUnavailable, startGrblBridge, REALCHIPS_AVR, type Bridge } from './helpers/simavr-grbl';
import { bridgeUnavailable, startBridge } from './helpers/simavr-bridge';
import { startStudio, type RunningStudio } from './studio-helpers';

// "Run the machine" on real firmware, in headless Chromium (Debian's chromium, playwright-core):
// the page chooses the target, the studio runs the CLI's own code (runGrbl, runJohnnyFive) on a port
// it was offered by HOOKLINE_STUDIO_SERIAL — a pty of the simavr bridge, where stock Grbl 1.1h or
// ConfigurableFirmata 3.4 runs on a cycle-accurate simulated Uno (../shared/realchips/avr).
// Grbl: 10 lines of a plan on ref-gantry with a feed hold and a resume (the board's own step counts
// still while held, the nozzle drawn where Grbl reports it), a power cut, then Resume to done. Johnny-Five: connect, home and a
// 1-line run with a pause (the bridge runs at real time: each line takes ~15 s). Screenshots: test-artifacts/studio/machine-real-*.png.
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
const shots = join(repoRoot, 'test-artifacts/studio');
const FIRMATA_HEX = join(REALCHIPS_AVR, 'hex/ConfigurableFirmata-uno-accelstepper-57600.hex');
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing: the studio's real-firmware tests are skipped` : grblUnavailable();
const whyFirmata = why ?? bridgeUnavailable('Firmata', FIRMATA_HEX);
if (why) console.warn(`note: ${why}`);
else if (whyFirmata) console.warn(`note: ${whyFirmata}`);

const text = (page: Page, id: string) => page.locator(`[data-testid=${id}]`).textContent();
const lineOf = async (page: Page) => Number(await page.locator('[data-testid=machine-runview]').getAttribute('data-line'));
/** Where the page is, for a timeout's message: the run's phase, line, status and messages. */
const where = (page: Page) => page.evaluate(() => ['machine-phase', 'machine-line', 'machine-status', 'machine-message', 'machine-error']
  .map((id) => `${id}: ${document.querySelector(`[data-testid=${id}]`)?.textContent ?? '-'}`).join('; '));
/** Wait for the run's phase; on a timeout the error says where the page is (its phase and messages). */
const waitPhase = async (page: Page, phase: string, timeout = 120_000) => {
  try {
    await page.waitForFunction((p) => document.querySelector('[data-testid=machine-panel]')?.dataset.phase === p, phase, { timeout });
  } catch (e) {
    throw new Error(`waiting for phase ${phase}: ${(e as Error).message.split('\n')[0]}; the page: ${await where(page)}`);
  }
};
const waitConnected = async (page: Page) => {
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid=machine-panel]')?.dataset.connection === 'connected', null, { timeout: 60_000 });
  } catch (e) {
    throw new Error(`waiting to connect: ${(e as Error).message.split('\n')[0]}; the page: ${await where(page)}`);
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== null)('studio: run the machine on real firmware (simavr Uno), in headless Chromium', () => {
  const dir = tempDir('hookline-studio-real-');
  let bridge: Bridge | null = null;
  let studio: RunningStudio | null = null;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const oldEnv = { serial: process.env.HOOKLINE_STUDIO_SERIAL, state: process.env.HOOKLINE_STUDIO_STATE, firmata: process.env.HOOKLINE_FIRMATA_TIMEOUT_S };
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    process.env.HOOKLINE_STUDIO_STATE = join(dir, 'state');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1300 } })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    try {
      await browser?.close();
      await studio?.stop();
      await bridge?.stop();
    } finally {
      const restore = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
      restore('HOOKLINE_STUDIO_SERIAL', oldEnv.serial);
      restore('HOOKLINE_STUDIO_STATE', oldEnv.state);
      restore('HOOKLINE_FIRMATA_TIMEOUT_S', oldEnv.firmata);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Grbl 1.1h: connect (writing the profile\'s settings), run 10 lines of a plan with a feed hold and a resume, a power cut, then Resume to done; the nozzle where Grbl reports it', async () => {
    const t0 = Date.now();
    // The controller's port as the studio is offered it: one path (a symlink to the bridge's pty),
    // as a USB adapter keeps its /dev/serial/by-id name when the board is powered again.
    const port = join(dir, 'controller');
    const plugIn = (b: Bridge) => {
      rmSync(port, { force: true });
      symlinkSync(realpathSync(b.pty), port);
    };
    bridge = await startGrblBridge(dir, join(dir, 'grbl.eeprom'), [20, 20, 25]);
    plugIn(bridge);
    process.env.HOOKLINE_STUDIO_SERIAL = port;
    studio = await startStudio();
    await page.goto(studio.url);
    await page.selectOption('[data-testid=machine]', 'ref-gantry');
    await page.locator('[data-flag=lines]').fill('100');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await page.waitForFunction(() => document.querySelector('[data-testid=numbers]')?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === '100'
      // and scored: the score's seconds of CPU are over before the controller's 5 s identify starts
      && /^\d/.test(document.querySelector('[data-testid=rmse]')?.textContent ?? ''), null, { timeout: 60_000 });

    await page.selectOption('[data-testid=machine-target]', 'grbl');
    await expect.poll(() => page.locator(`[data-testid=machine-port] option[value="${port}"]`).count()).toBe(1);
    // The simulated machine is a hookline device: not offered for a G-code controller.
    expect(await page.locator('[data-testid=machine-port] option[value=sim]').count()).toBe(0);
    await page.selectOption('[data-testid=machine-port]', port);
    await page.selectOption('[data-testid=machine-profile]', 'ref-gantry');
    await page.check('[data-testid=machine-apply-settings]');
    await page.click('[data-testid=machine-connect]');
    await waitConnected(page);
    expect(await text(page, 'machine-message')).toMatch(/^connected to .*\/controller \(HOOKLINE_STUDIO_SERIAL\) \(Grbl 1\.1h\.\d+ at 115200 baud\)/);

    // The plan's first 10 lines: simavr runs the Uno near real time, and 100 lines take minutes.
    await page.fill('[data-testid=machine-first-lines]', '10');
    await page.click('[data-testid=machine-run]');
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid=machine-runview]');
      return document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'running' && Number(v?.dataset.line) >= 2;
    }, null, { timeout: 120_000 });
    expect(await text(page, 'machine-eta')).toMatch(/^(\d+ s|\d+ min \d\d s)$/);
    await page.click('[data-testid=machine-pause]');
    await waitPhase(page, 'paused', 30_000); // Grbl's Hold:0 (the feed hold has decelerated)
    const pausedAt = await lineOf(page);
    // Held: the board's own STEP pins are still across 1.5 s (the bridge rewrites its status every ~0.5 s).
    await sleep(1200);
    const held0 = bridge.status()!;
    await sleep(1500);
    const held1 = bridge.status()!;
    expect(held1.simSeconds).toBeGreaterThan(held0.simSeconds);
    for (const a of ['x', 'y', 'z']) expect(held1.axes[a].steps, a).toBe(held0.axes[a].steps);
    expect(await lineOf(page)).toBe(pausedAt);
    // The nozzle as Grbl reports it (work mm − the board's origin), on the board: where the step pins put it.
    const nozzle = (await page.locator('[data-testid=machine-runview]').getAttribute('data-nozzle'))!.split(',').map(Number);
    expect(nozzle).toHaveLength(2);
    const origin = (JSON.parse(readFileSync(join(repoRoot, 'machines/ref-gantry.json'), 'utf8')) as { board: { originMm: number[] } }).board.originMm;
    // The bridge counts mm from the switch side, as the profile's machine mm (= Grbl's work mm) do.
    expect(Math.abs(nozzle[0] + origin[0] - held1.axes.x.posMm)).toBeLessThan(0.1);
    expect(Math.abs(nozzle[1] + origin[1] - held1.axes.y.posMm)).toBeLessThan(0.1);
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-1-grbl-held.png') });

    await page.click('[data-testid=machine-resume]');
    await page.waitForFunction((n) => {
      const v = document.querySelector('[data-testid=machine-runview]');
      return document.querySelector('[data-testid=machine-panel]')?.dataset.phase === 'running' && Number(v?.dataset.line) >= n;
    }, pausedAt + 2, { timeout: 120_000 });
    // A power cut: the board goes off (its EEPROM kept), its port with it.
    await bridge.stop();
    const cut = bridge.status()!;
    await waitPhase(page, 'interrupted', 60_000);
    const gone = /^(?:the controller disconnected|Grbl stopped answering) at line (\d+) of 10.*; plug it in again, connect and press Resume to re-home and continue at line (\d+) of 10$/.exec((await text(page, 'machine-message'))!);
    expect(gone, (await text(page, 'machine-message'))!).not.toBeNull();
    expect(Number(gone![1])).toBeGreaterThanOrEqual(pausedAt + 1);
    expect(await page.locator('[data-testid=machine-panel]').getAttribute('data-connection')).toBe('off');
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-2-grbl-power-cut.png') });

    // Power on where the machine stood; connect again and Resume: re-homed, the first hook not certainly wound.
    bridge = await startGrblBridge(dir, join(dir, 'grbl.eeprom'), [cut.axes.x.posMm, cut.axes.y.posMm, cut.axes.z.posMm]);
    plugIn(bridge);
    await page.click('[data-testid=machine-refresh]');
    await page.selectOption('[data-testid=machine-port]', port);
    await page.click('[data-testid=machine-connect]');
    await waitConnected(page);
    expect(await text(page, 'machine-message')).toMatch(/; press Resume to re-home and continue the run at the first hook not certainly wound$/);
    await page.click('[data-testid=machine-resume]');
    await waitPhase(page, 'done', 180_000);
    const done = /^done: run OK: 10 lines done on Grbl \(resumed at line (\d+)\); job [\d.]+ s after homing, \d+ G-code lines$/.exec((await text(page, 'machine-message'))!);
    expect(done, (await text(page, 'machine-message'))!).not.toBeNull();
    // The CLI counts "continue at line N" from the last line done and "resumed at line K" by hooks wound: K = N + 1.
    expect(Number(done![1])).toBe(Number(gone![2]) + 1);
    expect(await text(page, 'machine-line')).toBe('10 of 10');
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-3-grbl-done.png') });
    expect(errors).toEqual([]);
    console.log(`studio-machine-real: Grbl 10 lines with a hold at line ${pausedAt}, a power cut at line ${gone![1]}, resumed at hook ${done![1]}: ${((Date.now() - t0) / 1000).toFixed(1)} s wall`);
  }, 240_000);

  it.skipIf(whyFirmata !== null)('Johnny-Five on ConfigurableFirmata 3.4: connect (the Firmata handshake), home (every switch reached), then a 1-line run with a pause and a resume to done; the runtime on the host', async () => {
    const t0 = Date.now();
    await studio?.stop();
    await bridge?.stop();
    // As run-firmata.sh wires it (firmata-real.test.ts), at real time; powered on near the switches, so homing is short.
    bridge = await startBridge({
      hex: FIRMATA_HEX, work: dir, name: 'firmata', extra: ['-r', '1'],
      axes: ['x,2,5,9,20,min,30,high,700', 'y,3,6,10,20,min,30,high,700', 'z,4,7,11,400,max,25,high,30'],
    });
    process.env.HOOKLINE_STUDIO_SERIAL = bridge.pty;
    // The Firmata handshake's limit (8 s by default): this machine also runs the real-time Uno and Chromium.
    process.env.HOOKLINE_FIRMATA_TIMEOUT_S = '20';
    studio = await startStudio();
    await page.goto(studio.url);
    await page.selectOption('[data-testid=machine-target]', 'johnny-five');
    await expect.poll(() => page.locator(`[data-testid=machine-port] option[value="${bridge!.pty}"]`).count()).toBe(1);
    await page.selectOption('[data-testid=machine-port]', bridge.pty);
    await page.selectOption('[data-testid=machine-profile]', 'ref-gantry');
    await page.click('[data-testid=machine-connect]');
    await waitConnected(page);
    expect(await text(page, 'machine-message')).toMatch(/^connected to .*\.pty \(HOOKLINE_STUDIO_SERIAL\) \(ConfigurableFirmata 3\.4\); Home and Run open the board again/);
    await page.click('[data-testid=machine-home]');
    await expect.poll(() => text(page, 'machine-message'), { timeout: 120_000 }).toMatch(/^homed: homed in [\d.]+ s; the machine is at its home position/);
    expect(await text(page, 'machine-status')).toMatch(/· device idle, homed$/);
    await sleep(1200); // the bridge rewrites its status file every ~0.5 s wall
    const st = bridge.status()!;
    for (const a of ['x', 'y', 'z']) {
      expect(st.axes[a].presses, a).toBeGreaterThan(0);
      expect(st.axes[a].endstop, a).toBe(false); // backed off the switch
    }
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-4-firmata-homed.png') });

    // Run the plan's first line, with a pause while the runtime moves (it stops at the next safe point:
    // the end of the piece of path it has planned). A board that did not reset when its port opened
    // (this one) gets a Firmata system reset first; without it this run crawled (machine-firmata.ts).
    await page.locator('[data-flag=lines]').fill('100');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await page.waitForFunction(() => document.querySelector('[data-testid=numbers]')?.dataset.done === '1' && document.querySelector('[data-testid=lines]')?.textContent === '100'
      // and scored: the score's seconds of CPU are over before the controller's 5 s identify starts
      && /^\d/.test(document.querySelector('[data-testid=rmse]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.fill('[data-testid=machine-first-lines]', '1');
    await page.click('[data-testid=machine-run]');
    await waitPhase(page, 'running', 120_000);
    await page.click('[data-testid=machine-pause]');
    const tp = Date.now();
    await waitPhase(page, 'paused', 90_000);
    console.log(`studio-machine-real: Johnny-Five paused ${((Date.now() - tp) / 1000).toFixed(1)} s after Pause`);
    const pausedAt = await lineOf(page);
    await sleep(1200);
    const held0 = bridge.status()!;
    await sleep(1500);
    const held1 = bridge.status()!;
    expect(held1.simSeconds).toBeGreaterThan(held0.simSeconds);
    for (const a of ['x', 'y', 'z']) expect(held1.axes[a].steps, a).toBe(held0.axes[a].steps);
    expect((await page.locator('[data-testid=machine-runview]').getAttribute('data-nozzle'))!.split(',').map(Number)).toHaveLength(2);
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-5-firmata-paused.png') });
    await page.click('[data-testid=machine-resume]');
    await waitPhase(page, 'done', 180_000);
    expect(await text(page, 'machine-message')).toMatch(/^done: all 1 lines done on the Firmata board; homing [\d.]+ s, job [\d.]+ s$/);
    expect(await text(page, 'machine-line')).toBe('1 of 1');
    await page.locator('[data-testid=machine-panel]').screenshot({ path: join(shots, 'machine-real-6-firmata-done.png') });
    expect(errors).toEqual([]);
    console.log(`studio-machine-real: Johnny-Five connect, home (at ${['x', 'y', 'z'].map((a) => `${a} ${st.axes[a].posMm} mm`).join(', ')}), 1 line with a pause at line ${pausedAt}: ${((Date.now() - t0) / 1000).toFixed(1)} s wall`);
  }, 240_000);
});
