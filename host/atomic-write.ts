import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { UserError, fsErrorText } from './errors';

/** Write a whole file or nothing: the bytes go to a temporary sibling, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  try {
    makeDirs(dir);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot create output directory ${dir}: ${fsErrorText(e)}; choose a writable -o path`);
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UserError(`cannot write ${path}: ${fsErrorText(e)}; choose a writable -o path`);
  }
}

/**
 * mkdir -p, one level at a time: Node 20's `mkdirSync(dir, { recursive: true })` spins for ever
 * where mkdir fails with ENOENT under an existing parent (e.g. below /proc).
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`cannot create output directory ${dir}: a file of that name exists; choose a writable -o path`);
    return;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new UserError(`cannot create output directory ${dir}: ${fsErrorText(e)}; choose a writable -o path`);
    }
  }
}
