// Bundle hookline studio's page (web/, Preact + TypeScript) into dist/studio/: app.js, app.css and
// index.html, all served by the studio server itself (no CDN: the machine may be offline).
// Called by scripts/build-host.mjs; files are replaced atomically like the CLI's.
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

const outdir = resolve('dist/studio');
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { app: 'web/main.tsx' },
  outdir,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
});
const put = (path, contents) => {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
};
for (const f of result.outputFiles) put(f.path, f.contents);
for (const f of ['web/style.css', 'web/index.html']) {
  const to = join(outdir, basename(f) === 'style.css' ? 'app.css' : basename(f));
  copyFileSync(f, `${to}.${process.pid}.tmp`);
  renameSync(`${to}.${process.pid}.tmp`, to);
}
