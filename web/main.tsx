/**
 * hookline studio's page (docs/studio.md): drop a photo in, set the planner's options, watch the
 * thread picture form (streamed from the server's planner thread), download the results, or
 * string it by hand.
 */
import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { BoardShape, Crop, ImageInfo, MachineInfo, PlanEvent, PlanFlags, SimEvent } from '../host/studio/protocol';
import { ServerError, download, getMachines, pauseSim, streamPlan, streamSim, uploadImage } from './api';
import { SimView as SimDrawing } from './sim-view';
import { clearBoard, drawHooks, drawLines, type Line } from './board';
import { BrushOverlay, NEUTRAL, maskFile, newMask, type BrushMode } from './brush';
import { NO_CROP, PhotoCrop, remapMask, sameCrop } from './photo-crop';
import { canvasFromDataUrl, loadPhoto, loadSettings, savePhoto, saveSettings } from './photo-store';
import { planSvg, saveText } from './svg';
import { Forming, Layers, orderFlag } from './layers';
import { Manual, loadManual, saveManual, type ManualState } from './manual';
import { MachinePanel } from './machine';

const ACCEPT = 'image/jpeg,image/png,image/webp';

type SimResult = Extract<SimEvent, { type: 'result' }>;
interface SimView {
  running: boolean;
  progress: number;
  result?: SimResult;
  error?: string;
  /** The simulator's thread waits (POST …/sim/pause); `pausing`: asked, not yet confirmed. */
  paused?: boolean;
  pausing?: boolean;
}

/** Machine time as people read it: 2 h 23 min, 14 min 05 s. */
function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

interface PlanView {
  job?: string;
  shape?: BoardShape;
  /** The planner's view of the photo (data URL). */
  view?: string;
  count: number;
  progress: number;
  done: boolean;
  metres?: number;
  stoppedEarly?: boolean;
  rmse?: number;
  ssim?: number;
  rmseView?: number;
  colorChanges?: number;
  /** ms from the change to the first drawn lines and to the complete plan, as the page saw them. */
  firstMs?: number;
  doneMs?: number;
  error?: string;
}

/** A control's description: flag name, label, input kind and range. */
interface Control {
  flag: keyof PlanFlags & string;
  label: string;
  kind: 'range' | 'number' | 'select' | 'text' | 'color';
  min?: number;
  max?: number;
  step?: number;
  options?: [string, string][];
  /** Shown when the value is empty (the planner's default). */
  placeholder?: string;
  unit?: string;
  mono?: boolean;
  colour?: boolean;
  /** Set by the machine profile when one is chosen. */
  machine?: boolean;
  title: string;
}

