/**
 * The sim outputs next to report.json and strung.png (docs/runtime.md, "Simulator"):
 * motion.svg (the path reconstructed from step edges: the gantry's nozzle, or a ring's arm tip in the
 * ring's frame), build.gif (the piece forming from the wrapped hooks, the planner's forming-gif
 * renderer) and report.html (one page: verdict, strung vs planned, motion path, speed/acceleration
 * per axis, violations with time and line).
 */
import { renderFormingGif } from '../../host/plan/gif';
import type { Drawable, Line } from '../../host/plan/render';
import { hookLabel, pathPlace } from '../../host/numbering';
import { type MachineProfile, hookXMm, hookYMm } from '../../shared/machine';
import { lineColorsFromOps } from '../render-strung';
import type { SimResult } from '../simulate';
import type { Violation, WrapEvent } from '../verify';
import type { MotionSamples } from './sampler';

const LOW_COLOR = '#d62728';
const HIGH_COLOR = '#1f77b4';

/** What the drawing and the plots call the samples' path states and axes (the gantry's unless given: sim/report/ring-sampler.ts has the ring's). */
export interface MotionLabels {
  pathTitle: string;
  pathCaption: string;
  lowLabel: string;
  highLabel: string;
  /** Per MotionSamples.speed/accel entry: name, units and the profile's limits. */
  axes: { name: string; speedUnit: string; accelUnit: string; maxSpeed: number; maxAccel: number; color: string }[];
}

export function gantryMotionLabels(m: MachineProfile): MotionLabels {
  const colors = ['#1f77b4', '#2ca02c', '#9467bd'];
  return {
    pathTitle: 'nozzle XY path reconstructed from step edges',
    pathCaption: 'nozzle XY path from step edges',
    lowLabel: 'low (winding)',
    highLabel: 'high',
    axes: [m.axes.x, m.axes.y, m.axes.z].map((ax, a) => ({
      name: 'xyz'[a], speedUnit: 'mm/s', accelUnit: 'mm/s²', maxSpeed: ax.maxSpeedMmS, maxAccel: ax.accelMmS2, color: colors[a],
    })),
  };
}

function f1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** motion.svg: board outline, hooks as small circles, the path coloured low (winding) / high. */
export function renderMotionSvg(m: MachineProfile, s: MotionSamples, labels: MotionLabels = gantryMotionLabels(m)): string {
  const w = m.board.widthMm;
  const h = m.board.heightMm;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="-10 -10 ${w + 20} ${h + 20}" width="${Math.round(w + 20)}" height="${Math.round(h + 20)}">`);
  out.push(`<title>${esc(m.name)}: ${esc(labels.pathTitle)} (${s.xs.length} of ${s.rawPoints} vertices)</title>`);
  out.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="#fff" stroke="#444" stroke-width="0.8"/>`);
  out.push(`<g fill="#999">`);
  const r = Math.max(0.5, m.hooks.hookDiameterMm / 2);
  for (let i = 0; i < m.hooks.count; i++) out.push(`<circle cx="${f1(hookXMm(m, i))}" cy="${f1(hookYMm(m, i))}" r="${r}"/>`);
  out.push(`</g>`);
  // One path per state: runs of vertices reached while low / high.
  const d = [[], []] as string[][];
  const n = s.xs.length;
  for (let i = 1; i < n; i++) {
    const k = s.low[i];
    const cmd = i > 1 && s.low[i - 1] === k ? 'L' : `M${f1(s.xs[i - 1])} ${f1(s.ys[i - 1])}L`;
    d[k].push(`${cmd}${f1(s.xs[i])} ${f1(s.ys[i])}`);
  }
  out.push(`<path d="${d[0].join('')}" fill="none" stroke="${HIGH_COLOR}" stroke-opacity="0.35" stroke-width="0.4" data-state="high"/>`);
  out.push(`<path d="${d[1].join('')}" fill="none" stroke="${LOW_COLOR}" stroke-opacity="0.6" stroke-width="0.3" data-state="low"/>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

/** build.gif: the wrapped lines forming, ≤ 60 frames (host/plan/gif.ts). */
export function renderBuildGif(m: MachineProfile, wrapped: readonly number[], planOps: readonly number[], background: string): Uint8Array {
  const nails: [number, number][] = [];
  for (let i = 0; i < m.hooks.count; i++) nails.push([hookXMm(m, i), hookYMm(m, i)]);
  const spec: Drawable = {
    board: { widthMm: m.board.widthMm, heightMm: m.board.heightMm, frame: 'circle' },
    nails,
    threadWidthMm: m.thread.widthMm,
    background,
    colors: ['#000000'],
  };
  const lc = lineColorsFromOps(planOps);
  const lines: Line[] = [];
  for (let i = 1; i < wrapped.length; i++) lines.push([lc[i - 1] ?? 0, wrapped[i - 1], wrapped[i]]);
  return renderFormingGif(spec, lines);
}

/** The line in progress at timeUs: wraps completed by then (0 = before the first hook). */
export function lineAt(wraps: readonly WrapEvent[], timeUs: number): number {
  let lo = 0;
  let hi = wraps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (wraps[mid].timeUs <= timeUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function hms(sec: number): string {
  const s = Math.max(0, sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${(s % 60).toFixed(3).padStart(6, '0')}`;
}

