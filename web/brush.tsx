/**
 * The importance brush: paint over the photo where detail matters (more) or does not (less). The
 * painting is the planner's `--importance` mask (host/plan/make.ts: white = weight 3, black = 0.1),
 * at the planner's raster over the board's crop; unpainted is the grey whose weight is 1.
 */
import { useEffect, useRef } from 'preact/hooks';

/** Mask grey of weight 1: 0.1 + 2.9 v = 1 → v = 0.31. */
export const NEUTRAL = Math.round((0.9 / 2.9) * 255);
export const MASK_PX = 512;

export type BrushMode = 'more' | 'less' | 'off';

/** A neutral mask canvas (every pixel weight 1). */
export function newMask(): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = MASK_PX;
  c.height = MASK_PX;
  const g = c.getContext('2d')!;
  g.fillStyle = `rgb(${NEUTRAL},${NEUTRAL},${NEUTRAL})`;
  g.fillRect(0, 0, MASK_PX, MASK_PX);
  return c;
}

/**
 * A canvas laid over the photo that shows the painting (more: warm, less: blue, neutral: clear)
 * and paints into `mask`; `onStroke` is called when a stroke ends.
 */
export function BrushOverlay(props: { mask: HTMLCanvasElement; mode: BrushMode; size: number; onStroke: () => void; version: number }) {
  const view = useRef<HTMLCanvasElement>(null);
  const last = useRef<[number, number] | null>(null);

  const show = () => {
    const v = view.current;
    if (!v) return;
    const g = v.getContext('2d')!;
    const m = props.mask.getContext('2d')!.getImageData(0, 0, MASK_PX, MASK_PX).data;
    const out = g.createImageData(MASK_PX, MASK_PX);
    for (let i = 0; i < m.length; i += 4) {
      const d = m[i] - NEUTRAL;
      if (Math.abs(d) < 4) continue; // neutral: clear
      if (d > 0) out.data.set([255, 140, 40, Math.min(150, d)], i);
      else out.data.set([40, 90, 255, Math.min(150, -d * 2)], i);
    }
    g.putImageData(out, 0, 0);
  };
  useEffect(show, [props.version]);

  const at = (e: PointerEvent): [number, number] => {
    const r = view.current!.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * MASK_PX, ((e.clientY - r.top) / r.height) * MASK_PX];
  };
  const paint = (from: [number, number], to: [number, number]) => {
    const g = props.mask.getContext('2d')!;
    g.strokeStyle = props.mode === 'more' ? '#ffffff' : '#000000';
    g.lineWidth = props.size;
    g.lineCap = 'round';
    g.beginPath();
    g.moveTo(from[0], from[1]);
    g.lineTo(to[0], to[1]);
    g.stroke();
    show();
  };
  return (
    <canvas ref={view} width={MASK_PX} height={MASK_PX} data-testid="brush" class={`brush${props.mode === 'off' ? ' off' : ''}`}
      onPointerDown={(e) => {
        if (props.mode === 'off') return;
        (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
        const p = at(e);
        last.current = p;
        paint(p, p);
      }}
      onPointerMove={(e) => {
        if (!last.current) return;
        const p = at(e);
        paint(last.current, p);
        last.current = p;
      }}
      onPointerUp={() => {
        if (!last.current) return;
        last.current = null;
        props.onStroke();
      }} />
  );
}

/** The mask as a PNG file to upload. */
export function maskFile(mask: HTMLCanvasElement): Promise<File> {
  return new Promise((resolve, reject) => mask.toBlob((b) => (b ? resolve(new File([b], 'importance.png', { type: 'image/png' })) : reject(new Error('cannot encode the mask'))), 'image/png'));
}
