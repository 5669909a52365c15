/**
 * hookline studio's HTTP server (docs/studio.md): the page (dist/studio/), photo uploads, plans made
 * in worker threads and streamed to the page as they form, and downloads made by the CLI's own code.
 *
 * Nothing the page sends is used as a file path: uploads are decoded by sharp (size and pixel
 * limits, EXIF orientation), re-encoded, and stored under a name the server picks; machines are
 * chosen by name from the server's list. Bound to 127.0.0.1 it checks the Host header (a web page
 * elsewhere cannot rebind a name to it); bound elsewhere every request must carry the access token.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { UserError } from '../errors';
import { numberFlag } from '../args';
import { packageRoot } from '../package-root';
import { parsePlanArgs } from '../commands/plan';
import { generateGcode, type Dialect } from '../gcode/generate';
import { renderHtml } from '../instructions/html';
import { buildInstructions } from '../instructions/model';
import { checkPlanOnMachine } from '../machine/compat';
import { loadMachine, type AnyMachine } from '../machine/load';
import { machineHash } from '../stream/machine-hash';
import { encodePlan } from '../stream/plan-stream';
import type { Plan } from '../plan/types';
import { planToJson } from '../plan/write';
import { PLAN_FLAG_NAMES, type ImageInfo, type MachineInfo, type PlanEvent, type PlanRequest, type SimEvent } from './protocol';
import type { WorkerJob, WorkerMessage } from './plan-worker';
import type { SimJob } from './sim-worker';
import { CropError, checkCrop, cropKey, cutCrop, isIdentityCrop } from './crop';
import { startMachine, studioStateDir } from './machine-session';

/** Largest upload, bytes. */
export const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
/** Largest photo, pixels (a 48-megapixel phone photo fits; 12000×9000 does not). */
export const MAX_UPLOAD_PIXELS = 50_000_000;
/** Uploads are stored with their longer side at most this: the planner and the metric work at 512 px across the board (a 2048 px copy took ~70 ms more to decode per plan). */
const STORED_SIDE = 1024;
/** Uploads kept (oldest dropped first), and finished plans kept for downloads. */
const KEEP_IMAGES = 16;
const KEEP_JOBS = 16;
/** Plans running at once; a newer one ends the oldest (two cores: more would only slow each). */
const MAX_RUNNING = 2;
/** Largest JSON request body, bytes. */
const MAX_JSON_BYTES = 64 * 1024;

export interface StudioOptions {
  host: string;
  port: number;
  /** Required on every request when set (a non-loopback --host). */
  token?: string;
}

export interface Studio {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An error answered with this status and a one-line message. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface StoredImage {
  id: string;
  file: string;
  info: ImageInfo;
  /** Cut copies of this photo by crop (cropKey → file), made once each (host/studio/crop.ts). */
  crops?: Map<string, Promise<string>>;
}
interface Job {
  id: string;
  worker: Worker | null;
  res: ServerResponse | null;
  plan?: Plan;
  previewPng?: Uint8Array;
  finished: boolean;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A new random access token (URL-safe). */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** The machine profiles in machines/, loaded and checked once. */
function loadMachines(root: string): Map<string, { info: MachineInfo; profile: AnyMachine; file: string }> {
  const out = new Map<string, { info: MachineInfo; profile: AnyMachine; file: string }>();
  const dir = join(root, 'machines');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const profile = loadMachine(join(dir, f));
    const name = f.replace(/\.json$/, '');
    out.set(name, {
      profile,
      file: join(dir, f),
      info: {
        name, kind: profile.kind, hooks: profile.hooks.count, diameterMm: profile.hooks.diameterMm,
        hookMm: profile.hooks.hookDiameterMm, threadMm: profile.thread.widthMm, description: (profile as { description?: string }).description ?? '',
      },
    });
  }
  return out;
}

/** Read a request body up to `limit` bytes; over it: 413 (the rest is drained, not kept). */
function readBody(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const tooBig = () => new HttpError(413, `${what} is larger than ${Math.round(limit / 1024 / 1024) || limit / 1024} ${limit >= 1024 * 1024 ? 'MB' : 'KB'}; give a smaller file`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooBig());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (over) reject(tooBig());
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
    // The page went away mid-upload: nothing to answer.
    req.on('close', () => !ended && reject(new HttpError(400, 'the upload broke off')));
  });
}

