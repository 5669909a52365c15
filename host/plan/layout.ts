import type { Plan } from './types';

export type Board = Plan['board'];

export interface HookLayout {
  /** Hook centres in mm, board coordinates (origin top-left, y down). */
  nails: [number, number][];
  /** rect frames: which side each hook sits on (0 top, 1 right, 2 bottom, 3 left); circle: all -1. */
  sides: Int8Array;
}

/**
 * Default inset of the hook centres from the board edge: none. The board size is the size of the
 * hook ring (a "600 mm board" is a 600 mm circle of hooks, as on the reference machines), so the
 * picture fills the whole board and the metric's frame is the ring itself.
 */
export function defaultMarginMm(_board: Board): number {
  return 0;
}

/**
 * Place `count` hooks. circle: evenly on a circle of diameter min(width, height) − 2·margin,
 * hook 0 at the top, indices increasing clockwise. rect: evenly by arc length along the perimeter
 * of the board inset by `margin`, clockwise from the top-left corner, half a spacing in so no
 * hook sits exactly on a corner.
 */
export function layoutHooks(board: Board, count: number, marginMm = defaultMarginMm(board)): HookLayout {
  const { widthMm: w, heightMm: h } = board;
  const nails: [number, number][] = [];
  const sides = new Int8Array(count).fill(-1);
  if (board.frame === 'circle') {
    const r = Math.min(w, h) / 2 - marginMm;
    for (let k = 0; k < count; k++) {
      const a = (2 * Math.PI * k) / count - Math.PI / 2;
      nails.push([w / 2 + r * Math.cos(a), h / 2 + r * Math.sin(a)]);
    }
    return { nails, sides };
  }
  const iw = w - 2 * marginMm;
  const ih = h - 2 * marginMm;
  const perimeter = 2 * (iw + ih);
  for (let k = 0; k < count; k++) {
    let s = ((k + 0.5) * perimeter) / count;
    let side = 0;
    const lengths = [iw, ih, iw, ih];
    while (side < 3 && s >= lengths[side]) s -= lengths[side++];
    const p: [number, number] =
      side === 0 ? [marginMm + s, marginMm]
      : side === 1 ? [w - marginMm, marginMm + s]
      : side === 2 ? [w - marginMm - s, h - marginMm]
      : [marginMm, h - marginMm - s];
    nails.push(p);
    sides[k] = side;
  }
  return { nails, sides };
}

/**
 * The two flanks of each hook (docs/plan-format.md "Flanks"): a thread touches a hook of radius
 * r on one side, at the centre ∓ r·t where t is the unit tangent of the frame at the hook
 * (clockwise). Nail 2h is hook h's counter-clockwise flank, nail 2h+1 its clockwise flank, so the
 * nails stay in ring order. `radiusMm` is the hook radius plus half the thread.
 */
export function flankNails(hooks: [number, number][], board: Board, sides: Int8Array | undefined, radiusMm: number): [number, number][] {
  const out: [number, number][] = [];
  const cx = board.widthMm / 2;
  const cy = board.heightMm / 2;
  hooks.forEach(([x, y], h) => {
    let tx: number;
    let ty: number;
    const side = sides ? sides[h] : -1;
    if (side >= 0) {
      tx = side === 0 ? 1 : side === 2 ? -1 : 0;
      ty = side === 1 ? 1 : side === 3 ? -1 : 0;
    } else {
      // Perpendicular to the direction from the board centre: clockwise on screen (y down).
      const rx = x - cx;
      const ry = y - cy;
      const len = Math.hypot(rx, ry) || 1;
      tx = -ry / len;
      ty = rx / len;
    }
    out.push([x - radiusMm * tx, y - radiusMm * ty], [x + radiusMm * tx, y + radiusMm * ty]);
  });
  return out;
}

/** Smallest ring distance between two hooks a line may join: ~5 % of the ring (8 of 160). */
export function defaultMinGap(count: number): number {
  return Math.max(1, Math.min(Math.round(count / 20), Math.floor((count - 1) / 2)));
}

/** A custom hook layout (`--layout hooks.json`, docs/plan-format.md "Custom hook layouts"). */
export interface CustomLayout {
  board: Board;
  nails: [number, number][];
}

/** Closer than this (mm) counts as the same hook. */
export const DUPLICATE_HOOK_MM = 0.01;

/**
 * Check a parsed hooks.json: `{"board"?: {widthMm, heightMm, frame}, "hooks": [[x, y], …]}` (mm,
 * board coordinates). Without `board`, `fallback` is used. Throws a one-line Error message (the
 * caller wraps it) on the first problem: wrong shape, < 3 or > 2000 hooks, a hook off the board
 * or outside a circular frame, two hooks at the same place.
 */
