/**
 * What the studio server and its page say to each other (docs/studio.md). Type-only: the page
 * (web/) imports these too, so nothing here may touch Node.
 */

/** The planner options the page may set: `hookline plan` flags (without the dashes) and their text values. */
export type PlanFlags = Partial<Record<PlanFlagName, string>>;

/**
 * The `hookline plan` flags the page offers. Not --layout or --importance (they name files: the
 * server never opens a path the page gives) and not -o or --quiet (the server keeps results in memory).
 */
export const PLAN_FLAG_NAMES = [
  'hooks', 'lines', 'board-mm', 'thread-mm', 'frame', 'min-gap', 'flanks', 'hook-mm', 'contrast', 'gamma', 'passes', 'method', 'seed',
  'palette', 'colors', 'background', 'lines-per-color', 'groups', 'order',
] as const;
export type PlanFlagName = (typeof PLAN_FLAG_NAMES)[number];

/** POST /api/plan body. */
export interface PlanRequest {
  /** An id from POST /api/image. */
  image: string;
  /** A machine's name from GET /api/machines: its hooks, board, hook and thread sizes replace those flags. */
  machine?: string;
  /** An id from POST /api/image: the importance mask (`--importance`: white = detail matters), one-colour plans. */
  importance?: string;
  /** How the photo is framed (host/studio/crop.ts); none: the centre crop. Checked and clamped by the server. */
  crop?: Crop;
  flags: PlanFlags;
}

/**
 * The photo's framing: turned `rotate` degrees clockwise about its centre, then a square window
 * min(width, height)/zoom pixels across, centred on the photo point (x·width, y·height) of the
 * upright photo (x, y in 0..1). The window is the board: the planner plans for exactly it.
 */
export interface Crop {
  rotate: number;
  zoom: number;
  x: number;
  y: number;
}

/** GET /api/machines: the profiles in machines/, by name. */
export interface MachineInfo {
  name: string;
  kind: 'gantry' | 'ring';
  hooks: number;
  diameterMm: number;
  hookMm: number;
  threadMm: number;
  description: string;
}

/** POST /api/image answer. */
export interface ImageInfo {
  id: string;
  width: number;
  height: number;
  /** Bytes uploaded. */
  bytes: number;
}

/** The board and nails in millimetres (plan.json's), for drawing. */
export interface BoardShape {
  board: { widthMm: number; heightMm: number; frame: 'circle' | 'rect' };
  nails: [number, number][];
  threadMm: number;
  colors: string[];
  background: string;
}

/** One event of the plan stream (POST /api/plan answers with one JSON object per line). */
export type PlanEvent =
  | { type: 'job'; job: string }
  /** The board and its hooks, before the first lines. */
  | ({ type: 'setup'; ms: number } & BoardShape)
  /** The planner's view of the photo (PNG, base64): the picture it plans for. */
  | { type: 'view'; view: string }
  /** Lines chosen so far: lines[from..] are new (earlier ones are resent only when `from` is 0). */
  | { type: 'lines'; from: number; lines: [number, number, number][]; ms: number }
  | { type: 'progress'; fraction: number }
  /** The plan is complete; `lines` is the final list (the planner may cut the last few it streamed). */
  | ({ type: 'done'; lines: [number, number, number][]; metres: number; stoppedEarly: boolean; ms: number; colorChanges: number } & BoardShape)
  /** The quality metric as `hookline score` computes it (docs/plan-format.md), after done; SSIM for one-colour plans. */
  | { type: 'score'; rmse: number; rmseView: number; ssim?: number; ssimView?: number }
  | { type: 'error'; message: string };

/** One event of the simulation stream (POST /api/plan/JOB/sim answers with one JSON object per line). */
export type SimEvent =
  | { type: 'progress'; fraction: number }
  /** POST /api/plan/JOB/sim/pause took effect (the simulator's thread waits), and …/resume did. */
  | { type: 'paused'; fraction: number }
  | { type: 'resumed' }
  /** The verdict, as `hookline sim` reports it (sim/simulate.ts), and what the motion actually strung (PNG, base64). */
  | {
    type: 'result';
    ok: boolean;
    machine: string;
    plannedHooks: number;
    wrappedHooks: number;
    machineSeconds: number;
    floorSeconds: number;
    threadMeters: number;
    maxPileMm: number;
    violationCount: number;
    /**
     * The first few violations (kind, message, machine time in s, hook), each placed on the board
     * (mm): at its hook, else at the hook wrapped last before it; `line`: the plan line being strung.
     */
    violations: { kind: string; message: string; seconds: number; hook?: number; x: number; y: number; line: number }[];
    /** The machine's board and hook centres (mm), the nozzle's path from the step edges (board mm; low = 1 while below the hook heads, or a ring arm's inside pass). */
    board: { widthMm: number; heightMm: number };
    hooks: [number, number][];
    path: { xs: number[]; ys: number[]; low: number[] };
    /** Machine time (s) at which each 1/100 of the wrapped hooks was reached (101 values; the timeline's progress curve). */
    wrapSeconds: number[];
    /** Each thread colour's start (plan.colorChanges) at the machine time its first line's hook was wrapped. */
    colourStarts: { seconds: number; colour: string; line: number }[];
    /** Where the wrapped hooks first differ from the plan (path index, 0 = start hook), or null. */
    firstMismatch: { index: number; expectedHook: number | null; wrappedHook: number | null } | null;
    strung: string;
    wallSeconds: number;
  }
  | { type: 'error'; message: string };
