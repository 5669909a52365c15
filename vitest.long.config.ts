import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// `npm run test:long`: end-to-end runs on real firmware that take minutes each (the studio driving
// stock Grbl and ConfigurableFirmata on the simulated Uno from the page). Kept out of `npm test`,
// which must stay under 15 minutes on 2 cores; run them before touching the studio's machine code.
export default defineConfig({ ...base, test: { ...base.test, include: ['test/**/*.long-test.ts'] } });