export function checkCustomLayout(json: unknown, fallback: Board): CustomLayout {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('expected an object {"hooks": [[x, y], …]}');
  const o = json as Record<string, unknown>;
  unknownFields(o, ['board', 'hooks'], '');
  let board = fallback;
  if (o.board !== undefined) {
    const b = o.board as Record<string, unknown>;
    const ok = typeof b === 'object' && b !== null && isPositive(b.widthMm) && isPositive(b.heightMm) && (b.frame === 'circle' || b.frame === 'rect');
    if (!ok) throw new Error('board must be {"widthMm": > 0, "heightMm": > 0, "frame": "circle" | "rect"}');
    unknownFields(b, ['widthMm', 'heightMm', 'frame'], 'board.');
    if ((b.widthMm as number) > MAX_BOARD_MM || (b.heightMm as number) > MAX_BOARD_MM) throw new Error(`board ${b.widthMm}×${b.heightMm} mm is larger than ${MAX_BOARD_MM} mm`);
    board = { widthMm: b.widthMm as number, heightMm: b.heightMm as number, frame: b.frame as Board['frame'] };
  }
  if (!Array.isArray(o.hooks)) throw new Error('field hooks must be an array of [x, y] positions in mm');
  const hooks = o.hooks as unknown[];
  if (hooks.length < 3 || hooks.length > 2000) throw new Error(`has ${hooks.length} hooks; give 3 to 2000`);
  const nails: [number, number][] = [];
  const eps = 1e-6;
  const cx = board.widthMm / 2;
  const cy = board.heightMm / 2;
  const r = Math.min(board.widthMm, board.heightMm) / 2;
  const seen = new Map<string, number>();
  hooks.forEach((h, i) => {
    if (!Array.isArray(h) || h.length !== 2 || !Number.isFinite(h[0]) || !Number.isFinite(h[1])) {
      throw new Error(`hooks[${i}] must be [x, y] (two numbers, mm)`);
    }
    const [x, y] = h as [number, number];
    const inside = board.frame === 'circle'
      ? Math.hypot(x - cx, y - cy) <= r + eps
      : x >= -eps && y >= -eps && x <= board.widthMm + eps && y <= board.heightMm + eps;
    if (!inside) throw new Error(`hooks[${i}] [${x}, ${y}] is outside the ${board.widthMm}×${board.heightMm} mm ${board.frame} board`);
    // Grid buckets of DUPLICATE_HOOK_MM: compare with the 9 neighbouring buckets.
    const gx = Math.floor(x / DUPLICATE_HOOK_MM);
    const gy = Math.floor(y / DUPLICATE_HOOK_MM);
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
      const j = seen.get(`${gx + dx},${gy + dy}`);
      if (j !== undefined && Math.hypot(nails[j][0] - x, nails[j][1] - y) < DUPLICATE_HOOK_MM) {
        throw new Error(`hooks[${i}] is at the same place as hooks[${j}] ([${x}, ${y}])`);
      }
    }
    seen.set(`${gx},${gy}`, i);
    nails.push([x, y]);
  });
  return { board, nails };
}

/** Largest board side a plan may have, mm (the planner's --board-mm goes to 5000). */
export const MAX_BOARD_MM = 10_000;

/** Like a machine profile: a field this version does not know is refused (a misspelt "hooks" would be ignored). */
function unknownFields(o: Record<string, unknown>, known: string[], prefix: string): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${prefix}${k}'`).join(', ')} (misspelt?); the fields are ${known.map((k) => prefix + k).join(', ')}`);
}

function isPositive(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** The two closest hook centres: their distance (mm) and indices. O(n²): plans have at most 2000 hooks. */
export function closestHooks(hooks: [number, number][]): { mm: number; a: number; b: number } {
  let best = { mm: Infinity, a: -1, b: -1 };
  let bestSq = Infinity;
  for (let i = 0; i < hooks.length; i++) {
    const [xi, yi] = hooks[i];
    for (let j = i + 1; j < hooks.length; j++) {
      const dx = hooks[j][0] - xi;
      const dy = hooks[j][1] - yi;
      const sq = dx * dx + dy * dy;
      if (sq < bestSq - 1e-9) {
        bestSq = sq;
        best = { mm: 0, a: i, b: j };
      }
    }
  }
  best.mm = Math.sqrt(bestSq);
  return best;
}

/**
 * Hooks must not overlap and the thread must pass between them: the closest two hook centres are
 * more than a hook diameter plus a thread width apart. The problem in words, or null.
 */
export function hookFitProblem(hooks: [number, number][], hookMm: number, threadMm: number): string | null {
  if (hooks.length < 2) return null;
  const c = closestHooks(hooks);
  if (c.mm > hookMm + threadMm) return null;
  const what = hookMm > 0 ? `${round3(hookMm)} mm hooks and ${round3(threadMm)} mm thread need more than ${round3(hookMm + threadMm)} mm` : `${round3(threadMm)} mm thread needs more than ${round3(threadMm)} mm`;
  return `hooks ${c.a} and ${c.b} are ${round3(c.mm)} mm apart (centre to centre): ${what}${c.mm <= hookMm ? ' (the hooks overlap)' : ' (the thread cannot pass between them)'}`;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
