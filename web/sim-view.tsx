/**
 * The simulated build drawn (docs/studio.md, "Check the build"): the machine's board with its
 * hooks, the nozzle's path as the simulator reconstructed it from the step edges (red while low,
 * winding; blue while high), each violation marked where it happened, and a timeline along the
 * machine time — the share of hooks wrapped as a curve, a mark per violation. A mark or a list
 * entry picked shows that violation larger on the board.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SimEvent } from '../host/studio/protocol';

export type SimResult = Extract<SimEvent, { type: 'result' }>;

const LOW = 'rgba(214, 39, 40, 0.55)';
const HIGH = 'rgba(31, 119, 180, 0.6)';
const MARK = '#b3261e';

/** Machine time as m:ss or h:mm:ss. */
export function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function SimView({ result: r }: { result: SimResult }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [picked, setPicked] = useState<number | null>(null);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const w = Math.round((c.clientWidth || 400) * dpr);
    const h = Math.round((w * r.board.heightMm) / r.board.widthMm);
    c.width = w;
    c.height = h;
    const g = c.getContext('2d')!;
    const s = w / r.board.widthMm;
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#8a6d3b';
    for (const [x, y] of r.hooks) {
      g.beginPath();
      g.arc(x * s, y * s, Math.max(1, w / 400), 0, 2 * Math.PI);
      g.fill();
    }
    // The path, one stroke per run of low or high vertices.
    const { xs, ys, low } = r.path;
    g.lineWidth = Math.max(1, w / 700);
    let i = 1;
    while (i < xs.length) {
      const state = low[i];
      g.strokeStyle = state ? LOW : HIGH;
      g.beginPath();
      g.moveTo(xs[i - 1] * s, ys[i - 1] * s);
      for (; i < xs.length && low[i] === state; i++) g.lineTo(xs[i] * s, ys[i] * s);
      g.stroke();
    }
    // Violations: a ring each, the picked one larger and numbered.
    r.violations.forEach((v, k) => {
      const big = k === picked;
      g.strokeStyle = MARK;
      g.lineWidth = Math.max(2, w / (big ? 150 : 300));
      g.beginPath();
      g.arc(v.x * s, v.y * s, (big ? 18 : 9) * dpr, 0, 2 * Math.PI);
      g.stroke();
      if (big) {
        g.fillStyle = MARK;
        g.font = `${13 * dpr}px system-ui, sans-serif`;
        g.fillText(`${v.kind} at ${clock(v.seconds)}`, v.x * s + 22 * dpr > w - 150 * dpr ? v.x * s - 170 * dpr : v.x * s + 22 * dpr, v.y * s + 4 * dpr);
      }
    });
  }, [r, picked]);

  const T = Math.max(1e-9, r.machineSeconds);
  const curve = r.wrapSeconds.map((t, i) => `${((t / T) * 100).toFixed(2)},${(30 - (i / 100) * 26).toFixed(2)}`).join(' ');
  return (
    <div class="simview">
      <canvas ref={canvas} class="board" data-testid="sim-path" data-points={r.path.xs.length} data-marks={r.violations.length}
        title="the nozzle's path from the simulated step edges: red while low (winding), blue while high; rings: violations" />
      <div class="timeline" data-testid="sim-timeline" title="machine time: the curve is the share of hooks wrapped; squares: a thread colour starts; red marks: violations">
        <svg viewBox="0 0 100 32" preserveAspectRatio="none">
          <rect x="0" y="0" width="100" height="32" fill="#faf8f4" />
          <polyline points={curve} fill="none" stroke="#b5542b" stroke-width="1.2" vector-effect="non-scaling-stroke" />
        </svg>
        {r.colourStarts.map((c) => (
          <span class="colour-start" data-testid="timeline-colour" data-seconds={c.seconds} style={{ left: `${(c.seconds / T) * 100}%`, background: c.colour }}
            title={`${c.colour} from line ${c.line + 1}, at ${clock(c.seconds)}`} />
        ))}
        {r.violations.map((v, k) => (
          <button class={`mark${k === picked ? ' on' : ''}`} data-testid="timeline-mark" data-seconds={v.seconds} style={{ left: `${(v.seconds / T) * 100}%` }}
            title={`${v.kind} at ${clock(v.seconds)} (line ${v.line}): ${v.message}`} onClick={() => setPicked(k === picked ? null : k)} />
        ))}
        <span class="t0">0:00</span><span class="t1">{clock(r.machineSeconds)}</span>
      </div>
      {r.violations.length > 0 && (
        <ul class="violations" data-testid="sim-violations">
          {r.violations.map((v, k) => (
            <li class={k === picked ? 'on' : ''} onClick={() => setPicked(k === picked ? null : k)}>
              <b>{v.kind}</b> at {clock(v.seconds)} (line {v.line}){v.hook !== undefined ? `, hook ${v.hook}` : ''}: {v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
