import { statSync } from 'node:fs';
import sharp from 'sharp';
import { UserError, fsErrorText } from '../errors';

/** Greyscale raster, row-major, 0 = black … 1 = white. */
export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Largest source accepted, in pixels (after this sharp refuses to decode: a decompression-bomb guard). */
export const MAX_INPUT_PIXELS = 200_000_000;
/** Smallest source side accepted, in pixels. */
export const MIN_INPUT_SIDE = 16;

/** Check the file exists and decodes as an image; returns its size after EXIF auto-orientation. */
export async function probeImage(file: string): Promise<{ width: number; height: number }> {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UserError(`cannot read image ${file}: ${fsErrorText(e)}`);
  }
  if (st.isDirectory()) throw new UserError(`cannot read image ${file}: it is a directory, give an image file`);
  if (st.size === 0) throw new UserError(`cannot read image ${file}: the file is empty`);
  let meta;
  try {
    meta = await sharp(file, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (e) {
    throw imageError(file, e);
  }
  const { width, height } = meta.autoOrient ?? meta;
  if (!width || !height) throw new UserError(`cannot read image ${file}: no image size in the file`);
  if (width * height > MAX_INPUT_PIXELS) {
    throw new UserError(`image ${file} is too large (${width}×${height} px, limit ${MAX_INPUT_PIXELS / 1e6} megapixels); scale it down first`);
  }
  if (Math.min(width, height) < MIN_INPUT_SIDE) {
    throw new UserError(`image ${file} is too small (${width}×${height} px); give at least ${MIN_INPUT_SIDE}×${MIN_INPUT_SIDE} px`);
  }
  return { width, height };
}

/** The largest centred rectangle of aspect width/height inside a srcW×srcH image: [x, y, w, h]. */
export function centreCrop(srcW: number, srcH: number, aspect: number): [number, number, number, number] {
  let w = srcW;
  let h = Math.round(srcW / aspect);
  if (h > srcH) {
    h = srcH;
    w = Math.min(srcW, Math.round(srcH * aspect));
  }
  return [Math.floor((srcW - w) / 2), Math.floor((srcH - h) / 2), w, h];
}

/**
 * Decode `file` (auto-oriented, transparency flattened onto white, greyscale), take `crop`
 * (source pixels after orientation) and resize it to outW×outH. Huge sources are shrunk while
 * decoding first (JPEG/WebP shrink-on-load), so memory stays small.
 */
export async function loadGrey(
  file: string, crop: [number, number, number, number], outW: number, outH: number,
): Promise<GreyImage> {
  const [cx, cy, cw, ch] = crop;
  try {
    const meta = await sharp(file, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS }).metadata();
    const { width: sw = 0, height: sh = 0 } = meta.autoOrient ?? meta;
    // Pre-shrink so the crop ends up about 4× the output size, never enlarging.
    const f = Math.min(1, (4 * Math.max(outW / cw, outH / ch)));
    const iw = Math.max(1, Math.round(sw * f));
    const ih = Math.max(1, Math.round(sh * f));
    const pre = await sharp(file, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize(iw, ih, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const x = Math.min(iw - 1, Math.round(cx * f));
    const y = Math.min(ih - 1, Math.round(cy * f));
    const w = Math.max(1, Math.min(iw - x, Math.round(cw * f)));
    const h = Math.max(1, Math.min(ih - y, Math.round(ch * f)));
    const out = await sharp(pre.data, { raw: { width: pre.info.width, height: pre.info.height, channels: pre.info.channels } })
      .extract({ left: x, top: y, width: w, height: h })
      .resize(outW, outH, { fit: 'fill' })
      .extractChannel(0)
      .raw()
      .toBuffer();
    const data = new Float32Array(outW * outH);
    for (let i = 0; i < data.length; i++) data[i] = out[i] / 255;
    return { data, width: outW, height: outH };
  } catch (e) {
    throw imageError(file, e);
  }
}

function imageError(file: string, e: unknown): UserError {
  if (e instanceof UserError) return e;
  const msg = String((e as Error)?.message ?? e).split('\n')[0];
  if (/unsupported image format/i.test(msg)) {
    return new UserError(`cannot read image ${file}: not an image format this tool reads (PNG, JPEG, WebP, GIF, TIFF, AVIF, HEIF, SVG)`);
  }
  if (/pixel limit/i.test(msg)) {
    return new UserError(`image ${file} is too large (over ${MAX_INPUT_PIXELS / 1e6} megapixels); scale it down first`);
  }
  return new UserError(`cannot read image ${file}: the image data is damaged or truncated (${msg.trim()})`);
}