/** One axis' envelope over machine time as an inline SVG polyline, with its limit dashed. */
function plotSvg(title: string, unit: string, data: Float32Array, bucketUs: number, limit: number, color: string): string {
  const W = 640;
  const H = 120;
  const L = 48;
  const B = 18;
  let max = limit;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  max *= 1.05;
  const n = Math.max(1, data.length);
  const X = (i: number) => L + ((W - L - 4) * i) / n;
  const Y = (v: number) => 4 + (H - B - 4) * (1 - v / max);
  const pts: string[] = [];
  for (let i = 0; i < data.length; i++) pts.push(`${f1(X(i))},${f1(Y(data[i]))} ${f1(X(i + 1))},${f1(Y(data[i]))}`);
  const totalS = (n * bucketUs) / 1e6;
  const yl = Y(limit);
  return `<figure><figcaption>${esc(title)}</figcaption><svg class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">` +
    `<rect x="${L}" y="4" width="${W - L - 4}" height="${H - B - 4}" fill="#fafafa" stroke="#ccc"/>` +
    `<line x1="${L}" x2="${W - 4}" y1="${f1(yl)}" y2="${f1(yl)}" stroke="#c00" stroke-dasharray="4 3"/>` +
    `<text x="${L - 4}" y="${f1(yl + 4)}" text-anchor="end">${Math.round(limit)}</text>` +
    `<text x="${L - 4}" y="${H - B}" text-anchor="end">0</text>` +
    `<text x="${L}" y="${H - 4}">0</text><text x="${W - 4}" y="${H - 4}" text-anchor="end">${hms(totalS)} (${unit})</text>` +
    `<polyline fill="none" stroke="${color}" stroke-width="1" points="${pts.join(' ')}"/></svg></figure>`;
}

export interface ReportPage {
  r: SimResult;
  machine: MachineProfile;
  streamPath: string;
  /** The planned picture (the plan's preview.png or rendered from the stream) and where it came from. */
  plannedPng: Uint8Array | null;
  plannedLabel: string;
  samples: MotionSamples | null;
  /** Names and units of the samples (default: the gantry's). */
  labels?: MotionLabels;
}

