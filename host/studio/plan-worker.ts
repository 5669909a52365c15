/**
 * The studio's planner thread: waits for one job, plans it with the CLI's own code (makeMonoPlan /
 * makeColourPlan) and posts the picture as it forms (PlanEvent). The server keeps one of these
 * started ahead (module loading is most of a worker's start-up) and terminates it when a newer
 * change makes its plan stale.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { UserError } from '../errors';
import { makeColourPlan } from '../plan/colour';
import { planGreedy } from '../plan/greedy';
import { colourPreviews } from '../plan/colour-render';
import { makeMonoPlan, threadLengthMm } from '../plan/make';
import { coveragePng } from '../plan/render';
import { scoreMetric } from '../plan/metric';
import type { Plan } from '../plan/types';
import type { PlanArgs } from '../commands/plan';
import type { BoardShape, PlanEvent } from './protocol';

/** What the server sends: parsed `hookline plan` arguments (image = the server's copy of the upload). */
export interface WorkerJob {
  args: PlanArgs;
}

/** What the worker posts: a PlanEvent, or the finished plan and its preview for the downloads. */
export type WorkerMessage = { event: PlanEvent } | { result: { plan: Plan; previewPng: Uint8Array } }
  /**
   * The planner's view of the photo as raw grey or RGB bytes for the server to encode (this thread
   * is held by the planner's loop; encoding a PNG here took ~80 ms before the first lines).
   */
  | { view: { raw: Uint8Array; width: number; height: number; channels: 1 | 3 } };

/** Lines are posted at most this often (ms): often enough to look live, seldom enough to stay cheap. */
const BATCH_MS = 40;

function post(m: WorkerMessage) {
  parentPort!.postMessage(m);
}

function shape(plan: Pick<Plan, 'board' | 'nails' | 'threadWidthMm' | 'colors' | 'background'>): BoardShape {
  return { board: plan.board, nails: plan.nails, threadMm: plan.threadWidthMm, colors: plan.colors, background: plan.background };
}

/** The planner's target (darkness 0..1) as grey bytes (white = 255) for the server to encode. */
function targetGrey(dark: Float32Array): Uint8Array {
  const grey = new Uint8Array(dark.length);
  for (let i = 0; i < dark.length; i++) grey[i] = Math.round(255 * (1 - dark[i]));
  return grey;
}

async function run(job: WorkerJob) {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const o = job.args;
  let lastPost = 0;
  let sent = 0;
  /** Post lines[sent..] when BATCH_MS passed since the last post (the first batch at once). */
  const onLines = (lines: readonly [number, number, number][]) => {
    const now = performance.now();
    if (sent > 0 && now - lastPost < BATCH_MS) return;
    post({ event: { type: 'lines', from: sent, lines: lines.slice(sent), ms: ms() } });
    lastPost = now;
    sent = lines.length;
  };
  if (o.colour) {
    const { plan, stoppedEarly } = await makeColourPlan({
      ...o, ...o.colour,
      onProgress: (f) => post({ event: { type: 'progress', fraction: f } }),
      onColourSetup: (s) => {
        post({ event: { type: 'setup', ms: ms(), board: s.board, nails: s.nails, threadMm: o.threadMm, colors: s.palette, background: o.colour!.background } });
        post({ view: { raw: Uint8Array.from(s.rgb.data, (v) => Math.round(255 * v)), width: s.rgb.width, height: s.rgb.height, channels: 3 } });
      },
      // In the order found (the plan places them reversed); the done event has the placement order.
      onFound: onLines,
    });
    if (plan.lines.length === 0) throw new UserError('no line improves the picture (is it as light as the background?): give a darker image or a lighter background');
    const { preview } = await colourPreviews(plan);
    post({ result: { plan, previewPng: preview } });
    post({ event: { type: 'done', lines: plan.lines, metres: threadLengthMm(plan) / 1000, stoppedEarly, ms: ms(), colorChanges: Math.max(0, (plan.colorChanges?.length ?? 0) - 1), ...shape(plan) } });
    await postScore(plan);
    return;
  }
  const { plan, stoppedEarly, darkness } = await makeMonoPlan({
    ...o,
    onProgress: (f) => post({ event: { type: 'progress', fraction: f } }),
    onSetup: (s) => {
      post({ event: { type: 'setup', ms: ms(), board: s.board, nails: s.nails, threadMm: o.threadMm, colors: ['#000000'], background: '#ffffff' } });
      post({ view: { raw: targetGrey(s.target), width: s.width, height: s.height, channels: 1 } });
    },
    onLines,
  });
  if (plan.lines.length === 0) throw new UserError('no line improves the picture (is it as light as the background?): give a darker image or more contrast');
  const previewPng = await coveragePng(plan, darkness.data, darkness.width, darkness.height);
  post({ result: { plan, previewPng } });
  post({ event: { type: 'done', lines: plan.lines, metres: threadLengthMm(plan) / 1000, stoppedEarly, ms: ms(), colorChanges: 0, ...shape(plan) } });
  await postScore(plan);
}

/**
 * The score waits this long after the plan (ms): it takes a core for 3-4 s (3000 lines: the
 * metric renders at thread width), and while a slider is being moved the next change ends this
 * thread before it starts.
 */
const SCORE_DELAY_MS = 800;

/** The quality metric, as `hookline score` computes it for the plan and its photo. */
async function postScore(plan: Plan) {
  await new Promise((resolve) => setTimeout(resolve, SCORE_DELAY_MS));
  const s = await scoreMetric(plan, plan.source.file);
  post({ event: { type: 'score', rmse: s.rmse, rmseView: s.rmseView, ...(s.ssim !== undefined ? { ssim: s.ssim, ssimView: s.ssimView } : {}) } });
}

/**
 * Warm-up while the worker waits as the spare: sharp's first call in a thread and the planner's
 * first run (before the JIT compiles its loops) are slow; a tiny plan now takes ~100 ms off the
 * time to the first lines of the real one.
 */
async function warmUp() {
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } }).greyscale().raw().toBuffer();
  const n = 48;
  const size = 96;
  const target = new Float32Array(size * size).map((_, i) => ((i % size) / size) * 0.5);
  const hooks = Array.from({ length: n }, (_, i): [number, number] => [size / 2 + (size / 2) * Math.cos((2 * Math.PI * i) / n), size / 2 + (size / 2) * Math.sin((2 * Math.PI * i) / n)]);
  planGreedy({ target, width: size, height: size, hooks, threadPx: 0.2, lines: 200, minGap: 3, flankPairs: true, seed: 1, onPath: () => {} });
  targetGrey(target);
}

const warm = warmUp().catch(() => {});
parentPort!.once('message', (job: WorkerJob) => {
  warm.then(() => run(job)).then(
    () => parentPort!.close(),
    (e) => {
      const message = e instanceof UserError ? e.message : `the planner failed: ${(e as Error)?.message ?? e}`;
      post({ event: { type: 'error', message } });
      parentPort!.close();
    },
  );
});
