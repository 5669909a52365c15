import { planHooks, planPath, type Plan } from '../plan/types';
import { flankLabel } from '../numbering';

/** Rows of this many lines in the hook sequence; rows are aligned to multiples of it. */
export const ROW = 10;
/** A progress marker after every this many lines. */
export const MARK_EVERY = 100;

export type Item =
  | { kind: 'change'; line: number; color: number; hex: string; hook: number; first: boolean; prevColor: number }
  | { kind: 'row'; first: number; hooks: string[]; color: number }
  | { kind: 'mark'; done: number; total: number };

export interface Instructions {
  title: string;
  board: string;
  hooks: number;
  lines: number;
  numbering: string;
  colors: { index: number; hex: string; lines: number; metres: number }[];
  totalMetres: number;
  /** Colour runs (each starts with a 'change' item), then rows and markers in stringing order. */
  items: Item[];
  /** The hook path (hook numbers, without flanks). */
  path: number[];
}

/** Colour changes recomputed from `lines` (docs/plan-format.md: a run starts where the colour changes). */
export function colourRuns(plan: Plan): { line: number; color: number; hook: number }[] {
  const out: { line: number; color: number; hook: number }[] = [];
  plan.lines.forEach(([c, a], i) => {
    if (i === 0 || plan.lines[i - 1][0] !== c) out.push({ line: i, color: c, hook: a });
  });
  return out;
}

/** Everything the printed page shows, computed once for the HTML and the PDF. */
export function buildInstructions(plan: Plan, name: string): Instructions {
  const path = planPath(plan);
  // Flanked plans: hook number and winding, c = clockwise, a = anticlockwise (flank 0 winds clockwise).
  const label = plan.flanks === 2 ? flankLabel : (v: number) => String(v);
  const perColour = plan.colors.map((hex, index) => ({ index, hex: hex.toLowerCase(), lines: 0, metres: 0 }));
  for (const [c, a, b] of plan.lines) {
    const [x0, y0] = plan.nails[a];
    const [x1, y1] = plan.nails[b];
    perColour[c].lines++;
    perColour[c].metres += Math.hypot(x1 - x0, y1 - y0) / 1000;
  }
  const runs = colourRuns(plan);
  const items: Item[] = [];
  const total = plan.lines.length;
  runs.forEach((run, r) => {
    const end = r + 1 < runs.length ? runs[r + 1].line : total;
    items.push({
      kind: 'change', line: run.line, color: run.color, hex: plan.colors[run.color].toLowerCase(), hook: plan.flanks === 2 ? run.hook >> 1 : run.hook,
      first: r === 0, prevColor: r === 0 ? -1 : runs[r - 1].color,
    });
    let i = run.line;
    while (i < end) {
      // Row boundaries at multiples of ROW (line numbers 1-based), clipped by the run.
      const rowEnd = Math.min(end, (Math.floor(i / ROW) + 1) * ROW);
      items.push({ kind: 'row', first: i + 1, hooks: path.slice(i + 1, rowEnd + 1).map(label), color: run.color });
      i = rowEnd;
      if (i % MARK_EVERY === 0 && i < total) items.push({ kind: 'mark', done: i, total });
    }
  });
  const { widthMm: w, heightMm: h, frame } = plan.board;
  const numbering = (frame === 'circle'
    ? 'Hook numbers are 0-based, as in plan.json, the preview and the machine: hook 0 is at the top and the numbers increase clockwise.'
    : 'Hook numbers are 0-based, as in plan.json, the preview and the machine: on a rectangular frame hook 0 is the first hook clockwise from the top-left corner and the numbers increase clockwise (a custom layout keeps its own order).')
    + (plan.flanks === 2 ? ' After each number, c: wind the thread once clockwise around the hook; a: anticlockwise (as seen from the front). The winding decides which side of the hook the thread lies on.' : '');
  return {
    title: name,
    board: `${fmt(w)} × ${fmt(h)} mm, ${frame === 'circle' ? 'circular' : 'rectangular'} frame, background ${plan.background.toLowerCase()}`,
    hooks: planHooks(plan).length,
    lines: total,
    numbering,
    colors: perColour,
    totalMetres: perColour.reduce((s, c) => s + c.metres, 0),
    items,
    path: plan.flanks === 2 ? path.map((v) => v >> 1) : path,
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export const LENGTH_NOTE = 'Thread length is measured hook centre to hook centre, with no allowance for wrapping the hooks or for knots: leave a margin for both.';
