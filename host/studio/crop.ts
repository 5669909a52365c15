/**
 * The studio's photo framing (docs/studio.md, "Crop, zoom and rotate"): the page sends four
 * numbers, never a path; the server checks them, clamps them into range and cuts the photo with
 * sharp, so the planner's target is exactly the framed region (the planner takes the centre crop
 * of a picture that is already square: all of it).
 *
 * Geometry (the page draws the same): the upright photo (w×h, as stored) is turned `rotate`
 * degrees clockwise about its centre; the window is a square min(w, h)/zoom pixels across, axis
 * aligned after the turn, centred on the photo point (x·w, y·h). Outside the photo is white.
 */
import sharp from 'sharp';
import type { Crop } from './protocol';

export const ZOOM_MIN = 1;
export const ZOOM_MAX = 8;

/** A refused crop: the one-line message the page shows. */
export class CropError extends Error {}

/** The page's crop, checked (numbers, finite) and clamped (zoom 1..8, centre inside the photo, turn in −180..180]. */
export function checkCrop(raw: unknown): Crop {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CropError('crop must be an object {rotate, zoom, x, y}');
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).find((k) => !['rotate', 'zoom', 'x', 'y'].includes(k));
  if (extra) throw new CropError(`crop: unknown field '${extra}'; give rotate (degrees), zoom (1..${ZOOM_MAX}), x and y (0..1)`);
  const num = (k: string): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CropError(`crop.${k} must be a finite number, not ${JSON.stringify(v) ?? 'undefined'}; give rotate (degrees), zoom (1..${ZOOM_MAX}), x and y (0..1)`);
    return v;
  };
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const rot = num('rotate');
  if (Math.abs(rot) > 3600) throw new CropError(`crop.rotate ${rot} is not an angle a page sends; give degrees in -360..360`);
  let a = Math.round((((rot % 360) + 360) % 360) * 100) / 100;
  if (a > 180) a -= 360;
  return {
    rotate: a,
    zoom: Math.round(clamp(num('zoom'), ZOOM_MIN, ZOOM_MAX) * 1000) / 1000,
    x: Math.round(clamp(num('x'), 0, 1) * 10000) / 10000,
    y: Math.round(clamp(num('y'), 0, 1) * 10000) / 10000,
  };
}

/** The whole photo's centre crop: what the planner takes with no crop given. */
export function isIdentityCrop(c: Crop): boolean {
  return c.rotate === 0 && c.zoom === 1 && c.x === 0.5 && c.y === 0.5;
}

/** A key naming one crop of one photo (for the server's cache of cut copies). */
export function cropKey(c: Crop): string {
  return `r${c.rotate}z${c.zoom}x${c.x}y${c.y}`;
}

/**
 * Cut `c` out of the photo in `file` (w×h, upright): a square JPEG of the window at the photo's
 * resolution (the stored copy is ≤ 1024 px, so this is too).
 */
export async function cutCrop(file: string, w: number, h: number, c: Crop): Promise<Buffer> {
  const white = { r: 255, g: 255, b: 255, alpha: 1 };
  const turned = await sharp(file).rotate(c.rotate, { background: white }).raw().toBuffer({ resolveWithObject: true });
  const W = turned.info.width;
  const H = turned.info.height;
  // The window's centre: the photo point turned about the photo's centre (which stays the turned picture's centre).
  const t = (c.rotate * Math.PI) / 180;
  const dx = c.x * w - w / 2;
  const dy = c.y * h - h / 2;
  const cx = W / 2 + dx * Math.cos(t) - dy * Math.sin(t);
  const cy = H / 2 + dx * Math.sin(t) + dy * Math.cos(t);
  const side = Math.max(16, Math.round(Math.min(w, h) / c.zoom));
  const left = Math.round(cx - side / 2);
  const top = Math.round(cy - side / 2);
  // The part of the window on the picture, then white margins for the rest.
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(W, left + side);
  const y1 = Math.min(H, top + side);
  if (x1 - x0 < 1 || y1 - y0 < 1) throw new CropError('the crop window is off the photo; reset the crop');
  return sharp(turned.data, { raw: { width: W, height: H, channels: turned.info.channels } })
    .extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 })
    .extend({ left: x0 - left, top: y0 - top, right: left + side - x1, bottom: top + side - y1, background: white })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 95 })
    .toBuffer();
}
