import { flankNails, layoutHooks, type Board } from '../../host/plan/layout';
import type { Plan } from '../../host/plan/types';

export interface TestPlanOptions {
  boardMm?: number;
  hooks?: number;
  frame?: Board['frame'];
  hookMm?: number;
  threadMm?: number;
  lines?: number;
}

/** A flanked plan as the planner writes it (hooks laid out the same way), lines hopping round the ring. */
export function testPlan(o: TestPlanOptions = {}): Plan {
  const boardMm = o.boardMm ?? 600;
  const hooks = o.hooks ?? 160;
  const hookMm = o.hookMm ?? 2;
  const threadMm = o.threadMm ?? 0.12;
  const board: Board = { widthMm: boardMm, heightMm: boardMm, frame: o.frame ?? 'circle' };
  const layout = layoutHooks(board, hooks);
  const nails = flankNails(layout.nails, board, board.frame === 'rect' ? layout.sides : undefined, hookMm / 2 + threadMm / 2)
    .map(([x, y]) => [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000] as [number, number]);
  const lines: [number, number, number][] = [];
  let at = 0;
  for (let i = 0; i < (o.lines ?? 200); i++) {
    const hop = 20 + ((i * 37) % (hooks - 40));
    const to = 2 * (((at >> 1) + hop) % hooks) + (i & 1);
    lines.push([0, at, to]);
    at = to ^ 1;
  }
  return {
    format: 'hookline-plan', version: 2, board, nails, flanks: 2, hookDiameterMm: hookMm, threadWidthMm: threadMm,
    background: '#ffffff', colors: ['#000000'], lines, source: { file: 'examples/coffee.png', crop: [0, 0, 100, 100] },
  };
}
