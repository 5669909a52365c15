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

/** Smallest ring distance between two hooks a line may join: ~5 % of the ring (8 of 160). */
export function defaultMinGap(count: number): number {
  return Math.max(1, Math.min(Math.round(count / 20), Math.floor((count - 1) / 2)));
}
