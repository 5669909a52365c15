/**
 * "Run the machine" (docs/studio.md): choose a port the server listed (or the simulated machine),
 * connect, home, run the plan with progress, ETA and the nozzle on the board, pause / resume /
 * abort, confirm colour changes, and resume an interrupted run. Every tab shows the server's one
 * machine state; only the tab in control has working buttons (another can take control).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MachineState, MachineTarget, PortInfo, RunDrawing, RunView } from '../host/studio/machine-protocol';
import type { MachineInfo } from '../host/studio/protocol';
import { clearBoard, drawHooks, drawLines } from './board';
import { clientId, getDrawing, getPorts, machineCommand, watchMachine } from './machine-api';

/** Time left as people read it: 1 h 05 min, 4 min 09 s, 12 s. */
export function etaText(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.round(s)} s`;
}

const TARGETS: { id: MachineTarget; label: string }[] = [
  { id: 'hookline', label: 'hookline device (link protocol)' },
  { id: 'johnny-five', label: 'Johnny-Five (Firmata board, runtime on the host)' },
  { id: 'grbl', label: 'G-code controller: Grbl 1.1' },
  { id: 'marlin', label: 'G-code controller: Marlin 2' },
];

const PHASE_TEXT: Record<RunView['phase'], string> = {
  starting: 'starting (handshake, homing)', running: 'running', pausing: 'pausing (finishing the planned moves)', paused: 'paused',
  colour: 'paused for a thread change', aborting: 'aborting', done: 'done', aborted: 'aborted', failed: 'stopped by an error', interrupted: 'interrupted',
};

/** Where the nozzle is after `line` lines: the end of the last line done (the start hook before the first). */
function nozzleNail(d: RunDrawing, line: number): number | null {
  if (d.lines.length === 0) return null;
  return line > 0 ? d.lines[Math.min(line, d.lines.length) - 1][2] : d.lines[0][1];
}

/**
 * The board is small and a run may have few lines: the lines strung are drawn as if the thread were
 * 0.6 px wide (drawLines' opacity is the thread's share of a pixel), the lines still to come in grey
 * at 0.15 px, so progress reads at a glance.
 */
const strung = (c: HTMLCanvasElement, d: RunDrawing) => ({ ...d, threadMm: (0.6 * d.board.widthMm) / c.width });
const faint = (c: HTMLCanvasElement, d: RunDrawing) => ({ ...d, threadMm: (0.15 * d.board.widthMm) / c.width, colors: d.colors.map(() => '#8a8378') });

/** A command's answer and the stream's snapshots can cross: keep the later one of a server. */
const newer = (old: MachineState | null, s: MachineState) => (old && old.server === s.server && old.seq > s.seq ? old : s);

export function MachinePanel({ job, machines, plannerMachine }: { job?: string; machines: MachineInfo[]; plannerMachine: string }) {
  const [ms, setMs] = useState<MachineState | null>(null);
  const [down, setDown] = useState<string | null>(null);
  const [ports, setPorts] = useState<PortInfo[]>([]);
  const [port, setPort] = useState('sim');
  const [profile, setProfile] = useState('');
  const [speed, setSpeed] = useState('10');
  const [target, setTarget] = useState<MachineTarget>('hookline');
  const [applySettings, setApplySettings] = useState(false);
  const [firstLines, setFirstLines] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  const [drawing, setDrawing] = useState<RunDrawing | null>(null);
  const board = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const drawn = useRef<{ id: string; line: number } | null>(null);
  const me = clientId();

  const refresh = () => {
    getPorts().then((p) => {
      setPorts(p);
      setPort((cur) => (p.some((x) => x.id === cur) ? cur : p[0]?.id ?? ''));
    }, (e: Error) => setActionError(e.message));
  };
  useEffect(() => {
    refresh();
    return watchMachine((s) => setMs((old) => newer(old, s)), (m) => {
      setDown(m);
      if (m === null) refresh();
    });
  }, []);

  const gantries = machines.filter((m) => m.kind === 'gantry');
  // The simulated machine is a hookline device; G-code controllers and Firmata boards drive gantries.
  const shownTarget: MachineTarget = ms && ms.connection !== 'off' && ms.target ? ms.target : target;
  const chosenProfile = profile || ms?.machine || (plannerMachine && machines.some((m) => m.name === plannerMachine) ? plannerMachine : 'ref-gantry');
  const run = ms?.run ?? null;
  // The simulated machine is a hookline device: another target takes the first serial port listed.
  // (The current choice is read in the update: a port chosen right after the target must not be overridden.)
  useEffect(() => {
    if (target === 'hookline') return;
    setPort((cur) => (ports.find((p) => p.id === cur)?.sim ? ports.find((p) => !p.sim)?.id ?? '' : cur));
  }, [target, ports]);

  // The run's drawing, once per run (also after a reload or a server restart).
  useEffect(() => {
    if (!run) return;
    if (drawing?.id === run.id) return;
    getDrawing().then((d) => {
      drawn.current = null;
      setDrawing(d);
    }, () => setDrawing(null));
  }, [run?.id]);

  // Lines strung so far in their colours (new ones added as they come), the rest of the plan faint;
  // the nozzle and the line being strung on a canvas above.
  useEffect(() => {
    const c = board.current;
    const o = overlay.current;
    if (!c || !o || !drawing || !run || drawing.id !== run.id) return;
    const line = Math.min(run.line, drawing.lines.length);
    const cssWidth = c.clientWidth || 420;
    const last = drawn.current;
    if (!last || last.id !== drawing.id || line < last.line || c.width === 0) {
      clearBoard(c, drawing, cssWidth);
      drawLines(c, faint(c, drawing), drawing.lines, line);
      drawLines(c, strung(c, drawing), drawing.lines, 0, line);
      drawHooks(c, drawing);
    } else if (line > last.line) {
      drawLines(c, strung(c, drawing), drawing.lines, last.line, line);
    }
    drawn.current = { id: drawing.id, line };
    o.width = c.width;
    o.height = c.height;
    const g = o.getContext('2d')!;
    g.clearRect(0, 0, o.width, o.height);
    const s = o.width / drawing.board.widthMm;
    if (line < drawing.lines.length && run.phase !== 'done') {
      const [, a, b] = drawing.lines[line];
      g.strokeStyle = '#d2341f';
      g.lineWidth = Math.max(2, o.width / 300);
      g.setLineDash([6, 4]);
      g.beginPath();
      g.moveTo(drawing.nails[a][0] * s, drawing.nails[a][1] * s);
      g.lineTo(drawing.nails[b][0] * s, drawing.nails[b][1] * s);
      g.stroke();
    }
    // Where the controller reports the nozzle (Grbl's status, the Firmata runtime's steps), else the last hook reached.
    const n = nozzleNail(drawing, line);
    const at = run.nozzle ?? (n !== null ? drawing.nails[n] : null);
    if (at) {
      const [x, y] = at;
      g.setLineDash([]);
      g.fillStyle = '#d2341f';
      g.strokeStyle = '#fff';
      g.lineWidth = 2;
      g.beginPath();
      g.arc(x * s, y * s, Math.max(5, o.width / 70), 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
  }, [drawing, run?.id, run?.line, run?.phase, run?.nozzle?.[0], run?.nozzle?.[1]]);

  const act = (cmd: string, body: unknown = {}) => {
    setActionError(null);
    machineCommand(cmd, body).then((s) => setMs((old) => newer(old, s)), (e: Error) => setActionError(e.message));
  };

  const connected = ms?.connection === 'connected';
  const off = !ms || ms.connection === 'off';
  const readOnly = !!ms && ms.controller !== null && ms.controller !== me;
  const phase = run?.phase;
  const busy = !!run && ['starting', 'running', 'pausing', 'paused', 'colour', 'aborting'].includes(run.phase);
  const resumable = !!run && (run.phase === 'paused' || run.phase === 'interrupted' || run.phase === 'failed');
  const chosenPort = ports.find((p) => p.id === port);
  const fraction = run ? (run.lineCount > 0 ? run.line / run.lineCount : 0) : 0;
  const dis = readOnly || !ms;

  return (
    <section class="panel machine" data-testid="machine-panel" data-phase={phase ?? ''} data-connection={ms?.connection ?? ''} data-readonly={readOnly ? '1' : '0'}>
      <h2>Run the machine</h2>
      {down && <div class="message error" data-testid="machine-down">{down}</div>}
      {readOnly && (
        <div class="message" data-testid="machine-readonly">
          Another tab controls the machine; this one shows it read-only.{' '}
          <button data-testid="machine-take" onClick={() => act('claim')}>Take control</button>
        </div>
      )}
      <div class="machine-grid">
        <div class="machine-boards">
          <canvas ref={board} class="board" data-testid="machine-board" />
          <canvas ref={overlay} class="board machine-overlay" data-testid="machine-nozzle" />
          {!drawing && <div class="machine-empty">Plan a picture, connect, then Run: the lines strung and the nozzle show here.</div>}
        </div>
        <div class="machine-side">
          <label class="row">
            <span>Port</span>
            <span class="range">
              <select data-testid="machine-port" value={off ? port : ms!.port ?? ''} disabled={!off || dis} onChange={(e) => setPort((e.currentTarget as HTMLSelectElement).value)}>
                {(off ? ports.filter((p) => !p.sim || target === 'hookline') : [{ id: ms!.port ?? '', label: ms!.portLabel ?? '', sim: false }]).map((p) => <option value={p.id}>{p.label}</option>)}
              </select>
              <button data-testid="machine-refresh" title="list the serial ports again" disabled={!off} onClick={refresh}>↻</button>
            </span>
          </label>
          <label class="row">
            <span>Target</span>
            <select data-testid="machine-target" disabled={!off || dis} value={shownTarget} onChange={(e) => setTarget((e.currentTarget as HTMLSelectElement).value as MachineTarget)}>
              {TARGETS.map((t) => <option value={t.id}>{t.label}</option>)}
            </select>
          </label>
          <label class="row">
            <span>Machine</span>
            <select data-testid="machine-profile" value={chosenProfile} disabled={!off || dis} onChange={(e) => setProfile((e.currentTarget as HTMLSelectElement).value)}>
              {((chosenPort?.sim || shownTarget !== 'hookline') && off ? gantries : machines).map((m) => <option value={m.name}>{m.name}</option>)}
            </select>
          </label>
          {off && (shownTarget === 'grbl' || shownTarget === 'marlin') && (
            <label class="row" title="the CLI's --apply-settings: where the controller's settings differ from the profile, write the profile's">
              <span>Settings</span>
              <span><input type="checkbox" data-testid="machine-apply-settings" checked={applySettings} disabled={dis} onChange={(e) => setApplySettings((e.currentTarget as HTMLInputElement).checked)} /> write the profile's settings to the controller</span>
            </label>
          )}
          {off && chosenPort?.sim && (
            <label class="row" title="the simulated machine runs in real time × this">
              <span>Speed</span>
              <select data-testid="machine-speed" value={speed} disabled={dis} onChange={(e) => setSpeed((e.currentTarget as HTMLSelectElement).value)}>
                {['1', '10', '50', '100'].map((v) => <option value={v}>{v}× real time</option>)}
              </select>
            </label>
          )}
          <label class="row" title="string only the plan's first lines (to try a machine); empty: the whole plan">
            <span>First lines only</span>
            <input type="number" min="1" step="1" placeholder="all" data-testid="machine-first-lines" value={firstLines} disabled={dis} onInput={(e) => setFirstLines((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <div class="machine-buttons">
            {off
              ? <button class="primary" data-testid="machine-connect" disabled={dis || !port} onClick={() => act('connect', { port, target, machine: chosenProfile, speed: Number(speed), applySettings })}>Connect</button>
              : <button data-testid="machine-disconnect" disabled={dis || ms!.connection === 'connecting'} onClick={() => act('disconnect')}>Disconnect</button>}
            <button data-testid="machine-home" disabled={dis || !connected || busy || ms!.homing} onClick={() => act('home')}>Home</button>
            <button class="primary" data-testid="machine-run" disabled={dis || !connected || busy || !job || phase === 'interrupted'} title={job ? 'home, then string the plan shown above' : 'plan a picture first'} onClick={() => act('run', { job, firstLines: firstLines.trim() === '' ? null : Number(firstLines) })}>Run plan</button>
          </div>
          <div class="machine-buttons">
            <button data-testid="machine-pause" disabled={dis || phase !== 'running'} onClick={() => act('pause')}>Pause</button>
            <button data-testid="machine-resume" disabled={dis || !resumable || (phase !== 'paused' && !connected)} onClick={() => act('resume')}>Resume</button>
            <button data-testid="machine-abort" disabled={dis || !run || !(busy || phase === 'interrupted' || phase === 'failed')} onClick={() => act('abort')}>{busy ? 'Abort' : 'Forget run'}</button>
          </div>
          <div class="machine-status" data-testid="machine-status">
            {ms ? (ms.connection === 'off' ? 'not connected' : `${ms.connection === 'connecting' ? 'connecting to' : 'connected to'} ${ms.portLabel}${ms.device ? ` · device ${ms.device.state}${ms.device.homed ? ', homed' : ''}` : ''}${ms.homing ? ' · homing…' : ''}`) : 'asking the server…'}
          </div>
          {run && (
            <div class="machine-run" data-testid="machine-runview" data-line={run.line} data-count={run.lineCount} data-nozzle={run.nozzle ? run.nozzle.join(',') : ''}>
              <div class="machine-phase" data-testid="machine-phase">{PHASE_TEXT[run.phase]}{run.resets ? ` · came through ${run.resets} device reset${run.resets === 1 ? '' : 's'}` : ''}</div>
              <div class="bar" data-testid="machine-progress"><div style={{ width: `${Math.round(fraction * 1000) / 10}%` }} /></div>
              <dl class="numbers">
                <div><dt>line</dt><dd data-testid="machine-line">{run.line} of {run.lineCount}</dd></div>
                <div><dt>time left</dt><dd data-testid="machine-eta">{run.phase === 'done' ? '0 s' : etaText(run.etaS)}</dd></div>
                <div><dt>colour</dt><dd><span class="swatch" style={{ background: run.palette[run.color] ?? '#000' }} /> {run.color + 1} of {run.palette.length}</dd></div>
              </dl>
              {run.colourPrompt && (
                <div class="machine-colour" data-testid="machine-colour">
                  <span class="swatch big" style={{ background: run.colourPrompt.value }} />
                  <span>Thread colour {run.colourPrompt.index + 1} of {run.palette.length}, <b>{run.colourPrompt.value}</b>: tie it on, then continue.</span>
                  <button class="primary" data-testid="machine-colour-done" disabled={dis} onClick={() => act('colour')}>Thread changed: continue</button>
                </div>
              )}
            </div>
          )}
          {ms?.message && <div class={`message${ms.message.error ? ' error' : ''}`} data-testid="machine-message">{ms.message.text}</div>}
          {actionError && <div class="message error" data-testid="machine-error">{actionError}</div>}
        </div>
      </div>
    </section>
  );
}