const CONTROLS: Control[] = [
  { flag: 'lines', label: 'Lines', kind: 'range', min: 100, max: 8000, step: 100, title: 'threads to string (colour plans: the total, split by colour)' },
  { flag: 'hooks', label: 'Hooks', kind: 'range', min: 40, max: 400, step: 2, machine: true, title: 'hooks around the frame' },
  { flag: 'contrast', label: 'Contrast', kind: 'range', min: 0.2, max: 3, step: 0.05, mono: true, title: 'stretch the greys around mid-grey before planning' },
  { flag: 'gamma', label: 'Darkness (gamma)', kind: 'range', min: 0.3, max: 3, step: 0.05, mono: true, title: 'above 1 darkens the mid-tones' },
  { flag: 'colors', label: 'Colours', kind: 'range', min: 2, max: 8, step: 1, colour: true, title: 'thread colours picked from the photo' },
  { flag: 'palette', label: 'Palette', kind: 'text', colour: true, placeholder: 'picked from the photo', title: 'your own thread colours: #rrggbb, comma-separated (replaces Colours)' },
  { flag: 'background', label: 'Board colour', kind: 'color', colour: true, title: 'the board under the threads' },
  { flag: 'lines-per-color', label: 'Lines per colour', kind: 'text', colour: true, placeholder: 'Lines, split by share', title: 'lines for each colour in palette order, e.g. 2500,1200,800 (replaces Lines)' },
  { flag: 'groups', label: 'Groups per colour', kind: 'range', min: 1, max: 12, step: 1, colour: true, title: 'each colour strung in this many groups, taking turns' },
  { flag: 'board-mm', label: 'Board', kind: 'number', min: 50, max: 5000, step: 10, unit: 'mm', machine: true, title: 'board width and height' },
  { flag: 'frame', label: 'Frame', kind: 'select', options: [['circle', 'circle'], ['rect', 'rectangle']], machine: true, title: 'shape the hooks are laid out on' },
  { flag: 'thread-mm', label: 'Thread', kind: 'number', min: 0.02, max: 5, step: 0.01, unit: 'mm', machine: true, title: 'thread thickness' },
  { flag: 'hook-mm', label: 'Hook', kind: 'number', min: 0.1, max: 50, step: 0.1, unit: 'mm', machine: true, title: 'hook diameter' },
  { flag: 'flanks', label: 'Winding', kind: 'select', options: [['2', 'round each hook (2 flanks)'], ['1', 'hook centres']], title: '2: threads touch each hook on a chosen side' },
  { flag: 'min-gap', label: 'Min gap', kind: 'number', min: 1, max: 1000, step: 1, placeholder: '5 % of hooks', unit: 'hooks', title: 'never join hooks closer than this' },
  { flag: 'passes', label: 'Passes', kind: 'range', min: 0, max: 5, step: 1, mono: true, title: 'improvement passes over the finished path (slower)' },
  { flag: 'method', label: 'Method', kind: 'select', options: [['path', 'along the thread (fast)'], ['set', 'chords first, then one thread (~1 % better, 3–5× slower)']], mono: true, title: 'path: greedy along the thread; set: choose the chords anywhere on the board, then thread them' },
  { flag: 'seed', label: 'Seed', kind: 'number', min: 0, max: 4294967295, step: 1, title: 'the same photo, options and seed give the same plan' },
];

const DEFAULTS: PlanFlags = { lines: '3000', hooks: '160', contrast: '1', gamma: '1', colors: '3', background: '#ffffff', groups: '4', 'board-mm': '600', frame: 'circle', 'thread-mm': '0.12', 'hook-mm': '2', flanks: '2', passes: '0', seed: '1' };

