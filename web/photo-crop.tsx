/**
 * Crop, zoom and rotate the photo with the frame drawn over it (docs/studio.md). The frame (the
 * board: a circle or a square) stays in the middle of the view and the photo moves under it: drag
 * to pan, the wheel or the slider to zoom, buttons to turn by 90° and a slider for fine turns.
 * The numbers (host/studio/protocol.ts `Crop`) go to the server, which cuts the same window with
 * sharp (host/studio/crop.ts): the planner plans for exactly what is inside the frame.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Crop } from '../host/studio/protocol';

export const NO_CROP: Crop = { rotate: 0, zoom: 1, x: 0.5, y: 0.5 };
const ZOOM_MAX = 8;
/** The frame's share of the view's width (the rest shows the photo around it, dimmed). */
const FRAME_SHARE = 0.72;

export function sameCrop(a: Crop, b: Crop): boolean {
  return a.rotate === b.rotate && a.zoom === b.zoom && a.x === b.x && a.y === b.y;
}

/** Rounded as the server rounds (host/studio/crop.ts checkCrop), turn in −180..180. */
export function tidyCrop(c: Crop): Crop {
  let a = Math.round((((c.rotate % 360) + 360) % 360) * 100) / 100;
  if (a > 180) a -= 360;
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return {
    rotate: a,
    zoom: Math.round(clamp(c.zoom, 1, ZOOM_MAX) * 1000) / 1000,
    x: Math.round(clamp(c.x, 0, 1) * 10000) / 10000,
    y: Math.round(clamp(c.y, 0, 1) * 10000) / 10000,
  };
}

/** The turn split into quarter turns and the fine rest (−45..45). */
function split(rotate: number): [number, number] {
  const q = Math.round(rotate / 90);
  return [q, Math.round((rotate - q * 90) * 100) / 100];
}

/**
 * The transform from photo pixels to view pixels (a canvas `side` px square): the frame is
 * FRAME_SHARE of the view, centred; the photo point (x·w, y·h) at its centre, turned `rotate`°.
 */
function viewTransform(g: CanvasRenderingContext2D, side: number, w: number, h: number, c: Crop) {
  const k = (FRAME_SHARE * side) / (Math.min(w, h) / c.zoom);
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.translate(side / 2, side / 2);
  g.scale(k, k);
  g.rotate((c.rotate * Math.PI) / 180);
  g.translate(-c.x * w, -c.y * h);
}

