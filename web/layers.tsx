/**
 * Colour layers (docs/studio.md): the plan's groups as strung, top first (groups take turns by
 * colour; the planner finds the top group first and strings it last, so the best lines lie on
 * top; by default each round goes dark to light from the top, so dark ends on top and white
 * lowest: host/plan/colour.ts groupSchedule), an editor for the colours' order in each round
 * (sent as `hookline plan --order`), each colour alone, and the picture forming in stringing order.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { BoardShape } from '../host/studio/protocol';
import { clearBoard, drawHooks, drawLines, type Line } from './board';

/** The plan's groups: runs of one colour in placement order, returned top first. */
export function layersOf(lines: readonly Line[]): { colour: number; lines: number; from: number }[] {
  const runs: { colour: number; lines: number; from: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const last = runs[runs.length - 1];
    if (last && last.colour === lines[i][0]) last.lines++;
    else runs.push({ colour: lines[i][0], lines: 1, from: i });
  }
  return runs.reverse();
}

/** The colours in the order they first appear from the top: each round's order (web/main.tsx expands it to --order). */
export function roundOrder(lines: readonly Line[], colours: number): number[] {
  const seen: number[] = [];
  for (const l of layersOf(lines)) if (!seen.includes(l.colour)) seen.push(l.colour);
  for (let c = 0; c < colours; c++) if (!seen.includes(c)) seen.push(c);
  return seen;
}

/**
 * `hookline plan --order` for a round order (0-based colours, top first) repeated `groups` times:
 * 1-based colour numbers, found order (first = on top), as the CLI's parser takes them.
 */
export function orderFlag(round: readonly number[], groups: number): string {
  const out: number[] = [];
  for (let g = 0; g < groups; g++) for (const c of round) out.push(c + 1);
  return out.join(',');
}

/** One colour's lines alone on the board. */
function ColourPreview({ shape, lines, colour }: { shape: BoardShape; lines: readonly Line[]; colour: number }) {
  const c = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!c.current) return;
    clearBoard(c.current, shape, 140);
    drawLines(c.current, { ...shape, threadMm: shape.threadMm * 2 }, lines.filter((l) => l[0] === colour));
  }, [shape, lines, colour]);
  return <canvas ref={c} class="board layer-preview" data-testid="layer-preview" data-colour={shape.colors[colour]} title={`${shape.colors[colour]} alone`} />;
}

export function Layers(props: {
  shape: BoardShape;
  lines: readonly Line[];
  /** The round order in force (null: the planner's default), and a new one (null: back to the default). */
  round: number[] | null;
  onRound: (round: number[] | null) => void;
}) {
  const { shape, lines } = props;
  const layers = layersOf(lines);
  const round = props.round ?? roundOrder(lines, shape.colors.length);
  const move = (k: number, d: -1 | 1) => {
    const next = [...round];
    [next[k], next[k + d]] = [next[k + d], next[k]];
    props.onRound(next);
  };
  return (
    <div class="layers" data-testid="layers">
      <h2>Colour layers</h2>
      <div class="layer-cols">
        <div>
          <div class="hint">Each round of groups, top first (moves reach the planner as --order):</div>
          <ol class="layer-round">
            {round.map((c, k) => (
              <li data-testid="layer-colour" data-colour={shape.colors[c]}>
                <span class="swatch" style={{ background: shape.colors[c] }} /> {shape.colors[c]}
                <button data-testid="layer-up" disabled={k === 0} title="one place up (nearer the top)" onClick={() => move(k, -1)}>↑</button>
                <button data-testid="layer-down" disabled={k === round.length - 1} title="one place down" onClick={() => move(k, 1)}>↓</button>
              </li>
            ))}
          </ol>
          <button data-testid="layer-reset" disabled={!props.round} onClick={() => props.onRound(null)}>planner's order (dark on top)</button>
        </div>
        <div>
          <div class="hint">The groups as strung, top first:</div>
          <ol class="layer-list">
            {layers.map((l) => (
              <li data-testid="layer" data-colour={shape.colors[l.colour]} data-lines={l.lines}>
                <span class="swatch" style={{ background: shape.colors[l.colour] }} /> {l.lines} lines <small>(from line {l.from + 1})</small>
              </li>
            ))}
          </ol>
        </div>
      </div>
      <div class="layer-previews">
        {shape.colors.map((_, c) => <ColourPreview shape={shape} lines={lines} colour={c} />)}
      </div>
    </div>
  );
}

/**
 * The picture forming in stringing order on the thread canvas: play (about six seconds whatever
 * the line count) or drag the slider; the complete picture again at the end.
 */
export function Forming(props: { canvas: HTMLCanvasElement | null; shape: BoardShape; lines: readonly Line[] }) {
  const { canvas, shape, lines } = props;
  const [shown, setShown] = useState(lines.length);
  const [playing, setPlaying] = useState(false);
  const frame = useRef(0);
  const drawn = useRef(lines.length);

  const draw = (k: number) => {
    if (!canvas) return;
    if (k < drawn.current) {
      clearBoard(canvas, shape, canvas.clientWidth || 600);
      drawLines(canvas, shape, lines, 0, k);
    } else {
      drawLines(canvas, shape, lines, drawn.current, k);
    }
    drawn.current = k;
    if (k === lines.length) drawHooks(canvas, shape);
  };
  useEffect(() => {
    setShown(lines.length);
    drawn.current = lines.length;
    setPlaying(false);
  }, [lines, shape]);
  useEffect(() => {
    if (!playing) return;
    const t0 = performance.now();
    const start = shown >= lines.length ? 0 : shown;
    draw(start);
    setShown(start);
    const tick = () => {
      const k = Math.min(lines.length, start + Math.ceil(((performance.now() - t0) / 6000) * lines.length));
      draw(k);
      setShown(k);
      if (k < lines.length) frame.current = requestAnimationFrame(tick);
      else setPlaying(false);
    };
    frame.current = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame.current);
  }, [playing]);

  return (
    <div class="forming">
      <button data-testid="forming-play" onClick={() => setPlaying(!playing)} title="the lines in stringing order">{playing ? '❚❚ pause' : '▶ forming'}</button>
      <input type="range" data-testid="forming-pos" min={0} max={lines.length} step={1} value={shown}
        onInput={(e) => {
          setPlaying(false);
          const k = Number((e.currentTarget as HTMLInputElement).value);
          draw(k);
          setShown(k);
        }} />
      <output data-testid="forming-shown">{shown}</output>
    </div>
  );
}