/** Decode an upload (JPEG, PNG or WebP) the way a phone user expects it (EXIF orientation) and re-encode it. */
export async function normaliseUpload(bytes: Buffer): Promise<{ jpeg: Buffer; width: number; height: number }> {
  if (bytes.length === 0) throw new HttpError(400, 'the file is empty (0 bytes); choose a photo (JPEG, PNG or WebP)');
  let meta;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata(); // header only
  } catch {
    throw new HttpError(415, 'this file is not a picture (JPEG, PNG or WebP) the studio can read; choose a photo');
  }
  if (meta.format !== 'jpeg' && meta.format !== 'png' && meta.format !== 'webp') {
    throw new HttpError(415, `this file is ${meta.format ? `a ${meta.format.toUpperCase()} image` : 'not a picture'}; choose a JPEG, PNG or WebP photo`);
  }
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  if (w * h > MAX_UPLOAD_PIXELS) {
    throw new HttpError(413, `the photo is ${w}×${h} px (${(w * h / 1e6).toFixed(0)} megapixels), over the studio's ${MAX_UPLOAD_PIXELS / 1e6}-megapixel limit; scale it down first`);
  }
  if (Math.min(w, h) < 16) throw new HttpError(400, `the photo is ${w}×${h} px; give at least 16×16 px`);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_UPLOAD_PIXELS, failOn: 'truncated' })
      .rotate() // EXIF orientation
      .flatten({ background: '#ffffff' })
      .resize(STORED_SIDE, STORED_SIDE, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 92 })
      .toBuffer({ resolveWithObject: true });
    return { jpeg: data, width: info.width, height: info.height };
  } catch (e) {
    const msg = String((e as Error)?.message ?? e).split('\n')[0];
    if (/pixel limit/i.test(msg)) throw new HttpError(413, `the photo is over the studio's ${MAX_UPLOAD_PIXELS / 1e6}-megapixel limit; scale it down first`);
    throw new HttpError(415, `the photo's data is damaged or truncated (${msg.trim()}); choose another file`);
  }
}

