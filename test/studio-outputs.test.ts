import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { validatePlan } from '../host/plan/load';
import type { Plan } from '../host/plan/types';
import { repoRoot, runCli, tempDir } from './helpers/cli';
import { startStudio, type RunningStudio } from './studio-helpers';

// The studio's outputs and build check in headless Chromium, one page through: preview.svg and
// G-code with a lift choice (web/svg.ts, host/studio/server.ts), the simulation paused and resumed
// with its nozzle path, violations and timeline (web/sim-view.tsx), and the colour layers
// (web/layers.tsx). Screenshots: test-artifacts/studio/outputs-*.png.
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, Image: any, URL: any, Blob: any, DOMParser: any;
const shots = join(repoRoot, 'test-artifacts/studio');

const text = (page: Page, id: string) => page.locator(`[data-testid=${id}]`).textContent();
const job = (page: Page) => page.locator('[data-testid=numbers]').getAttribute('data-job');
const waitDone = (page: Page, lines: number, before: string | null = null) => page.waitForFunction(([n, old]) => {
  const numbers = document.querySelector('[data-testid=numbers]');
  return numbers.dataset.done === '1' && numbers.dataset.job !== old && document.querySelector('[data-testid=lines]')?.textContent === String(n);
}, [lines, before] as const, { timeout: 120_000 });

/** Click a download button and return the saved file's path and suggested name. */
async function downloadVia(page: Page, testid: string, dir: string) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
  const file = join(dir, d.suggestedFilename());
  await d.saveAs(file);
  return { file, name: d.suggestedFilename() };
}

/** The points an SVG path visits for `plan`'s lines, as web/svg.ts draws them (2 decimals). */
function expectedPaths(plan: Plan): { colour: string; lines: number; points: string[] }[] {
  const out: { colour: string; lines: number; points: string[] }[] = [];
  const p = (n: number) => `${Math.round(plan.nails[n][0] * 100) / 100} ${Math.round(plan.nails[n][1] * 100) / 100}`;
  let at = -1;
  for (let i = 0; i < plan.lines.length; i++) {
    const [c, a, b] = plan.lines[i];
    if (i === 0 || plan.lines[i - 1][0] !== c) {
      out.push({ colour: plan.colors[c], lines: 0, points: [p(a)] });
      at = a;
    }
    const cur = out[out.length - 1];
    if (a !== at) cur.points.push(p(a));
    cur.points.push(p(b));
    cur.lines++;
    at = b;
  }
  return out;
}

