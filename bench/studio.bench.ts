// `npm run bench:studio`: hookline studio as a maker uses it, measured in the browser (Debian's
// chromium, headless, through playwright-core): after a slider change, the time to the first
// drawn lines and to the complete 3000-line picture, by the page's own clock (input event → lines
// drawn on the canvas). Baseline in the same run: `hookline plan` of the same photo and options in
// a fresh process (what the CLI takes for the complete plan, files included).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/cli';
import { startStudio } from '../test/studio-helpers';

// The page's globals, inside page.evaluate (this file is type-checked without the DOM library).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const CHANGES = ['1.05', '1.1', '0.95', '1', '1.05', '1.1', '0.95', '1'];

if (!existsSync(CHROMIUM)) {
  console.log(`skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
  process.exit(0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const studio = await startStudio();
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: CHROMIUM });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(studio.url);
  await page.setInputFiles('[data-testid=file]', join(repoRoot, 'examples/coffee.png'));
  const done = (before: string | null) => page.waitForFunction((old) => {
    const n = document.querySelector('[data-testid=numbers]');
    return n.dataset.done === '1' && n.dataset.job !== old && document.querySelector('[data-testid=lines]').textContent === '3000';
  }, before, { timeout: 120_000 });
  await done(null);
  const first: number[] = [];
  const whole: number[] = [];
  for (const contrast of CHANGES) {
    const before = await page.locator('[data-testid=numbers]').getAttribute('data-job');
    await page.locator('[data-flag=contrast]').fill(contrast);
    await done(before);
    // Let the previous plan's score and the spare planner thread settle, as a maker's pause would.
    await page.waitForTimeout(700);
    first.push(Number((await page.locator('[data-testid=first-ms]').textContent())!.replace(' ms', '')));
    whole.push(Number((await page.locator('[data-testid=done-ms]').textContent())!.replace(' ms', '')));
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-studio-'));
  const cli: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'plan', join(repoRoot, 'examples/coffee.png'), '-o', dir, '--contrast', '1.05', '--quiet']);
    if (r.status !== 0) throw new Error(String(r.stderr));
    cli.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`studio (coffee, 3000 lines, 160 hooks; ${CHANGES.length} contrast-slider changes in headless Chromium):`);
  console.log(`  slider change → first lines drawn:     median ${median(first)} ms (each: ${first.join(', ')})`);
  console.log(`  slider change → 3000-line picture:     median ${median(whole)} ms (each: ${whole.join(', ')})`);
  console.log(`  baseline: hookline plan, fresh process: median ${Math.round(median(cli))} ms (the studio takes ${(median(whole) / median(cli)).toFixed(2)} × that for the complete picture, drawn as it forms)`);
} finally {
  await browser.close();
  await studio.stop();
}