export async function startStudio(o: StudioOptions): Promise<Studio> {
  const root = packageRoot();
  const webDir = join(root, 'dist', 'studio');
  const workerFile = join(root, 'dist', 'host', 'studio-worker.mjs');
  const simWorkerFile = join(root, 'dist', 'host', 'studio-sim-worker.mjs');
  /** The simulation running (one at a time: a newer one ends it). */
  let sim: { worker: Worker; res: ServerResponse; job: string; control: Int32Array } | null = null;
  const machines = loadMachines(root);
  // The machine (serial ports, the simulated machine, one run): host/studio/machine-session.ts.
  const machine = startMachine({ stateDir: studioStateDir(), machines, planFor: (id) => jobs.get(id)?.plan ?? 'no such plan on the server (it keeps the last few; plan again)' });
  const store = mkdtempSync(join(tmpdir(), 'hookline-studio-'));
  const images = new Map<string, StoredImage>();
  const jobs = new Map<string, Job>();
  const running: Job[] = [];
  let closed = false;
  let port = o.port;

  // One worker is kept started ahead: loading the planner's modules is most of a worker's start-up.
  const spawn = () => {
    const w = new Worker(workerFile);
    w.on('error', () => {}); // reported per job below
    // A spare that dies waiting (it failed to load) is dropped, so no plan is handed to it.
    w.on('exit', () => {
      if (spare === w) spare = null;
    });
    return w;
  };
  let spare: Worker | null = null; // started once the server listens
  let spareTimer: NodeJS.Timeout | null = null;
  /**
   * The next spare starts when no plan runs, or 0.4 s after the last one started (once its first
   * lines are out): started at once it would take a core from the plan that just began (two
   * cores: measured +100 ms to its first lines).
   */
  const refillSpare = (delayMs: number) => {
    if (closed || spare) return;
    if (spareTimer) clearTimeout(spareTimer);
    spareTimer = setTimeout(() => {
      spareTimer = null;
      if (!closed && !spare) spare = spawn();
    }, delayMs);
  };
  const takeWorker = (): Worker => {
    const w = spare ?? spawn();
    spare = null;
    refillSpare(400);
    return w;
  };

  const endJob = (job: Job, message?: string) => {
    if (message && job.res && !job.res.writableEnded) job.res.write(`${JSON.stringify({ type: 'error', message } satisfies PlanEvent)}\n`);
    if (job.res && !job.res.writableEnded) job.res.end();
    if (job.worker) void job.worker.terminate();
    job.worker = null;
    job.finished = true;
    const i = running.indexOf(job);
    if (i >= 0) running.splice(i, 1);
    if (running.length === 0) refillSpare(0);
  };

  const send = (res: ServerResponse, status: number, body: string | Uint8Array, type: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

  const finishedJob = (id: string): Job & { plan: Plan } => {
    const job = jobs.get(id);
    if (!job) throw new HttpError(404, 'no such plan (the server keeps the last few; plan again)');
    if (!job.plan) throw new HttpError(409, 'the plan is not finished yet');
    return job as Job & { plan: Plan };
  };
  const machineByName = (name: string | null | undefined) => {
    if (!name) return null;
    const m = machines.get(name);
    if (!m) throw new HttpError(400, `no machine '${name}'; choose one of ${[...machines.keys()].join(', ')}`);
    return m;
  };

  async function startPlan(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req, MAX_JSON_BYTES, 'the request');
    let r: PlanRequest;
    try {
      r = JSON.parse(body.toString('utf8')) as PlanRequest;
    } catch {
      throw new HttpError(400, 'the request is not JSON');
    }
    if (!r || typeof r !== 'object' || typeof r.image !== 'string') throw new HttpError(400, 'the request names no image');
    const image = images.get(r.image);
    if (!image) throw new HttpError(404, 'that photo is no longer on the server (it restarted?); drop it in again');
    let photoFile = image.file;
    if (r.crop !== undefined) {
      let crop;
      try {
        crop = checkCrop(r.crop);
      } catch (e) {
        if (e instanceof CropError) throw new HttpError(400, e.message);
        throw e;
      }
      if (!isIdentityCrop(crop)) photoFile = await croppedFile(image, crop);
    }
    const flags: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.flags ?? {})) {
      if (!(PLAN_FLAG_NAMES as readonly string[]).includes(k)) throw new HttpError(400, `unknown planner option '${k}'`);
      if (typeof v !== 'string') throw new HttpError(400, `planner option '${k}' must be text`);
      if (v.trim() !== '') flags[k] = v;
    }
    const m = machineByName(r.machine);
    if (m) {
      Object.assign(flags, { hooks: String(m.info.hooks), 'board-mm': String(m.info.diameterMm), 'hook-mm': String(m.info.hookMm), 'thread-mm': String(m.info.threadMm), frame: 'circle' });
    }
    const argv = [photoFile, '-o', 'studio', '--quiet', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}=${v}`])];
    if (r.importance !== undefined) {
      const mask = typeof r.importance === 'string' ? images.get(r.importance) : undefined;
      if (!mask) throw new HttpError(404, 'that importance mask is no longer on the server; paint it again');
      argv.push(`--importance=${mask.file}`);
    }
    let args;
    try {
      args = parsePlanArgs(argv);
    } catch (e) {
      if (e instanceof UserError) throw new HttpError(400, e.message);
      throw e;
    }
    if (args.colour && (args.contrast !== undefined || args.gamma !== undefined || args.passes !== undefined || args.importance !== undefined)) {
      throw new HttpError(400, 'contrast, gamma, passes and the importance brush are for one-colour plans; clear them for a colour plan');
    }
    while (running.length >= MAX_RUNNING) endJob(running[0], 'stopped: a newer plan started');
    const job: Job = { id: randomUUID(), worker: takeWorker(), res, finished: false };
    jobs.set(job.id, job);
    for (const id of jobs.keys()) {
      if (jobs.size <= KEEP_JOBS) break;
      const old = jobs.get(id)!;
      if (old.finished) jobs.delete(id);
    }
    running.push(job);
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const write = (e: PlanEvent) => {
      if (!res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
    };
    write({ type: 'job', job: job.id });
    // The page aborting the request (a newer change, a closed tab) stops the plan.
    res.on('close', () => {
      if (!job.finished) endJob(job);
    });
    const w = job.worker!;
    w.on('message', (msg: WorkerMessage) => {
      if (job.finished) return;
      if ('result' in msg) {
        job.plan = msg.result.plan;
        job.previewPng = msg.result.previewPng;
        return;
      }
      if ('view' in msg) {
        const v = msg.view;
        const png = sharp(Buffer.from(v.raw), { raw: { width: v.width, height: v.height, channels: v.channels } }).png().toBuffer();
        png.then((b) => !job.finished && write({ type: 'view', view: b.toString('base64') }), () => {});
        return;
      }
      write(msg.event);
      if (msg.event.type === 'error') endJob(job);
    });
    w.on('error', (e) => endJob(job, `the planner failed: ${e.message}`));
    w.on('exit', () => {
      if (job.finished) return;
      // The score comes after the plan; a plan without it is still complete.
      endJob(job, job.plan ? undefined : 'the planner stopped without a plan');
    });
    w.postMessage({ args } satisfies WorkerJob);
  }

  /** Run a finished plan on the simulated machine (as `hookline sim`), streaming progress and the verdict. */
  async function startSim(req: IncomingMessage, res: ServerResponse, jobId: string) {
    const body = await readBody(req, MAX_JSON_BYTES, 'the request');
    let r: { machine?: string; maxMachineSeconds?: unknown };
    try {
      r = JSON.parse(body.toString('utf8') || '{}') as { machine?: string };
    } catch {
      throw new HttpError(400, 'the request is not JSON');
    }
    const limit = r.maxMachineSeconds;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 1 || limit > 31_536_000)) {
      throw new HttpError(400, `maxMachineSeconds ${JSON.stringify(limit)} is not a time limit; give seconds of machine time, 1 to 31536000 (as hookline sim --max-machine-seconds)`);
    }
    const job = finishedJob(jobId);
    const m = machineByName(r.machine ?? 'ref-gantry')!;
    try {
      checkPlanOnMachine(job.plan, m.profile, 'the plan', `machines/${m.info.name}.json`);
    } catch (e) {
      if (e instanceof UserError) throw new HttpError(400, e.message);
      throw e;
    }
    if (sim) {
      if (!sim.res.writableEnded) sim.res.end(`${JSON.stringify({ type: 'error', message: 'stopped: a newer simulation started' } satisfies SimEvent)}\n`);
      stopSim(sim);
    }
    const worker = new Worker(simWorkerFile);
    const control = new SharedArrayBuffer(4);
    const mine = { worker, res, job: jobId, control: new Int32Array(control) };
    sim = mine;
    let ended = false;
    const end = (e?: SimEvent) => {
      if (ended) return;
      ended = true;
      if (e && !res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
      if (!res.writableEnded) res.end();
      stopSim(mine);
      if (sim === mine) sim = null;
    };
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.on('close', () => end());
    worker.on('message', (e: SimEvent) => {
      if (ended) return;
      res.write(`${JSON.stringify(e)}\n`);
      if (e.type === 'result' || e.type === 'error') end();
    });
    worker.on('error', (e) => end({ type: 'error', message: `the simulator failed: ${e.message}` }));
    worker.on('exit', () => end({ type: 'error', message: 'the simulator stopped without a verdict' }));
    worker.postMessage({ plan: job.plan, machineFile: m.file, machineName: m.info.name, control, ...(typeof limit === 'number' ? { maxMachineSeconds: limit } : {}) } satisfies SimJob);
  }

  /** End a simulation's thread (a paused one is let go first: it waits on its control flag). */
  function stopSim(s: { worker: Worker; control: Int32Array }) {
    Atomics.store(s.control, 0, 0);
    Atomics.notify(s.control, 0);
    void s.worker.terminate();
  }

  /** POST /api/plan/JOB/sim/pause|resume: hold the running simulation's thread, or let it go on. */
  function pauseSim(res: ServerResponse, jobId: string, pause: boolean) {
    if (!sim || sim.job !== jobId) throw new HttpError(409, 'no simulation of this plan is running; start one with Simulate');
    Atomics.store(sim.control, 0, pause ? 1 : 0);
    if (!pause) Atomics.notify(sim.control, 0);
    sendJson(res, 200, { paused: pause });
  }

  /** The photo cut to `crop`, as a file the planner reads (made once per photo and crop; the last few kept). */
  function croppedFile(image: StoredImage, crop: ReturnType<typeof checkCrop>): Promise<string> {
    image.crops ??= new Map();
    const key = cropKey(crop);
    let made = image.crops.get(key);
    if (!made) {
      const file = join(store, `${image.id}-${image.crops.size}-${Date.now().toString(36)}.jpg`);
      made = cutCrop(image.file, image.info.width, image.info.height, crop).then((jpeg) => {
        writeFileSync(file, jpeg);
        return file;
      });
      made.catch(() => image.crops?.delete(key));
      image.crops.set(key, made);
      // The plans kept for downloads may name older copies: keep the last KEEP_JOBS.
      for (const [k, f] of image.crops) {
        if (image.crops.size <= KEEP_JOBS) break;
        image.crops.delete(k);
        void f.then((x) => rmSync(x, { force: true }), () => {});
      }
    }
    return made.catch((e) => {
      if (e instanceof CropError) throw new HttpError(400, e.message);
      throw e;
    });
  }

  async function upload(req: IncomingMessage, res: ServerResponse) {
    const bytes = await readBody(req, MAX_UPLOAD_BYTES, 'the photo');
    const { jpeg, width, height } = await normaliseUpload(bytes);
    const id = randomUUID();
    const file = join(store, `${id}.jpg`);
    writeFileSync(file, jpeg);
    const info: ImageInfo = { id, width, height, bytes: bytes.length };
    images.set(id, { id, file, info });
    for (const [k, v] of images) {
      if (images.size <= KEEP_IMAGES) break;
      rmSync(v.file, { force: true });
      for (const f of v.crops?.values() ?? []) void f.then((x) => rmSync(x, { force: true }), () => {});
      images.delete(k);
    }
    sendJson(res, 200, info);
  }

  async function download(res: ServerResponse, jobId: string, what: string, q: URLSearchParams) {
    const job = finishedJob(jobId);
    const plan = job.plan;
    const attach = (name: string) => ({ 'content-disposition': `attachment; filename="${name}"` });
    const checked = (m: { profile: AnyMachine; info: MachineInfo }) => {
      try {
        checkPlanOnMachine(plan, m.profile, 'the plan', `machines/${m.info.name}.json`);
      } catch (e) {
        if (e instanceof UserError) throw new HttpError(400, e.message);
        throw e;
      }
    };
    try {
      if (what === 'plan.json') return send(res, 200, planToJson(plan), 'application/json; charset=utf-8', attach('plan.json'));
      if (what === 'preview.png') return send(res, 200, job.previewPng!, 'image/png', q.has('inline') ? {} : attach('preview.png'));
      if (what === 'instructions.pdf' || what === 'instructions.html') {
        const ins = buildInstructions(plan, 'plan.json');
        if (what === 'instructions.html') return send(res, 200, renderHtml(ins), 'text/html; charset=utf-8', attach('instructions.html'));
        const { renderPdf } = await import('../instructions/pdf');
        return send(res, 200, await renderPdf(ins), 'application/pdf', attach('instructions.pdf'));
      }
      if (what === 'plan.hls') {
        const m = machineByName(q.get('machine'));
        if (m) checked(m);
        return send(res, 200, encodePlan(plan, { machineHash: m ? machineHash(m.profile) : 0 }), 'application/octet-stream', attach('plan.hls'));
      }
      if (what === 'plan.gcode') {
        const m = machineByName(q.get('machine'));
        if (!m) throw new HttpError(400, 'G-code needs a machine: choose a gantry machine profile');
        if (m.profile.kind === 'ring') throw new HttpError(400, `${m.info.name} is a ring machine; G-code is for XY gantries`);
        const dialect = (q.get('dialect') ?? 'grbl') as Dialect;
        if (dialect !== 'grbl' && dialect !== 'marlin') throw new HttpError(400, `unknown G-code dialect '${dialect}'; use grbl or marlin`);
        // The nozzle's lift as `hookline gcode --lift z|servo --servo-up S --servo-down S` takes it.
        const mode = q.get('lift') ?? 'z';
        if (mode !== 'z' && mode !== 'servo') throw new HttpError(400, `unknown lift '${mode}'; use z (the Z axis) or servo`);
        const servo = (k: 'servo-up' | 'servo-down') => {
          const v = q.get(k);
          if (mode === 'z') return 0;
          if (v === null || v.trim() === '') throw new HttpError(400, 'a servo lift needs the servo values for nozzle up and down (S); give both');
          return numberFlag(k, v, 0, { min: 0, max: 100000 });
        };
        const servoUp = servo('servo-up');
        const servoDown = servo('servo-down');
        checked(m);
        const g = generateGcode(plan, m.profile, { dialect, lift: { mode, servoUp, servoDown }, planName: 'plan.json' });
        return send(res, 200, g.text, 'text/plain; charset=utf-8', attach(`plan-${dialect}${mode === 'servo' ? '-servo' : ''}.gcode`));
      }
    } catch (e) {
      if (e instanceof UserError) throw new HttpError(400, e.message);
      throw e;
    }
    throw new HttpError(404, `no download '${what}'`);
  }

  function staticFile(res: ServerResponse, name: string) {
    let body: Buffer;
    try {
      body = readFileSync(join(webDir, name));
    } catch {
      throw new HttpError(name === 'index.html' ? 500 : 404, name === 'index.html' ? "the studio page is not built (dist/studio/); run 'npm run build'" : 'not found');
    }
    send(res, 200, body, CONTENT_TYPES[extname(name)] ?? 'application/octet-stream');
  }

  const tokenOk = (req: IncomingMessage, url: URL): boolean => {
    if (!o.token) return true;
    const want = Buffer.from(o.token);
    const given = [url.searchParams.get('token'), req.headers['x-hookline-token'] as string | undefined,
      /(?:^|;\s*)hookline_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1]];
    return given.some((g) => typeof g === 'string' && g.length === want.length && timingSafeEqual(Buffer.from(g), want));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://studio');
    if (o.token) {
      if (!tokenOk(req, url)) throw new HttpError(403, 'this studio needs its access token: open the address hookline studio printed (with ?token=…)');
      if (url.searchParams.has('token') && req.method === 'GET' && url.pathname === '/') {
        // Keep the token in a cookie and take it out of the address bar.
        res.writeHead(303, { location: '/', 'set-cookie': `hookline_token=${o.token}; HttpOnly; SameSite=Strict; Path=/` });
        return res.end();
      }
    } else {
      // Bound to loopback: only this machine's names (DNS rebinding cannot reach the API).
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host.replace(/^\[|\]$/g, ''))) throw new HttpError(403, `this studio answers to 127.0.0.1 or localhost only, not '${host}'`);
    }
    const p = url.pathname;
    if (req.method === 'POST') {
      // A custom header: a page on another site cannot send it without a CORS preflight, which this server never grants.
      if (req.headers['x-hookline'] !== '1') throw new HttpError(403, 'requests from the studio page only');
      if (p === '/api/image') return upload(req, res);
      if (machine.handle(req, res, p)) return;
      if (p === '/api/plan') return startPlan(req, res);
      const sm = /^\/api\/plan\/([0-9a-f-]{36})\/sim$/.exec(p);
      if (sm) return startSim(req, res, sm[1]);
      const pm = /^\/api\/plan\/([0-9a-f-]{36})\/sim\/(pause|resume)$/.exec(p);
      if (pm) return pauseSim(res, pm[1], pm[2] === 'pause');
      throw new HttpError(404, 'not found');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not supported`);
    if (p === '/' || p === '/index.html') return staticFile(res, 'index.html');
    if (p === '/app.js' || p === '/app.css' || p === '/app.js.map') return staticFile(res, p.slice(1));
    if (p === '/api/machines') return sendJson(res, 200, [...machines.values()].map((m) => m.info));
    if (machine.handle(req, res, p)) return;
    let mt = /^\/api\/image\/([0-9a-f-]{36})$/.exec(p);
    if (mt) {
      const img = images.get(mt[1]);
      if (!img) throw new HttpError(404, 'that photo is no longer on the server; drop it in again');
      return send(res, 200, readFileSync(img.file), 'image/jpeg');
    }
    mt = /^\/api\/plan\/([0-9a-f-]{36})\/([a-z.]+)$/.exec(p);
    if (mt) return download(res, mt[1], mt[2], url.searchParams);
    throw new HttpError(404, 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof HttpError ? e.message : `internal error: ${(e as Error)?.message ?? e}`;
      if (status === 500) process.stderr.write(`hookline studio: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}\n`);
      if (res.headersSent) {
        if (!res.writableEnded) res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(status === 413 ? { connection: 'close' } : {}) });
      res.end(JSON.stringify({ error: message }));
    });
  });
  server.requestTimeout = 0; // plan streams run as long as the plan
  // Idle keep-alive connections stay open a minute (Node's default, 5 s, races a client reusing the
  // connection just as the server closes it: the request fails, and a browser does not retry a POST).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new UserError(e.code === 'EADDRINUSE' ? `studio: port ${o.port} is in use; give another with --port N (0: any free port)`
        : e.code === 'EADDRNOTAVAIL' ? `studio: --host ${o.host} is not an address of this machine`
          : e.code === 'EACCES' ? `studio: no permission to listen on port ${o.port}; give a port above 1023`
            : `studio: cannot listen on ${o.host}:${o.port}: ${e.message}`));
    });
    server.listen(o.port, o.host, () => resolve());
  });
  spare = spawn();
  const addr = server.address();
  if (addr && typeof addr === 'object') port = addr.port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/${o.token ? `?token=${o.token}` : ''}`,
    port,
    async close() {
      closed = true;
      if (sim) stopSim(sim);
      await machine.close();
      if (spareTimer) clearTimeout(spareTimer);
      for (const j of [...running]) endJob(j, 'the server is stopping');
      if (spare) await spare.terminate();
      spare = null;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(store, { recursive: true, force: true });
    },
  };
}
