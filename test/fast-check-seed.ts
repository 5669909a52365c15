/**
 * Property tests run the same cases on every run (CI must not fail one time in a thousand on a
 * case nobody can reproduce). HOOKLINE_FC_SEED=random explores new cases; a failure prints its seed,
 * and HOOKLINE_FC_SEED=<that seed> replays it.
 */
import fc from 'fast-check';

const env = process.env.HOOKLINE_FC_SEED;
if (env !== 'random') fc.configureGlobal({ seed: env === undefined ? 20261125 : Number(env) });
