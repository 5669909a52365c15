/** Drawing a thread plan on a canvas: the board, its hooks, the lines (docs/studio.md). */
import type { BoardShape } from '../host/studio/protocol';

export type Line = [number, number, number];

/** Pixels per millimetre for a canvas of this width showing the whole board. */
function scale(canvas: HTMLCanvasElement, shape: BoardShape): number {
  return canvas.width / shape.board.widthMm;
}

/** Size the canvas for the board (its CSS width × the device's pixel ratio) and clear it to the background. */
export function clearBoard(canvas: HTMLCanvasElement, shape: BoardShape, cssWidth: number) {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.round(cssWidth * dpr);
  const h = Math.round((w * shape.board.heightMm) / shape.board.widthMm);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const g = canvas.getContext('2d')!;
  g.globalAlpha = 1;
  g.fillStyle = '#f4f1ea'; // the wall around the board
  g.fillRect(0, 0, w, h);
  const s = scale(canvas, shape);
  g.fillStyle = shape.background;
  g.beginPath();
  if (shape.board.frame === 'circle') {
    g.arc((shape.board.widthMm / 2) * s, (shape.board.heightMm / 2) * s, (Math.min(shape.board.widthMm, shape.board.heightMm) / 2) * s, 0, 2 * Math.PI);
  } else {
    g.rect(0, 0, w, h);
  }
  g.fill();
}

/** The hooks as small dots (a flanked plan's two flanks draw as one hook). */
export function drawHooks(canvas: HTMLCanvasElement, shape: BoardShape) {
  const g = canvas.getContext('2d')!;
  const s = scale(canvas, shape);
  g.globalAlpha = 1;
  g.fillStyle = '#8a6d3b';
  const r = Math.max(1, canvas.width / 400);
  for (const [x, y] of shape.nails) {
    g.beginPath();
    g.arc(x * s, y * s, r, 0, 2 * Math.PI);
    g.fill();
  }
}

/**
 * Lines as thread: each as a one-pixel stroke whose opacity is the thread's share of a pixel, so
 * crossings darken as opaque thread does (1 − (1 − a)^n).
 */
export function drawLines(canvas: HTMLCanvasElement, shape: BoardShape, lines: readonly Line[], from = 0, to = lines.length) {
  const g = canvas.getContext('2d')!;
  const s = scale(canvas, shape);
  const px = shape.threadMm * s;
  g.lineWidth = Math.max(1, px);
  g.globalAlpha = Math.min(1, Math.max(0.04, px / g.lineWidth));
  let colour = -1;
  for (let i = from; i < to; i++) {
    const [c, a, b] = lines[i];
    if (c !== colour) {
      if (colour >= 0) g.stroke();
      colour = c;
      g.strokeStyle = shape.colors[c] ?? '#000';
      g.beginPath();
    }
    const p = shape.nails[a];
    const q = shape.nails[b];
    g.moveTo(p[0] * s, p[1] * s);
    g.lineTo(q[0] * s, q[1] * s);
    // Stroke per line: one path of thousands of lines would not darken where they cross.
    g.stroke();
    g.beginPath();
  }
  g.globalAlpha = 1;
}

/** One line drawn bold in a signal colour (manual stringing: the line to string now). */
export function drawHighlight(canvas: HTMLCanvasElement, shape: BoardShape, line: Line, colour: string) {
  const g = canvas.getContext('2d')!;
  const s = scale(canvas, shape);
  const p = shape.nails[line[1]];
  const q = shape.nails[line[2]];
  g.globalAlpha = 1;
  g.strokeStyle = colour;
  g.lineWidth = Math.max(2, canvas.width / 250);
  g.beginPath();
  g.moveTo(p[0] * s, p[1] * s);
  g.lineTo(q[0] * s, q[1] * s);
  g.stroke();
  g.fillStyle = colour;
  g.beginPath();
  g.arc(q[0] * s, q[1] * s, g.lineWidth * 2.5, 0, 2 * Math.PI);
  g.fill();
}
