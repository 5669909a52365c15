// The bench images' 3000-line plans, made once with the built `hookline plan` and cached in
// dist/bench/plans/<planner hash>/<name>/: the key is a hash of dist/host/cli.mjs, so a changed
// planner never serves a stale plan to the stream or motion bench.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const benchImagesDir = process.env.HOOKLINE_BENCH_IMAGES ?? '../shared/bench/images';

/** Path of the cached plan.json for bench image `name`, planning it if needed; null without the image. */
export function benchPlanFile(name: string): string | null {
  const planner = createHash('sha1').update(readFileSync('dist/host/cli.mjs')).digest('hex').slice(0, 12);
  const dir = join('dist/bench/plans', planner, name);
  const file = join(dir, 'plan.json');
  const image = join(benchImagesDir, `${name}.png`);
  if (!existsSync(file) && existsSync(image)) {
    process.stderr.write(`planning ${image} (cached in ${dir}) ...\n`);
    execFileSync(process.execPath, ['bin/hookline.js', 'plan', image, '-o', dir, '--lines', '3000', '--quiet'], { stdio: 'inherit' });
  }
  return existsSync(file) ? file : null;
}