function dataUri(mime: string, b: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(b).toString('base64')}`;
}

/** report.html: one page, inline CSS and plots; the planned picture embedded, strung.png, motion.svg and build.gif referenced as the sibling files they are. */
export function renderReportHtml(p: ReportPage): string {
  const { r, machine } = p;
  const mm = r.firstMismatch;
  const verdict = r.ok ? 'OK' : 'FAILED';
  const rows: string[] = [];
  const kv = (k: string, v: string) => rows.push(`<tr><th>${esc(k)}</th><td>${v}</td></tr>`);
  kv('verdict', `<b class="${r.ok ? 'ok' : 'bad'}" id="verdict">${verdict}</b>`);
  kv('hooks', `planned ${r.planHooks.length}, wrapped ${r.wrapped.length}`);
  kv('first mismatch', mm ? esc(`${pathPlace(mm.index)}: planned ${fmtHook(mm.expectedHook, mm.expectedDir)}, wrapped ${fmtHook(mm.wrappedHook, mm.wrappedDir)}`) : 'none');
  kv('violations', r.violations.length ? esc(Object.entries(r.violationCounts).map(([k, c]) => `${k} × ${c}`).join(', ')) : 'none');
  if (r.alarm) kv('alarm', esc(r.alarm));
  kv('machine time', `${hms(r.machineSeconds)} (${(r.machineSeconds / Math.max(1e-9, r.floorSeconds)).toFixed(2)} × floor ${hms(r.floorSeconds)})`);
  kv('thread', `${r.threadMeters.toFixed(1)} m, pile up to ${r.maxPileMm.toFixed(2)} mm`);
  kv('stream / machine', esc(`${p.streamPath} on ${machine.name}`));
  kv('simulation', `${r.wallSeconds.toFixed(2)} s wall, ${r.timerEvents} timer events`);
  if (r.stepGenerator) {
    const g = r.stepGenerator;
    kv('step generator', `${g.segments} segments, ${(g.steps / Math.max(1, g.segments)).toFixed(1)} steps each, queue peak ${g.peakQueued} of ${g.queueLength}, ${g.lateSegments} late`);
  }

  const vrows = r.violations.map((v: Violation) =>
    `<tr><td>${esc(v.kind)}</td><td>${hms(v.timeUs / 1e6)}</td><td>${lineAt(r.wraps, v.timeUs)}</td><td>${esc(v.axis ?? (v.hook !== undefined ? `hook ${v.hook}` : ''))}</td><td>${esc(v.message)}</td></tr>`);
  const kept = r.violations.length;
  const total = Object.values(r.violationCounts).reduce((a, b) => a + (b ?? 0), 0);
  const vtable = `<table id="violations"><thead><tr><th>kind</th><th>time</th><th>line</th><th>where</th><th>message</th></tr></thead><tbody>` +
    (vrows.length ? vrows.join('') : `<tr><td colspan="5">no violations</td></tr>`) + `</tbody></table>` +
    (total > kept ? `<p>${total - kept} more violations counted, not listed (at most 10 kept per kind).</p>` : '');

  const pics = `<div class="row"><figure><figcaption>strung (what the motion wrapped)</figcaption><img src="strung.png" alt="strung"></figure>` +
    (p.plannedPng ? `<figure><figcaption>${esc(p.plannedLabel)}</figcaption><img src="${dataUri('image/png', p.plannedPng)}" alt="planned"></figure>` : '') +
    `<figure><figcaption>build.gif</figcaption><img src="build.gif" alt="build"></figure></div>`;

  let motion = '<p>No motion samples.</p>';
  let plots = '';
  const s = p.samples;
  if (s) {
    const lb = p.labels ?? gantryMotionLabels(machine);
    motion = `<figure><figcaption>${esc(lb.pathCaption)}: <span style="color:${LOW_COLOR}">${esc(lb.lowLabel)}</span>, <span style="color:${HIGH_COLOR}">${esc(lb.highLabel)}</span>; ${s.xs.length} of ${s.rawPoints} vertices</figcaption><img class="motion" src="motion.svg" alt="motion path"></figure>`;
    const bucket = (s.bucketUs / 1e6).toFixed(2);
    plots = `<p>Highest value per ${bucket} s of machine time; speed is the net step count over 20 ms windows, acceleration the change between windows (window-averaged; the verifier checks the exact limits from every step interval). Dashed: the profile's limit.</p>` +
      lb.axes.map((ax, a) => `<div class="row">${plotSvg(`${ax.name} speed (${ax.speedUnit})`, 'machine time', s.speed[a], s.bucketUs, ax.maxSpeed, ax.color)}${plotSvg(`${ax.name} acceleration (${ax.accelUnit})`, 'machine time', s.accel[a], s.bucketUs, ax.maxAccel, ax.color)}</div>`).join('');
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hookline sim ${verdict}: ${esc(p.streamPath)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#080}.bad{color:#c00}
.row{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-weight:600;margin:.3em 0}
img{max-width:480px;border:1px solid #ccc;image-rendering:auto}img.motion{max-width:720px}
svg.plot text{font:10px sans-serif;fill:#555}
</style></head><body>
<h1>hookline sim: <span class="${r.ok ? 'ok' : 'bad'}">${verdict}</span></h1>
<h2>Verdict</h2><table>${rows.join('')}</table>
<h2>Strung vs planned</h2>${pics}
<h2>Motion</h2>${motion}
<h2>Speed and acceleration per axis</h2>${plots || '<p>Not sampled.</p>'}
<h2>Violations</h2>${vtable}
</body></html>
`;
}

function fmtHook(h: number | null, d: number | null): string {
  if (h === null) return 'nothing';
  return `hook ${hookLabel(h, d)}`;
}
