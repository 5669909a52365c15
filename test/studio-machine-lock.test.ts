import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliAsync, tempDir } from './helpers/cli';
import { startStudio, type RunningStudio } from './studio-helpers';

// One studio per state directory (docs/studio.md, "Run the machine"): the run file and the simulated
// machine's record are the studio's; a second studio on the same directory stops with one line, and a
// lock left by a studio that is gone is taken over.
const stateDir = tempDir('hookline-studio-lock-');
process.env.HOOKLINE_STUDIO_STATE = stateDir;
const lock = join(stateDir, 'studio.lock');

describe('studio: the state directory is locked', () => {
  let first: RunningStudio | null = null;
  afterAll(async () => {
    await first?.stop();
  });

  it('a second studio on the same state directory stops with one line naming the first; after the first stops, the directory is free', async () => {
    first = await startStudio();
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(first.child.pid));
    const second = await runCliAsync(['studio', '--port', '0'], 30_000);
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(`hookline: studio: another hookline studio (pid ${first.child.pid}) uses the state directory ${stateDir} (its machine run and simulated machine); stop it, or start this one with its own: HOOKLINE_STUDIO_STATE=DIR hookline studio\n`);
    expect(await first.stop()).toBe(0);
    first = null;
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock whose studio is gone (killed) is taken over', async () => {
    // A pid that is no process (beyond the kernel's pid_max), as a killed studio leaves behind.
    writeFileSync(lock, '99999999\n');
    first = await startStudio();
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(first.child.pid));
  });
});
