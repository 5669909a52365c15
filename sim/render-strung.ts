/**
 * strung.png: the picture the machine actually made — lines between consecutive hooks the motion
 * wrapped (as the verifier saw them), drawn with the planner's renderer (host/plan/render.ts) at
 * the machine's hook positions and thread width. Line i takes the colour the stream had in effect
 * for its i-th line (exact when the wrapped sequence matches the stream).
 */
import { type Line, renderLinesPng } from '../host/plan/render';
import { type MachineProfile, hookXMm, hookYMm } from '../shared/machine';

export function lineColorsFromOps(ops: readonly number[]): number[] {
  const colors: number[] = [];
  let c = 0;
  let hooks = 0;
  for (const op of ops) {
    if (op < 0) c = -op - 1;
    else if (hooks++ > 0) colors.push(c);
  }
  return colors;
}

export function renderStrungPng(
  m: MachineProfile, wrapped: readonly number[], planOps: readonly number[], palette: readonly number[], widthPx: number,
  background = '#ffffff',
): Buffer {
  const nails: [number, number][] = [];
  for (let i = 0; i < m.hooks.count; i++) nails.push([hookXMm(m, i), hookYMm(m, i)]);
  const colors = palette.length ? palette.map((c) => '#' + c.toString(16).padStart(6, '0')) : ['#000000'];
  const lineColors = lineColorsFromOps(planOps);
  const lines: Line[] = [];
  for (let i = 1; i < wrapped.length; i++) lines.push([lineColors[i - 1] ?? 0, wrapped[i - 1], wrapped[i]]);
  const spec = {
    board: { widthMm: m.board.widthMm, heightMm: m.board.heightMm, frame: 'circle' as const },
    nails,
    threadWidthMm: m.thread.widthMm,
    background,
    colors,
  };
  return renderLinesPng(spec, lines, { widthPx });
}