describe.skipIf(!existsSync(CHROMIUM))('hookline studio in headless Chromium: outputs, the build check, colour layers', () => {
  let studio: RunningStudio;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const dir = tempDir();
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    studio = await startStudio();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    expect(await studio?.stop()).toBe(0);
  });

  let planFile = '';
  let plan: Plan;
  it('preview.svg is the plan drawn in mm; G-code comes with the lift chosen, as hookline gcode writes it', async () => {
    await page.goto(studio.url);
    await expect.poll(() => page.locator('[data-testid=machine] option').count()).toBeGreaterThan(3);
    await page.locator('[data-flag=lines]').fill('500');
    await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
    await waitDone(page, 500);
    planFile = (await downloadVia(page, 'dl-plan', dir)).file;
    plan = validatePlan(JSON.parse(readFileSync(planFile, 'utf8')), planFile);

    const svg = await downloadVia(page, 'dl-svg', dir);
    expect(svg.name).toBe('preview.svg');
    const body = readFileSync(svg.file, 'utf8');
    expect(body).toContain(`viewBox="0 0 ${plan.board.widthMm} ${plan.board.heightMm}" width="${plan.board.widthMm}mm"`);
    expect(body).toContain(`stroke-width="${plan.threadWidthMm}"`);
    expect(body.match(/<circle [^>]*\/>/g)!.length).toBe(plan.nails.length + 1); // the hooks and the board
    const paths = [...body.matchAll(/<path stroke="(#[0-9a-f]{6})" data-lines="(\d+)" d="([^"]+)"\/>/g)].map((m) => ({
      colour: m[1], lines: Number(m[2]), points: m[3].slice(1).split('L'),
    }));
    expect(paths).toEqual(expectedPaths(plan));
    // It is an SVG the browser reads and draws: thread on the board.
    const drawn = await page.evaluate(async (src: string) => {
      if (new DOMParser().parseFromString(src, 'image/svg+xml').querySelector('parsererror')) return -1;
      const img = new Image();
      img.src = URL.createObjectURL(new Blob([src], { type: 'image/svg+xml' }));
      await img.decode();
      const c = document.createElement('canvas');
      c.width = 300;
      c.height = 300;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0, 300, 300);
      const d = g.getImageData(0, 0, 300, 300).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 200) dark++;
      return dark;
    }, body);
    expect(drawn).toBeGreaterThan(2000);

    // G-code: a servo lift with Grbl is the CLI's refusal, in the page; with Marlin it is hookline gcode's output.
    await page.selectOption('[data-testid=lift]', 'servo');
    await page.locator('[data-testid=servo-up]').fill('40');
    await page.locator('[data-testid=servo-down]').fill('120');
    await page.click('[data-testid=dl-gcode]');
    await expect.poll(() => text(page, 'dl-error')).toMatch(/^plan-grbl-servo\.gcode: gcode: --lift servo with --dialect grbl: stock Grbl's M3 S… is spindle PWM/);
    await page.selectOption('.gcode select', 'marlin');
    const g = await downloadVia(page, 'dl-gcode', dir);
    expect(g.name).toBe('plan-marlin-servo.gcode');
    const gcode = readFileSync(g.file, 'utf8');
    expect(gcode).toMatch(/^M280 P0 S40$/m);
    expect(gcode).toMatch(/^M280 P0 S120$/m);
    const viaCli = runCli(['gcode', planFile, '--machine', 'machines/ref-gantry.json', '--dialect', 'marlin', '--lift', 'servo', '--servo-up', '40', '--servo-down', '120']);
    expect(viaCli.code).toBe(0);
    expect(viaCli.stdout.split('\n').slice(2).join('\n')).toBe(gcode.split('\n').slice(2).join('\n'));
    // Bad lift numbers over HTTP: one line each.
    const jobId = await job(page);
    for (const [q, msg] of [
      ['lift=servo&servo-up=40', /^a servo lift needs the servo values for nozzle up and down/],
      ['lift=servo&servo-up=40&servo-down=lots', /^--servo-down: 'lots' is not a number/],
      ['lift=air', /^unknown lift 'air'; use z \(the Z axis\) or servo$/],
    ] as const) {
      const res = await fetch(new URL(`api/plan/${jobId}/plan.gcode?machine=ref-gantry&dialect=marlin&${q}`, studio.url));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(msg);
    }
    await page.selectOption('[data-testid=lift]', 'z');
    await page.screenshot({ path: join(shots, 'outputs-1-downloads.png') });
    expect(errors).toEqual([]);
  });

  /** Pixels of the violation marks' red on the simulation's board (the path's translucent strokes never reach it). */
  const markPixels = () => page.evaluate(() => {
    const c = document.querySelector('[data-testid=sim-path]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 160 && d[i] < 196 && d[i + 1] < 50 && d[i + 2] < 50) n++;
    return n;
  });

  it('the build check pauses and resumes from the page, draws the nozzle path, marks violations on the board and the timeline', async () => {
    await page.click('[data-testid=sim-run]');
    await expect.poll(() => text(page, 'sim-run'), { timeout: 60_000 }).toMatch(/Simulating on ref-gantry… [1-9]\d? %/);
    await page.click('[data-testid=sim-pause]');
    await page.waitForSelector('[data-testid=sim-pause][data-paused="1"]');
    const held = await text(page, 'sim-run');
    expect(held).toMatch(/^Paused on ref-gantry… \d+ %$/);
    // The simulator's thread waits: nothing moves however long the pause.
    await page.waitForTimeout(1500);
    expect(await text(page, 'sim-run')).toBe(held);
    await page.screenshot({ path: join(shots, 'outputs-2-sim-paused.png') });
    await page.click('[data-testid=sim-pause]'); // resume: it runs on to the verdict
    await expect.poll(() => text(page, 'sim-verdict'), { timeout: 120_000 }).toBe(`OK: wrapped ${plan.lines.length + 1} of ${plan.lines.length + 1} hooks, no violations`);
    await page.locator('[data-testid=sim-result]').screenshot({ path: join(shots, 'outputs-3-sim-ok.png') });
    expect(Number(await page.locator('[data-testid=sim-path]').getAttribute('data-points'))).toBeGreaterThan(500);
    const path = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=sim-path]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let red = 0, blue = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] - d[i + 2] > 60) red++;
        if (d[i + 2] - d[i] > 40) blue++;
      }
      return { red, blue };
    });
    expect(path.red).toBeGreaterThan(1000); // low: winding round the hooks
    expect(path.blue).toBeGreaterThan(20); // high: from the start position to the first hook (ref-gantry crosses between hooks below the hook heads)
    expect(await page.locator('[data-testid=timeline-mark]').count()).toBe(0);
    expect(await markPixels()).toBe(0);

    // Stopped after 40 s of machine time (hookline sim --max-machine-seconds): a timeout, marked where and when it happened.
    await page.locator('[data-testid=sim-limit]').fill('40');
    await page.click('[data-testid=sim-run]');
    await expect.poll(() => text(page, 'sim-verdict'), { timeout: 120_000 }).toMatch(/^FAILED: wrapped \d+ of 501 hooks, [1-9]\d* violations$/);
    const marks = page.locator('[data-testid=timeline-mark]');
    expect(await marks.count()).toBeGreaterThan(0);
    const titles = await marks.evaluateAll((m) => m.map((e: { title: string; dataset: { seconds: string } }) => [e.title, Number(e.dataset.seconds)] as const));
    const timeout = titles.find(([t]) => t.startsWith('timeout'));
    expect(timeout?.[0]).toMatch(/^timeout at 0:40 \(line \d+\): still running after 40 s of machine time$/);
    expect(timeout![1]).toBeCloseTo(40, 0);
    // Its mark sits at the end of the timeline (the run stopped there).
    const bar = (await page.locator('[data-testid=sim-timeline]').boundingBox())!;
    const mark = (await marks.first().boundingBox())!;
    expect(mark.x + mark.width / 2).toBeGreaterThan(bar.x + bar.width * 0.95);
    const small = await markPixels();
    expect(small).toBeGreaterThan(20);
    await marks.last().click(); // (two marks at 0:40: the timeout and the incomplete run it left; the later one is on top)
    expect(await page.locator('[data-testid=sim-violations] li.on').count()).toBe(1);
    await expect.poll(markPixels).toBeGreaterThan(small); // picked: drawn larger
    await page.locator('[data-testid=sim-result]').screenshot({ path: join(shots, 'outputs-4-sim-violations.png') });
    // Over HTTP: nothing to pause now (409), and a limit that is not seconds (400), each one line.
    const id = await job(page);
    const post = (path: string, body?: unknown) => fetch(new URL(`api/plan/${id}/${path}`, studio.url), { method: 'POST', headers: { 'x-hookline': '1', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const idle = await post('sim/pause');
    expect(idle.status).toBe(409);
    expect(((await idle.json()) as { error: string }).error).toBe('no simulation of this plan is running; start one with Simulate');
    const bad = await post('sim', { machine: 'ref-gantry', maxMachineSeconds: -5 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^maxMachineSeconds -5 is not a time limit; give seconds of machine time, 1 to 31536000/);
    await page.locator('[data-testid=sim-limit]').fill('');
    expect(await text(page, 'sim-run')).toBe('Simulate on ref-gantry');
    expect(await page.locator('[data-testid=sim-limit]').inputValue()).toBe('');
    expect(errors).toEqual([]);
  });

  /** The thread canvas's ink (Σ 255 − grey over its pixels). */
  const ink = () => page.evaluate(() => {
    const c = document.querySelector('[data-testid=thread]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += 255 - (d[i] + d[i + 1] + d[i + 2]) / 3;
    return sum;
  });
  const lum = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).reduce((s, v, i) => s + v * [0.299, 0.587, 0.114][i], 0);
  const layerColours = (id: string) => page.locator(`[data-testid=${id}]`).evaluateAll((l) => l.map((e: { dataset: { colour: string } }) => e.dataset.colour));

  it('colour layers: the groups shown top first, a colour moved down reaches the planner as --order, each colour alone, the picture forming', async () => {
    let before = await job(page);
    await page.selectOption('[data-testid=mode]', 'colour');
    await waitDone(page, 500, before);
    before = await job(page);
    await page.locator('[data-flag=lines]').fill('900');
    await waitDone(page, 900, before);
    const round = await layerColours('layer-colour');
    expect(round.length).toBe(3);
    // The planner's default: each round dark to light from the top.
    expect([...round].sort((a, b) => lum(a) - lum(b))).toEqual(round);
    const layers = await layerColours('layer');
    expect(layers.length).toBeGreaterThanOrEqual(9); // 3 colours × 4 groups (a group may be empty)
    expect(layers[0]).toBe(round[0]);
    let p = validatePlan(JSON.parse(readFileSync((await downloadVia(page, 'dl-plan', dir)).file, 'utf8')), 'plan.json');
    expect(p.colors[p.lines[p.lines.length - 1][0]]).toBe(round[0]); // the top group is strung last
    const counts = await page.locator('[data-testid=layer]').evaluateAll((l) => l.map((e: { dataset: { lines: string } }) => Number(e.dataset.lines)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(900);
    await page.locator('[data-testid=layers]').screenshot({ path: join(shots, 'outputs-5-layers.png') });

    // Each colour alone: three previews, each inked in its colour only.
    const previews = await page.locator('[data-testid=layer-preview]').evaluateAll((cs) => cs.map((c: { getContext: (k: string) => { getImageData: (...a: number[]) => { data: number[] } }; width: number; height: number; dataset: { colour: string } }) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const want = [1, 3, 5].map((i) => parseInt(c.dataset.colour.slice(i, i + 2), 16));
      let inked = 0, off = 0;
      for (let i = 0; i < d.length; i += 4) {
        const grey = d[i] > 235 && d[i + 1] > 235 && d[i + 2] > 235;
        const wall = Math.abs(d[i] - 0xf4) < 3 && Math.abs(d[i + 1] - 0xf1) < 3 && Math.abs(d[i + 2] - 0xea) < 3;
        if (grey || wall) continue;
        // Thread over white lies on the line from white to the colour: every channel's share of the way is about the same.
        const t = [0, 1, 2].map((k) => (255 - d[i + k]) / Math.max(1, 255 - want[k]));
        if (Math.max(...t) - Math.min(...t) < 0.35) inked++;
        else off++;
      }
      return { colour: c.dataset.colour, inked, off };
    }));
    expect(previews.map((x) => x.colour).sort()).toEqual([...p.colors].sort());
    for (const x of previews) {
      expect(x.inked).toBeGreaterThan(200);
      expect(x.off).toBeLessThan(x.inked * 0.1);
    }

    // Move the darkest colour one place down: the plan is made again with --order, the next colour on top.
    before = await job(page);
    await page.locator('[data-testid=layer-down]').first().click();
    await waitDone(page, 900, before);
    const moved = [round[1], round[0], round[2]];
    expect(await layerColours('layer-colour')).toEqual(moved);
    p = validatePlan(JSON.parse(readFileSync((await downloadVia(page, 'dl-plan', dir)).file, 'utf8')), 'plan.json');
    const n = (hex: string) => p.colors.indexOf(hex) + 1;
    expect(p.planner?.order).toEqual([0, 1, 2, 3].flatMap(() => moved.map(n)));
    expect(p.colors[p.lines[p.lines.length - 1][0]]).toBe(moved[0]);
    expect((await layerColours('layer'))[0]).toBe(moved[0]);

    // The forming animation: half the lines by the slider, then played to the whole picture again.
    const full = await ink();
    await page.locator('[data-testid=forming-pos]').fill('450');
    const half = await ink();
    expect(half).toBeLessThan(full * 0.8);
    expect(half).toBeGreaterThan(full * 0.2);
    await page.locator('[data-testid=forming-pos]').fill('900');
    // Played from the whole picture it starts again at the first line (~6 s to the last): the counts seen on the way.
    await page.click('[data-testid=forming-play]');
    const shown = async () => Number(await text(page, 'forming-shown'));
    await expect.poll(shown, { timeout: 10_000 }).toBeLessThan(900);
    const early = await shown();
    expect(early).toBeLessThan(900);
    expect(await page.locator('[data-testid=forming-play]').textContent()).toMatch(/pause/);
    await expect.poll(shown, { timeout: 60_000 }).toBe(900);
    expect(Math.abs((await ink()) - full) / full).toBeLessThan(0.01);
    // Simulated, the timeline shows where each thread colour starts, in the plan's order.
    await page.click('[data-testid=sim-run]');
    await expect.poll(() => text(page, 'sim-verdict'), { timeout: 180_000 }).toBe('OK: wrapped 901 of 901 hooks, no violations');
    const starts = await page.locator('[data-testid=timeline-colour]').evaluateAll((l) => l.map((e: { title: string; dataset: { seconds: string } }) => [e.title, Number(e.dataset.seconds)] as const));
    expect(starts.map(([t]) => t.split(' ')[0])).toEqual(p.colorChanges!.map((c) => p.colors[c.color]));
    expect(starts.map(([t]) => Number(/from line (\d+)/.exec(t)![1]))).toEqual(p.colorChanges!.map((c) => c.line + 1));
    expect(starts.every(([, t], i) => i === 0 || t > starts[i - 1][1])).toBe(true);
    await page.screenshot({ path: join(shots, 'outputs-6-colour.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
