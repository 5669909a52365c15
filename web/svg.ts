/**
 * preview.svg (docs/studio.md): the plan as a vector drawing in millimetres — the board in its
 * colour, the hooks, and the thread as one path per colour group in placement order (later groups
 * lie on top, as strung), each line a straight segment `thread-mm` wide in its colour. The path
 * follows the thread: on a flanked plan it steps from one flank of a hook to the other before the
 * next line, as the thread goes round the hook.
 */
import type { BoardShape } from '../host/studio/protocol';
import type { Line } from './board';

const f = (v: number) => String(Math.round(v * 100) / 100);

export function planSvg(shape: BoardShape, lines: readonly Line[]): string {
  const { widthMm: w, heightMm: h, frame } = shape.board;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f(w)} ${f(h)}" width="${f(w)}mm" height="${f(h)}mm">`);
  out.push(`<title>hookline plan: ${lines.length} lines, ${shape.colors.length} colour${shape.colors.length === 1 ? '' : 's'}, ${f(shape.threadMm)} mm thread</title>`);
  out.push(frame === 'circle'
    ? `<circle cx="${f(w / 2)}" cy="${f(h / 2)}" r="${f(Math.min(w, h) / 2)}" fill="${shape.background}" data-board="1"/>`
    : `<rect x="0" y="0" width="${f(w)}" height="${f(h)}" fill="${shape.background}" data-board="1"/>`);
  const hookR = Math.max(shape.threadMm * 2, Math.min(w, h) / 500);
  out.push(`<g fill="#8a6d3b" data-hooks="${shape.nails.length}">`);
  for (const [x, y] of shape.nails) out.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${f(hookR)}"/>`);
  out.push('</g>');
  out.push(`<g fill="none" stroke-width="${f(shape.threadMm)}" stroke-linecap="round" stroke-linejoin="round">`);
  let i = 0;
  while (i < lines.length) {
    const colour = lines[i][0];
    const d: string[] = [];
    let at = lines[i][1];
    d.push(`M${f(shape.nails[at][0])} ${f(shape.nails[at][1])}`);
    let n = 0;
    for (; i < lines.length && lines[i][0] === colour; i++, n++) {
      const [, a, b] = lines[i];
      if (a !== at) d.push(`L${f(shape.nails[a][0])} ${f(shape.nails[a][1])}`);
      d.push(`L${f(shape.nails[b][0])} ${f(shape.nails[b][1])}`);
      at = b;
    }
    out.push(`<path stroke="${shape.colors[colour] ?? '#000000'}" data-lines="${n}" d="${d.join('')}"/>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Save text as a file through the browser's download. */
export function saveText(text: string, name: string, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