export function PhotoCrop(props: { src: string; width: number; height: number; frame: 'circle' | 'rect'; crop: Crop; onCommit: (c: Crop) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const photo = useRef<HTMLImageElement | null>(null);
  const [loaded, setLoaded] = useState(0);
  const [draft, setDraft] = useState<Crop>(props.crop);
  const drag = useRef<{ x: number; y: number; start: Crop } | null>(null);
  const wheelTimer = useRef<number | null>(null);
  const { width: w, height: h } = props;

  useEffect(() => setDraft(props.crop), [props.crop]);
  useEffect(() => {
    const img = new Image();
    setLoaded(0);
    img.onload = () => {
      photo.current = img;
      setLoaded((n) => n + 1);
    };
    img.src = props.src;
  }, [props.src]);

  // Draw: the photo turned and scaled under the frame, the outside dimmed, the frame's edge.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const side = Math.round((c.clientWidth || 400) * dpr);
    if (c.width !== side || c.height !== side) {
      c.width = side;
      c.height = side;
    }
    const g = c.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = '#ffffff'; // outside the photo is white, as the server cuts it
    g.fillRect(0, 0, side, side);
    if (photo.current) {
      viewTransform(g, side, w, h, draft);
      g.drawImage(photo.current, 0, 0, w, h);
    }
    g.setTransform(1, 0, 0, 1, 0, 0);
    const r = (FRAME_SHARE * side) / 2;
    g.beginPath();
    g.rect(0, 0, side, side);
    if (props.frame === 'circle') g.arc(side / 2, side / 2, r, 0, 2 * Math.PI, true);
    else g.rect(side / 2 + r, side / 2 - r, -2 * r, 2 * r);
    g.fillStyle = 'rgba(31, 29, 26, 0.55)';
    g.fill('evenodd');
    g.strokeStyle = '#b5542b';
    g.lineWidth = Math.max(2, side / 250);
    g.beginPath();
    if (props.frame === 'circle') g.arc(side / 2, side / 2, r, 0, 2 * Math.PI);
    else g.rect(side / 2 - r, side / 2 - r, 2 * r, 2 * r);
    g.stroke();
  }, [draft, loaded, props.frame, w, h]);

  const commit = (c: Crop) => {
    const t = tidyCrop(c);
    setDraft(t);
    if (!sameCrop(t, props.crop)) props.onCommit(t);
  };
  /** CSS pixels of the view per photo pixel. */
  const scale = (c: Crop) => (FRAME_SHARE * (canvas.current?.clientWidth || 400)) / (Math.min(w, h) / c.zoom);
  const [quarter, fine] = split(draft.rotate);

  return (
    <div class="crop" data-testid="crop">
      <canvas ref={canvas} class="board crop-view" data-testid="crop-view" data-crop={JSON.stringify(draft)} data-loaded={loaded > 0 ? '1' : '0'}
        onPointerDown={(e) => {
          (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
          drag.current = { x: e.clientX, y: e.clientY, start: draft };
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          // The view moved by (dx, dy): the photo point under the frame's centre moves the other way, turned back.
          const k = scale(d.start);
          const t = (-d.start.rotate * Math.PI) / 180;
          const vx = -(e.clientX - d.x) / k;
          const vy = -(e.clientY - d.y) / k;
          const px = vx * Math.cos(t) - vy * Math.sin(t);
          const py = vx * Math.sin(t) + vy * Math.cos(t);
          setDraft(tidyCrop({ ...d.start, x: d.start.x + px / w, y: d.start.y + py / h }));
        }}
        onPointerUp={() => {
          if (!drag.current) return;
          drag.current = null;
          commit(draft);
        }}
        onWheel={(e) => {
          e.preventDefault();
          const next = tidyCrop({ ...draft, zoom: draft.zoom * Math.exp(-e.deltaY * 0.0015) });
          setDraft(next);
          // The plan follows when the wheel rests.
          if (wheelTimer.current) clearTimeout(wheelTimer.current);
          wheelTimer.current = window.setTimeout(() => commit(next), 300);
        }} />
      <div class="crop-controls">
        <button data-testid="rotate-left" title="turn the photo 90° anticlockwise" onClick={() => commit({ ...draft, rotate: (quarter - 1) * 90 + fine })}>⟲ 90°</button>
        <button data-testid="rotate-right" title="turn the photo 90° clockwise" onClick={() => commit({ ...draft, rotate: (quarter + 1) * 90 + fine })}>⟳ 90°</button>
        <label class="range" title="fine turn, degrees">
          <span>turn</span>
          <input type="range" data-testid="rotate-fine" min={-45} max={45} step={0.5} value={fine}
            onInput={(e) => setDraft(tidyCrop({ ...draft, rotate: quarter * 90 + Number((e.currentTarget as HTMLInputElement).value) }))}
            onChange={(e) => commit({ ...draft, rotate: quarter * 90 + Number((e.currentTarget as HTMLInputElement).value) })} />
          <output>{fine}°</output>
        </label>
        <label class="range" title="zoom (also the mouse wheel over the photo)">
          <span>zoom</span>
          <input type="range" data-testid="zoom" min={1} max={ZOOM_MAX} step={0.05} value={draft.zoom}
            onInput={(e) => setDraft(tidyCrop({ ...draft, zoom: Number((e.currentTarget as HTMLInputElement).value) }))}
            onChange={(e) => commit({ ...draft, zoom: Number((e.currentTarget as HTMLInputElement).value) })} />
          <output>{draft.zoom.toFixed(2)}×</output>
        </label>
        <button data-testid="crop-reset" disabled={sameCrop(draft, NO_CROP)} onClick={() => commit(NO_CROP)}>reset</button>
      </div>
    </div>
  );
}

/**
 * Redraw an importance mask painted over crop `from` so it lies over the same parts of the photo
 * under crop `to` (the brush stays on the face when the photo is moved, zoomed or turned); what
 * was outside the old frame becomes `neutral`.
 */
export function remapMask(mask: HTMLCanvasElement, from: Crop, to: Crop, w: number, h: number, neutral: string): HTMLCanvasElement {
  const n = mask.width;
  const out = document.createElement('canvas');
  out.width = n;
  out.height = mask.height;
  const g = out.getContext('2d')!;
  g.fillStyle = neutral;
  g.fillRect(0, 0, n, n);
  const sFrom = Math.min(w, h) / from.zoom;
  const sTo = Math.min(w, h) / to.zoom;
  // mask(to) ← photo ← mask(from)
  g.translate(n / 2, n / 2);
  g.scale(n / sTo, n / sTo);
  g.rotate((to.rotate * Math.PI) / 180);
  g.translate(-to.x * w, -to.y * h);
  g.translate(from.x * w, from.y * h);
  g.rotate((-from.rotate * Math.PI) / 180);
  g.scale(sFrom / n, sFrom / n);
  g.translate(-n / 2, -n / 2);
  g.drawImage(mask, 0, 0);
  return out;
}
