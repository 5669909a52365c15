import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Limits for a hang, not for speed: a test asserts its real condition (it ends, with the right
    // message; a protocol event arrives) and must pass on a busy machine, where work takes several
    // times as long as on an idle one. Speed is measured by the benches (bench/).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Vitest's default is one worker per core but one; on 2 cores that is a single worker, idle
    // while a file waits on child processes and real-time devices (hil, link-session, flash over a
    // pty); two at a time keep both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
  },
});
