/**
 * Manual stringing: one line at a time, the next hook in big type, the line to string drawn on the
 * board; Space / → steps on, ← / Backspace steps back. The plan and the place are kept in
 * localStorage, so a closed tab opens where it was.
 */
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { BoardShape } from '../host/studio/protocol';
import { flankLabel, hookLabel } from '../host/numbering';
import { clearBoard, drawHighlight, drawHooks, drawLines, type Line } from './board';

export const MANUAL_KEY = 'hookline.studio.manual';

/** What localStorage keeps: the plan to string and how far along it is. */
export interface ManualState {
  shape: BoardShape;
  lines: Line[];
  flanked: boolean;
  /** Lines already strung (0..lines.length). */
  done: number;
  /** The mode was open (reopening the tab opens it again). */
  open: boolean;
  /** Say each next hook aloud (the browser's speech synthesis). */
  speak?: boolean;
}

/** A hook label as spoken: "28a" → "28, anticlockwise". */
function spoken(label: string): string {
  return label.replace(/^(\d+)c$/, '$1, clockwise').replace(/^(\d+)a$/, '$1, anticlockwise');
}

export function loadManual(): ManualState | null {
  try {
    const raw = localStorage.getItem(MANUAL_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as ManualState;
    if (!Array.isArray(s.lines) || !s.shape || typeof s.done !== 'number') return null;
    return s;
  } catch {
    return null;
  }
}

export function saveManual(s: ManualState) {
  try {
    localStorage.setItem(MANUAL_KEY, JSON.stringify(s));
  } catch {
    // storage full or off: the mode still works, it just will not survive a closed tab
  }
}

const label = (s: ManualState, nail: number) => (s.flanked ? flankLabel(nail) : hookLabel(nail));

export function Manual(props: { state: ManualState; onChange: (s: ManualState) => void; onClose: () => void }) {
  const { state } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const total = state.lines.length;
  const at = Math.min(state.done, total);
  const current = at < total ? state.lines[at] : null;

  // Keys can come faster than renders: step from the latest state, not this render's.
  const latest = useRef(state);
  latest.current = state;
  const step = (d: number) => {
    const s = latest.current;
    const done = Math.max(0, Math.min(total, s.done + d));
    if (done === s.done) return;
    latest.current = { ...s, done };
    props.onChange(latest.current);
  };

  // Listening from the render on (a layout effect: a plain effect waits a frame, and keys pressed
  // in that frame were lost); `step` and `onClose` are read through refs, so once is enough.
  const handlers = useRef({ step, close: props.onClose });
  handlers.current = { step, close: props.onClose };
  useLayoutEffect(() => {
    const step = (d: number) => handlers.current.step(d);
    // Keys typed into a field stay there; on a button or the checkbox they step (Space would press it).
    const typing = (t: EventTarget | null) => t instanceof HTMLInputElement ? !['checkbox', 'button', 'range'].includes(t.type) : t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
    const key = (e: KeyboardEvent) => {
      if (typing(e.target)) return;
      if (e.key === ' ' || e.key === 'ArrowRight' || e.key === 'ArrowDown' || e.key === 'Enter') {
        e.preventDefault();
        step(1);
      } else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp' || e.key === 'Backspace') {
        e.preventDefault();
        step(-1);
      } else if (e.key === 'Escape') {
        handlers.current.close();
      }
    };
    // Space presses a focused button or checkbox on key-up: not while stringing.
    const up = (e: KeyboardEvent) => {
      if (e.key === ' ' && !typing(e.target)) e.preventDefault();
    };
    window.addEventListener('keydown', key);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', key);
      window.removeEventListener('keyup', up);
    };
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    clearBoard(c, state.shape, c.clientWidth || 600);
    drawLines(c, state.shape, state.lines, 0, at);
    drawHooks(c, state.shape);
    if (current) drawHighlight(c, state.shape, current, '#d62f2f');
  }, [state, at]);

  // Spoken hook numbers: the next hook each time the place changes (a colour change is said first).
  const canSpeak = typeof window !== 'undefined' && 'speechSynthesis' in window;
  useEffect(() => {
    if (!canSpeak || !state.speak || !current) return;
    const prev = at > 0 ? state.lines[at - 1] : null;
    const change = state.shape.colors.length > 1 && (!prev || prev[0] !== current[0]) ? `Colour ${current[0] + 1}. ` : '';
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(`${change}${spoken(label(state, current[2]))}`));
  }, [at, state.speak]);

  const colour = current && state.shape.colors.length > 1 ? `colour ${current[0] + 1} (${state.shape.colors[current[0]]})` : null;
  return (
    <div class="manual" data-testid="manual">
      <div class="manual-side">
        <div class="manual-label">{current ? `line ${at + 1} of ${total}: from hook ${label(state, current[1] ^ (state.flanked ? 1 : 0))} to` : 'all lines strung'}</div>
        <div class="manual-next" data-testid="next-hook">{current ? label(state, current[2]) : '✓'}</div>
        {colour && <div class="manual-colour"><span class="swatch" style={{ background: state.shape.colors[current![0]] }} /> {colour}</div>}
        <div class="manual-progress"><div style={{ width: `${(100 * at) / Math.max(1, total)}%` }} /></div>
        <div class="manual-count" data-testid="manual-count">{at} of {total} lines strung ({Math.round((100 * at) / Math.max(1, total))} %)</div>
        <div class="manual-buttons">
          <button onClick={() => step(-1)} disabled={at === 0}>← back</button>
          <button class="primary" onClick={() => step(1)} disabled={at === total}>next (space) →</button>
        </div>
        {canSpeak && (
          <label class="speak"><input type="checkbox" data-testid="speak" checked={!!state.speak} onChange={(e) => {
            const box = e.currentTarget as HTMLInputElement;
            box.blur(); // Space steps on, not toggles the box again
            latest.current = { ...latest.current, speak: box.checked }; // a key pressed before the next render keeps it
            props.onChange(latest.current);
          }} /> say each hook aloud</label>
        )}
        <p class="hint">Space or → : next line · ← or Backspace : back · Esc : leave. Your place is kept in this browser.
          Hooks are numbered as on the printed instructions: <b>c</b> wind clockwise, <b>a</b> anticlockwise.</p>
        <button onClick={props.onClose}>leave stringing mode</button>
      </div>
      <canvas ref={canvas} class="board manual-board" data-testid="manual-board" />
    </div>
  );
}
