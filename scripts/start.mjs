// `npm start`: the main job on the bundled example — plan the image, encode the stream, run it on
// the simulated reference gantry — then say where everything is and what the simulator concluded.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const out = process.env.HOOKLINE_OUT ?? 'out/example';
const image = 'examples/coffee.png';
const machine = 'machines/ref-gantry.json';

function hookline(...args) {
  process.stdout.write(`$ hookline ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['bin/hookline.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

hookline('plan', image, '-o', out);
hookline('encode', join(out, 'plan.json'), '--machine', machine, '-o', join(out, 'plan.hls'));
hookline('sim', join(out, 'plan.hls'), '--machine', machine, '--plan', join(out, 'plan.json'), '-o', join(out, 'sim'));

const report = JSON.parse(readFileSync(join(out, 'sim', 'report.json'), 'utf8'));
const rel = (p) => relative(process.cwd(), p);
process.stdout.write(
  [
    '',
    `verdict: ${report.ok ? 'OK' : 'FAILED'} — wrapped ${report.wrappedHooks} of ${report.planHooks} planned hooks, ` +
      `${report.violations.length} violations, ${(report.machineSeconds / 3600).toFixed(2)} h of machine time`,
    `  plan      ${rel(join(out, 'plan.json'))}`,
    `  preview   ${rel(join(out, 'preview.png'))}`,
    `  forming   ${rel(join(out, 'forming.gif'))}`,
    `  stream    ${rel(join(out, 'plan.hls'))}`,
    `  report    ${rel(join(out, 'sim', 'report.json'))}, ${rel(join(out, 'sim', 'report.html'))}`,
    `  strung    ${rel(join(out, 'sim', 'strung.png'))}, ${rel(join(out, 'sim', 'build.gif'))}`,
    `  motion    ${rel(join(out, 'sim', 'motion.svg'))}`,
    '',
  ].join('\n'),
);
process.exit(report.ok ? 0 : 1);
