import type { Board } from './layout';

/**
 * 1 where a pixel's centre lies inside the frame shrunk by `insetMm`: a circle of diameter
 * min(w, h) − 2·inset about the board's centre, or the board rectangle inset on every side.
 */
export function frameMask(board: Board, width: number, height: number, insetMm = 0): Uint8Array {
  const mask = new Uint8Array(width * height);
  const sx = board.widthMm / width;
  const sy = board.heightMm / height;
  const cx = board.widthMm / 2;
  const cy = board.heightMm / 2;
  const r = Math.min(board.widthMm, board.heightMm) / 2 - insetMm;
  const hx = board.widthMm / 2 - insetMm;
  const hy = board.heightMm / 2 - insetMm;
  for (let j = 0; j < height; j++) {
    const dy = (j + 0.5) * sy - cy;
    for (let i = 0; i < width; i++) {
      const dx = (i + 0.5) * sx - cx;
      const inside = board.frame === 'circle' ? dx * dx + dy * dy <= r * r : Math.abs(dx) <= hx && Math.abs(dy) <= hy;
      if (inside) mask[j * width + i] = 1;
    }
  }
  return mask;
}

/**
 * How far the hook ring sits inside the frame edge, mm: circle, the radius minus the farthest
 * nail's distance from the centre; rect, the smallest distance of a nail to an edge. ≥ 0.
 */
export function hookInsetMm(board: Board, nails: readonly [number, number][]): number {
  if (nails.length === 0) return 0;
  const cx = board.widthMm / 2;
  const cy = board.heightMm / 2;
  let inset = Infinity;
  if (board.frame === 'circle') {
    let far = 0;
    for (const [x, y] of nails) far = Math.max(far, Math.hypot(x - cx, y - cy));
    inset = Math.min(board.widthMm, board.heightMm) / 2 - far;
  } else {
    for (const [x, y] of nails) inset = Math.min(inset, x, y, board.widthMm - x, board.heightMm - y);
  }
  return Math.max(0, inset);
}

/** Pixel height for a raster `width` pixels across the board, keeping the board's aspect. */
export function rasterHeight(board: Board, width: number): number {
  return Math.max(1, Math.round((width * board.heightMm) / board.widthMm));
}