function App() {
  const [machines, setMachines] = useState<MachineInfo[]>([]);
  // What the last visit left (web/photo-store.ts): options and framing now, the photo once read from IndexedDB.
  const [kept] = useState(loadSettings);
  const [machine, setMachine] = useState(kept?.machine ?? '');
  const [image, setImage] = useState<ImageInfo | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [uploading, setUploading] = useState(false);
  const [flags, setFlags] = useState<PlanFlags>(kept?.flags ?? DEFAULTS);
  const [colour, setColour] = useState(kept?.colour ?? false);
  const [plan, setPlan] = useState<PlanView>({ count: 0, progress: 0, done: false });
  const [dialect, setDialect] = useState(kept?.dialect ?? 'grbl');
  const [dlError, setDlError] = useState<string | null>(null);
  // The G-code's nozzle lift (hookline gcode --lift z|servo --servo-up S --servo-down S).
  const [lift, setLift] = useState<{ mode: 'z' | 'servo'; up: string; down: string }>(kept?.lift ?? { mode: 'z', up: '', down: '' });
  const [manual, setManual] = useState<ManualState | null>(() => {
    const s = loadManual();
    return s && s.open ? s : null;
  });
  const [saved, setSaved] = useState<ManualState | null>(() => loadManual());
  const [dragging, setDragging] = useState(false);
  const [sim, setSim] = useState<SimView | null>(null);
  /** Stop the simulation after this much machine time (empty: run to the end), as hookline sim --max-machine-seconds. */
  const [simLimit, setSimLimit] = useState('');
  // The importance brush: the mask being painted, its upload's id (sent with one-colour plans).
  const mask = useRef<HTMLCanvasElement | null>(null);
  const [brush, setBrush] = useState<BrushMode>('off');
  const [brushSize, setBrushSize] = useState(40);
  const [maskVersion, setMaskVersion] = useState(0);
  const [maskId, setMaskId] = useState<string | null>(null);
  const simAbort = useRef<AbortController | null>(null);
  // The photo's framing (web/photo-crop.tsx), and whether the crop view is shown instead of the planner's view.
  const [crop, setCrop] = useState<Crop>(kept?.crop ?? NO_CROP);
  const [cropOpen, setCropOpen] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const lines = useRef<Line[]>([]);
  const shape = useRef<BoardShape | null>(null);
  const abort = useRef<AbortController | null>(null);
  const changedAt = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);
  /** The photo last uploaded: sent again when a restarted server no longer has it. */
  const photoFile = useRef<File | null>(null);
  const resent = useRef(false);

  useEffect(() => {
    getMachines().then(setMachines, (e: Error) => setUploadError(e.message));
  }, []);

  // A reload: the photo from IndexedDB under the id the server gave it (a server that lost it
  // answers 404 and the photo is uploaded again), and the importance mask uploaded again first.
  useEffect(() => {
    if (!kept?.image) return;
    void (async () => {
      const file = await loadPhoto();
      if (!file || photoFile.current) return;
      photoFile.current = file;
      if (kept.mask) {
        try {
          mask.current = await canvasFromDataUrl(kept.mask);
          setMaskVersion((v) => v + 1);
          setMaskId((await uploadImage(await maskFile(mask.current))).id);
        } catch {
          mask.current = null; // the server is not there yet: planned without it
        }
      }
      setImage(kept.image);
    })();
  }, []);
  useEffect(() => {
    saveSettings({ image, flags, colour, machine, crop, dialect, lift, mask: maskId && mask.current ? mask.current.toDataURL('image/png') : null });
  }, [image, flags, colour, machine, crop, dialect, lift, maskId]);

  const sendFlags = (): PlanFlags => {
    const out: PlanFlags = {};
    for (const c of CONTROLS) {
      if (c.mono && colour) continue;
      if (c.colour && !colour) continue;
      if (c.machine && machine) continue;
      const v = flags[c.flag];
      if (v !== undefined && v !== '') out[c.flag] = v;
    }
    if (colour && out.palette) delete out.colors;
    if (colour && out['lines-per-color']) delete out.lines; // the CLI takes one or the other
    // The colour layers' round order (web/layers.tsx; kept as 1-based colours, top first) becomes
    // --order: the round repeated once per group. A palette of another size drops it.
    if (colour && flags.order) {
      const round = flags.order.split(',').map((x) => Number(x) - 1);
      const count = out.palette ? out.palette.split(',').length : Number(out.colors);
      if (round.length === count) {
        out.order = orderFlag(round, Number(out.groups ?? 4));
        delete out.groups;
      }
    }
    return out;
  };

  const redraw = (from = 0) => {
    const c = canvas.current;
    const s = shape.current;
    if (!c || !s) return;
    if (from === 0) clearBoard(c, s, c.clientWidth || 600);
    drawLines(c, s, lines.current, from);
    if (from === 0) drawHooks(c, s);
  };

  // Re-plan on every change of the photo, the machine or an option; the previous plan is aborted
  // (the server terminates its planner thread). A layout effect: it runs right after the render,
  // not a frame later.
  useLayoutEffect(() => {
    if (!image) return;
    abort.current?.abort();
    const ac = new AbortController();
    abort.current = ac;
    const t0 = changedAt.current || performance.now();
    changedAt.current = 0;
    let first = true;
    lines.current = [];
    simAbort.current?.abort();
    setSim(null);
    setPlan((p) => ({ count: 0, progress: 0, done: false, view: p.view, shape: p.shape }));
    const onEvent = (e: PlanEvent) => {
      if (ac.signal.aborted) return;
      switch (e.type) {
        case 'job':
          setPlan((p) => ({ ...p, job: e.job }));
          break;
        case 'setup':
          shape.current = e;
          redraw(0);
          setPlan((p) => ({ ...p, shape: e }));
          break;
        case 'view':
          setPlan((p) => ({ ...p, view: `data:image/png;base64,${e.view}` }));
          break;
        case 'lines': {
          const from = e.from === 0 ? 0 : lines.current.length;
          lines.current.length = e.from;
          lines.current.push(...e.lines);
          redraw(from);
          const firstMs = first ? Math.round(performance.now() - t0) : undefined;
          first = false;
          setPlan((p) => ({ ...p, count: lines.current.length, firstMs: p.firstMs ?? firstMs }));
          break;
        }
        case 'progress':
          setPlan((p) => ({ ...p, progress: e.fraction }));
          break;
        case 'done': {
          shape.current = e;
          lines.current = e.lines;
          redraw(0);
          const doneMs = Math.round(performance.now() - t0);
          setPlan((p) => ({ ...p, shape: e, count: e.lines.length, done: true, progress: 1, metres: e.metres, stoppedEarly: e.stoppedEarly, colorChanges: e.colorChanges, doneMs, firstMs: p.firstMs ?? doneMs }));
          break;
        }
        case 'score':
          setPlan((p) => ({ ...p, rmse: e.rmse, ssim: e.ssim, rmseView: e.rmseView }));
          break;
        case 'error':
          setPlan((p) => ({ ...p, error: e.message }));
          break;
      }
    };
    streamPlan({ image: image.id, machine: machine || undefined, importance: !colour && maskId ? maskId : undefined, crop: sameCrop(crop, NO_CROP) ? undefined : crop, flags: sendFlags() }, ac.signal, onEvent)
      .then(() => (resent.current = false), (e: Error) => {
        if (ac.signal.aborted) return;
        // The server restarted and lost the photo (and the brush's mask): send them again, once.
        if (e instanceof ServerError && e.status === 404 && photoFile.current && !resent.current) {
          resent.current = true;
          void resend();
          return;
        }
        setPlan((p) => ({ ...p, error: e.message }));
      });
    return () => ac.abort();
  }, [image, machine, flags, colour, maskId, crop]);

  // Back from the manual mode the thread canvas is a new element: draw the plan on it again.
  useEffect(() => {
    if (!manual) redraw(0);
  }, [manual]);

  const setFlag = (flag: string, value: string) => {
    changedAt.current = performance.now();
    setFlags((f) => ({ ...f, [flag]: value }));
  };

  const resend = async () => {
    try {
      const info = await uploadImage(photoFile.current!);
      const m = maskId && mask.current ? await uploadImage(await maskFile(mask.current)) : null;
      if (m) setMaskId(m.id);
      setImage(info);
    } catch (e) {
      setPlan((p) => ({ ...p, error: (e as Error).message }));
    }
  };

  const takeFile = async (file: File | undefined) => {
    if (!file) return;
    setUploadError(null);
    setUploading(true);
    try {
      changedAt.current = performance.now();
      const info = await uploadImage(file);
      photoFile.current = file;
      void savePhoto(file);
      resent.current = false;
      mask.current = null; // a new photo starts with no importance painted
      setMaskId(null);
      setCrop(NO_CROP);
      setMaskVersion((v) => v + 1);
      setImage(info);
    } catch (e) {
      setUploadError(`${file.name}: ${(e as Error).message}`);
    } finally {
      setUploading(false);
    }
  };

  const dl = (what: string, name: string) => {
    setDlError(null);
    const q = new URLSearchParams();
    const m = machine || (what === 'plan.gcode' ? 'ref-gantry' : '');
    if (m) q.set('machine', m);
    if (what === 'plan.gcode') {
      q.set('dialect', dialect);
      q.set('lift', lift.mode);
      if (lift.mode === 'servo') {
        q.set('servo-up', lift.up);
        q.set('servo-down', lift.down);
      }
    }
    download(`/api/plan/${plan.job}/${what}?${q}`, name).catch((e: Error) => setDlError(`${name}: ${e.message}`));
  };

  const pauseOrResume = () => {
    if (!plan.job || !sim?.running) return;
    const pause = !sim.paused;
    setSim((v) => ({ ...v!, pausing: true }));
    pauseSim(plan.job, pause).catch((e: Error) => setSim((v) => ({ ...v!, pausing: false, error: e.message })));
  };
  const simulate = () => {
    if (!plan.job) return;
    simAbort.current?.abort();
    const ac = new AbortController();
    simAbort.current = ac;
    setSim({ running: true, progress: 0 });
    const limit = simLimit.trim() === '' ? undefined : Number(simLimit);
    streamSim(plan.job, simMachine, ac.signal, (e) => {
      if (ac.signal.aborted) return;
      if (e.type === 'progress') setSim((v) => ({ ...v!, progress: e.fraction }));
      else if (e.type === 'paused') setSim((v) => ({ ...v!, progress: e.fraction, paused: true, pausing: false }));
      else if (e.type === 'resumed') setSim((v) => ({ ...v!, paused: false, pausing: false }));
      else if (e.type === 'result') setSim({ running: false, progress: 1, result: e });
      else setSim({ running: false, progress: 0, error: e.message });
    }, limit).catch((e: Error) => !ac.signal.aborted && setSim({ running: false, progress: 0, error: e.message }));
  };

  /** A brush stroke ended: upload the mask; the plan follows with it. */
  const strokeDone = () => {
    if (!mask.current) return;
    changedAt.current = performance.now();
    maskFile(mask.current).then(uploadImage).then((m) => setMaskId(m.id), (e: Error) => setUploadError(`importance brush: ${e.message}`));
  };
  /** A new framing: the painted importance moves with the photo (redrawn for the new frame and uploaded), then one plan for both. */
  const cropTo = async (next: Crop) => {
    changedAt.current = performance.now();
    if (!image || !mask.current || !maskId) {
      setCrop(next);
      return;
    }
    mask.current = remapMask(mask.current, crop, next, image.width, image.height, `rgb(${NEUTRAL},${NEUTRAL},${NEUTRAL})`);
    setMaskVersion((v) => v + 1);
    try {
      const m = await uploadImage(await maskFile(mask.current));
      setMaskId(m.id);
    } catch (e) {
      setUploadError(`importance brush: ${(e as Error).message}`);
    }
    setCrop(next);
  };
  const clearMask = () => {
    mask.current = newMask();
    setMaskVersion((v) => v + 1);
    changedAt.current = performance.now();
    setMaskId(null);
  };

  const openManual = () => {
    if (!shape.current || !plan.done) return;
    const s: ManualState = { shape: shape.current, lines: lines.current, flanked: (flags.flanks ?? '2') === '2', done: 0, open: true };
    saveManual(s);
    setSaved(s);
    setManual(s);
  };

  if (manual) {
    return (
      <div class="app">
        <header><h1>hookline studio</h1><span class="sub">stringing by hand</span></header>
        <Manual state={manual} onChange={(s) => { saveManual(s); setManual(s); setSaved(s); }}
          onClose={() => { const s = { ...manual, open: false }; saveManual(s); setSaved(s); setManual(null); }} />
      </div>
    );
  }

  const m = machines.find((x) => x.name === machine);
  /** The machine a simulation runs on: the chosen one, else the reference gantry (the defaults match it). */
  const simMachine = machine || 'ref-gantry';
  const fmt = (v: number | undefined, d: number) => (v === undefined ? '–' : v.toFixed(d));
  return (
    <div class={`app${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={(e) => { if (e.target === e.currentTarget) setDragging(false); }}
      onDrop={(e) => { e.preventDefault(); setDragging(false); void takeFile(e.dataTransfer?.files[0]); }}>
      <header>
        <h1>hookline studio</h1>
        <span class="sub">photo → thread picture</span>
        <button class="primary" onClick={() => fileInput.current?.click()}>Choose a photo…</button>
        <input ref={fileInput} type="file" accept={ACCEPT} hidden data-testid="file" onChange={(e) => void takeFile((e.currentTarget as HTMLInputElement).files?.[0])} />
        {saved && !saved.open && saved.done < saved.lines.length && (
          <button onClick={() => { const s = { ...saved, open: true }; saveManual(s); setManual(s); }}>Continue stringing (line {saved.done + 1} of {saved.lines.length})</button>
        )}
      </header>
      {uploadError && <div class="message error" data-testid="upload-error">{uploadError}</div>}
      <main>
        <section class="panel">
          <h2 class="tabs">
            <span>Photo {image && !cropOpen && plan.view ? '(as the planner sees it)' : ''}</span>
            {image && <button data-testid="crop-open" class={cropOpen ? 'on' : ''} onClick={() => setCropOpen(!cropOpen)} title="crop, zoom and turn the photo under the frame">{cropOpen ? 'done' : 'crop & rotate'}</button>}
          </h2>
          {!image && (
            <div class="drop" onClick={() => fileInput.current?.click()}>
              {uploading ? 'Reading the photo…' : <>Drop a photo here (JPEG, PNG or WebP)<br />or click to choose one</>}
            </div>
          )}
          {image && cropOpen && (
            <PhotoCrop src={`/api/image/${image.id}`} width={image.width} height={image.height} frame={m ? 'circle' : (flags.frame === 'rect' ? 'rect' : 'circle')} crop={crop} onCommit={(c) => void cropTo(c)} />
          )}
          {image && !cropOpen && (
            <div class="photos">
              {plan.view ? <img class="board" data-testid="planner-view" src={plan.view} alt="the photo as the planner sees it" /> : <div class="drop">{uploading ? 'Reading the photo…' : 'Preparing…'}</div>}
              {plan.view && !colour && <BrushOverlay mask={mask.current ??= newMask()} mode={brush} size={brushSize} onStroke={strokeDone} version={maskVersion} />}
              <img class="thumb" src={`/api/image/${image.id}`} alt="the uploaded photo" title={`${image.width}×${image.height} px`} />
            </div>
          )}
          {image && !colour && (
            <div class="brushbar" title="paint where detail matters (more) or does not (less): the planner's --importance mask">
              <span>Importance brush</span>
              <select data-testid="brush-mode" value={brush} onChange={(e) => setBrush((e.currentTarget as HTMLSelectElement).value as BrushMode)}>
                <option value="off">off</option>
                <option value="more">more detail</option>
                <option value="less">less detail</option>
              </select>
              <input type="range" min={8} max={120} step={4} value={brushSize} onInput={(e) => setBrushSize(Number((e.currentTarget as HTMLInputElement).value))} title="brush size" />
              <button disabled={!maskId} data-testid="brush-clear" onClick={clearMask}>clear</button>
            </div>
          )}
          {sim && (sim.result || sim.error) && <SimPanel sim={sim} />}
        </section>
        <section class="panel">
          <h2>Thread picture {plan.done || plan.error ? '' : image ? `(planning… ${Math.round(plan.progress * 100)} %)` : ''}</h2>
          <canvas ref={canvas} class="board" data-testid="thread" />
          {plan.error && <div class="message error" data-testid="plan-error">{plan.error}</div>}
          <dl class="numbers" data-testid="numbers" data-job={plan.job} data-done={plan.done ? '1' : '0'}>
            <div><dt>lines</dt><dd data-testid="lines">{plan.count}</dd></div>
            <div><dt>thread</dt><dd data-testid="metres">{plan.metres === undefined ? '–' : `${plan.metres.toFixed(1)} m`}</dd></div>
            <div title="the quality metric as hookline score computes it (docs/plan-format.md): RMSE, lower is better; in brackets seen from a few metres (rmse_view)"><dt>score (RMSE)</dt><dd data-testid="rmse">{fmt(plan.rmse, 3)}</dd>{plan.rmseView !== undefined && <small> view {fmt(plan.rmseView, 3)}</small>}</div>
            <div title="structural similarity, higher is better (one-colour plans)"><dt>SSIM</dt><dd data-testid="ssim">{fmt(plan.ssim, 3)}</dd></div>
            <div><dt>first lines</dt><dd data-testid="first-ms">{plan.firstMs === undefined ? '–' : `${plan.firstMs} ms`}</dd></div>
            <div><dt>complete</dt><dd data-testid="done-ms">{plan.doneMs === undefined ? '–' : `${plan.doneMs} ms`}</dd></div>
          </dl>
          {plan.stoppedEarly && <div class="message">Stopped early: more lines would not improve the picture.</div>}
          {plan.done && plan.shape && <Forming canvas={canvas.current} shape={plan.shape} lines={lines.current} />}
          {colour && plan.done && plan.shape && (
            <Layers shape={plan.shape} lines={lines.current} round={flags.order ? flags.order.split(',').map((x) => Number(x) - 1) : null}
              onRound={(r) => setFlag('order', r ? r.map((c) => c + 1).join(',') : '')} />
          )}
        </section>
        <aside class="panel controls">
          <h2>Planner</h2>
          <label class="row">
            <span>Machine</span>
            <select data-testid="machine" value={machine} onChange={(e) => { changedAt.current = performance.now(); setMachine((e.currentTarget as HTMLSelectElement).value); }}>
              <option value="">none: set hooks and board below</option>
              {machines.map((x) => <option value={x.name}>{x.name} ({x.hooks} hooks, {x.diameterMm} mm {x.kind})</option>)}
            </select>
          </label>
          <label class="row">
            <span>Thread colours</span>
            <select data-testid="mode" value={colour ? 'colour' : 'mono'} onChange={(e) => {
              changedAt.current = performance.now();
              const toColour = (e.currentTarget as HTMLSelectElement).value === 'colour';
              // Each kind's default line count (hookline plan: 3000 one-colour, 4500 colour) when the slider is at the other's.
              setFlags((f) => ({ ...f, lines: f.lines === (toColour ? '3000' : '4500') ? (toColour ? '4500' : '3000') : f.lines }));
              setColour(toColour);
            }}>
              <option value="mono">one (black)</option>
              <option value="colour">several</option>
            </select>
          </label>
          {CONTROLS.filter((c) => !(c.mono && colour) && !(c.colour && !colour)).map((c) => {
            const fixed = c.machine && m;
            const value = fixed ? machineValue(m!, c.flag) : (flags[c.flag] ?? '');
            const on = (e: Event) => setFlag(c.flag, (e.currentTarget as HTMLInputElement).value);
            return (
              <label class="row" title={c.title}>
                <span>{c.label}</span>
                {c.kind === 'select' ? (
                  <select data-flag={c.flag} value={value} disabled={!!fixed} onChange={on}>{c.options!.map(([v, t]) => <option value={v}>{t}</option>)}</select>
                ) : c.kind === 'range' ? (
                  <span class="range"><input type="range" data-flag={c.flag} min={c.min} max={c.max} step={c.step} value={value} disabled={!!fixed} onInput={on} /><output>{value}</output></span>
                ) : (
                  <span class="range"><input type={c.kind as string as 'text'} data-flag={c.flag} min={c.min} max={c.max} step={c.step} value={value} placeholder={c.placeholder} disabled={!!fixed} onChange={on} />{c.unit && <small>{c.unit}</small>}</span>
                )}
              </label>
            );
          })}
          <h2>Downloads</h2>
          <div class="downloads">
            <button disabled={!plan.done} data-testid="dl-plan" onClick={() => dl('plan.json', 'plan.json')}>plan.json</button>
            <button disabled={!plan.done} data-testid="dl-png" onClick={() => dl('preview.png', 'preview.png')}>preview.png</button>
            <button disabled={!plan.done} data-testid="dl-svg" title="the thread lines as SVG paths in their colours, on the board (mm)" onClick={() => shape.current && saveText(planSvg(shape.current, lines.current), 'preview.svg', 'image/svg+xml')}>preview.svg</button>
            <button disabled={!plan.done} data-testid="dl-pdf" onClick={() => dl('instructions.pdf', 'instructions.pdf')} title="print-ready stringing instructions, as hookline instructions writes them">instructions (PDF)</button>
            <button disabled={!plan.done} data-testid="dl-hls" onClick={() => dl('plan.hls', 'plan.hls')} title={machine ? `bound to ${machine}` : 'for any machine with this many hooks'}>stream (.hls)</button>
            <span class="gcode">
              <button disabled={!plan.done || m?.kind === 'ring'} data-testid="dl-gcode" onClick={() => dl('plan.gcode', `plan-${dialect}${lift.mode === 'servo' ? '-servo' : ''}.gcode`)} title={`for ${machine || 'ref-gantry'}`}>G-code</button>
              <select value={dialect} onChange={(e) => setDialect((e.currentTarget as HTMLSelectElement).value)}><option value="grbl">Grbl</option><option value="marlin">Marlin</option></select>
              <select data-testid="lift" value={lift.mode} title="how the nozzle rises over the hooks" onChange={(e) => setLift({ ...lift, mode: (e.currentTarget as HTMLSelectElement).value as 'z' | 'servo' })}><option value="z">Z lift</option><option value="servo">servo lift</option></select>
            </span>
            {lift.mode === 'servo' && (
              <span class="servo" title="the firmware's S values for the servo (Marlin M280; stock Grbl has no servo output)">
                servo S up <input type="number" data-testid="servo-up" min={0} max={100000} value={lift.up} onInput={(e) => setLift({ ...lift, up: (e.currentTarget as HTMLInputElement).value })} />
                down <input type="number" data-testid="servo-down" min={0} max={100000} value={lift.down} onInput={(e) => setLift({ ...lift, down: (e.currentTarget as HTMLInputElement).value })} />
              </span>
            )}
          </div>
          {dlError && <div class="message error" data-testid="dl-error">{dlError}</div>}
          <h2>Check the build</h2>
          <button class="wide" disabled={!plan.done || sim?.running} data-testid="sim-run" onClick={simulate}>
            {sim?.running ? `${sim.paused ? 'Paused' : 'Simulating'} on ${simMachine}… ${Math.round(sim.progress * 100)} %` : `Simulate on ${simMachine}`}
          </button>
          {sim?.running && <div class="bar"><div style={{ width: `${sim.progress * 100}%` }} /></div>}
          {sim?.running && (
            <button class="wide" data-testid="sim-pause" disabled={sim.pausing} data-paused={sim.paused ? '1' : '0'} onClick={pauseOrResume}>
              {sim.paused ? 'Resume the simulation' : 'Pause the simulation'}
            </button>
          )}
          <label class="row" title="stop the simulation after this much machine time, as hookline sim --max-machine-seconds (a timeout violation)">
            <span>Stop after</span>
            <span class="range"><input type="number" data-testid="sim-limit" min={1} max={31536000} step={1} placeholder="the whole build" value={simLimit} onInput={(e) => setSimLimit((e.currentTarget as HTMLInputElement).value)} /><small>s</small></span>
          </label>
          <h2>Make it</h2>
          <button class="primary wide" disabled={!plan.done} data-testid="manual-open" onClick={openManual}>String it by hand…</button>
        </aside>
      </main>
      <MachinePanel job={plan.done ? plan.job : undefined} machines={machines} plannerMachine={machine} />
      {dragging && <div class="dropcover">Drop the photo</div>}
    </div>
  );
}

/** The simulated build: the verdict, the figures and what the motion actually strung. */
function SimPanel({ sim }: { sim: SimView }) {
  if (sim.error) return <div class="message error" data-testid="sim-error">{sim.error}</div>;
  const r = sim.result!;
  return (
    <div class="sim" data-testid="sim-result">
      <h2>Simulated build on {r.machine}</h2>
      <div class={`verdict ${r.ok ? 'ok' : 'bad'}`} data-testid="sim-verdict">
        {r.ok ? 'OK' : 'FAILED'}: wrapped {r.wrappedHooks} of {r.plannedHooks} hooks{r.violationCount ? `, ${r.violationCount} violations` : ', no violations'}
      </div>
      <dl class="numbers">
        <div><dt>machine time</dt><dd data-testid="sim-time">{duration(r.machineSeconds)}</dd></div>
        <div><dt>× the floor</dt><dd>{(r.machineSeconds / Math.max(1e-9, r.floorSeconds)).toFixed(2)}</dd></div>
        <div><dt>thread</dt><dd>{r.threadMeters.toFixed(1)} m</dd></div>
        <div><dt>pile</dt><dd>{r.maxPileMm.toFixed(1)} mm</dd></div>
        <div><dt>simulated in</dt><dd>{r.wallSeconds.toFixed(1)} s</dd></div>
      </dl>
      {r.firstMismatch && <div class="message error">First mismatch at path position {r.firstMismatch.index}: planned hook {r.firstMismatch.expectedHook ?? '–'}, wrapped {r.firstMismatch.wrappedHook ?? '–'}</div>}
      <SimDrawing result={r} />
      <img class="board strung" data-testid="sim-strung" src={`data:image/png;base64,${r.strung}`} alt="what the simulated machine strung" title="drawn from the hooks the simulated motion actually wrapped" />
    </div>
  );
}

function machineValue(m: MachineInfo, flag: string): string {
  if (flag === 'hooks') return String(m.hooks);
  if (flag === 'board-mm') return String(m.diameterMm);
  if (flag === 'thread-mm') return String(m.threadMm);
  if (flag === 'hook-mm') return String(m.hookMm);
  if (flag === 'frame') return 'circle';
  return '';
}

render(<App />, document.getElementById('app')!);
