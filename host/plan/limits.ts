// Apart from load.ts so that the planner can read them without loading plan.json's schema (zod).
/**
 * Limits (docs/plan-format.md, "Limits"). A plan's cost grows with its lines: `score` ~0.13 ms per
 * line, `estimate` ~0.2 ms, `encode` ~8 µs and ~0.5 KB of memory each; a 5-million-line plan took
 * minutes and gigabytes. Real pieces have 2 000–15 000 lines (a hook holds ~70 wraps of 0.12 mm
 * thread: 160 hooks take ~11 700 lines), so 100 000 is far above any buildable plan and keeps every
 * command under ~15 s.
 */
export const MAX_PLAN_LINES = 100_000;
/** Hooks in a plan: the planner's and --layout's limit. */
export const MAX_PLAN_HOOKS = 2000;
/** plan.json bytes read at most: a 100 000-line plan is ~2 MB; refused before reading. */
export const MAX_PLAN_BYTES = 32 * 1024 * 1024;
/** Thread width, mm: thicker is rope (the planner's --thread-mm goes to this too). */
export const MAX_THREAD_MM = 5;
