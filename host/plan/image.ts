import { statSync } from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { UserError, fsErrorText } from '../errors';

/** Greyscale raster, row-major, 0 = black … 1 = white. */
export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * Largest source accepted, in pixels: 1 gigapixel (30000×30000 fits). Checked from the header
 * before any decoding, and passed to sharp as limitInputPixels (a decompression-bomb guard).
 * Formats that cannot be decoded as a stream have a lower limit, WHOLE_DECODE_MAX_PIXELS.
 */
export const MAX_INPUT_PIXELS = 1_000_000_000;
/**
 * Largest source in a format that has to be decoded whole before it can be shrunk: interlaced PNG,
 * progressive JPEG (libjpeg keeps every coefficient: ~3 bytes a pixel, 2.8 GB peak RSS measured for
 * a 30000×30000 one), WebP, GIF, AVIF/HEIF, SVG. Baseline JPEG, non-interlaced PNG and TIFF stream
 * row by row through the shrink (a 30000×30000 PNG: ~210 MB peak RSS for the whole plan run).
 */
export const WHOLE_DECODE_MAX_PIXELS = 200_000_000;
/**
 * Grey from the stored (gamma-encoded) sRGB values with the Rec. 601 weights, as the quality metric
 * (and PIL's convert('L')) does; sharp's greyscale() is Rec. 709 luminance on linear light, which
 * reads a red 0.21 darker … 0.5 lighter than the metric. Every row is the grey, so channel 0 is it.
 */
const REC601: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0.299, 0.587, 0.114], [0.299, 0.587, 0.114], [0.299, 0.587, 0.114],
];
/** Smallest source side accepted, in pixels. */
export const MIN_INPUT_SIDE = 16;

/** Check the file exists and decodes as an image; returns its size after EXIF auto-orientation. */
export async function probeImage(file: string): Promise<{ width: number; height: number }> {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UserError(`cannot read image ${file}: ${fsErrorText(e)}; check the path (PNG, JPEG, WebP, GIF, TIFF, AVIF or SVG)`);
  }
  if (st.isDirectory()) throw new UserError(`cannot read image ${file}: it is a directory, give an image file`);
  if (st.size === 0) throw new UserError(`cannot read image ${file}: the file is empty`);
  let meta;
  try {
    meta = await sharp(file, { autoOrient: true, limitInputPixels: false }).metadata(); // header only; checkSize decides
  } catch (e) {
    throw imageError(file, e);
  }
  const { width, height } = checkSize(file, meta);
  if (Math.min(width, height) < MIN_INPUT_SIDE) {
    throw new UserError(`image ${file} is too small (${width}×${height} px); give at least ${MIN_INPUT_SIDE}×${MIN_INPUT_SIDE} px`);
  }
  return { width, height };
}

/** Does libvips decode this file as a stream of rows (memory independent of the image size)? */
function streamed(meta: Metadata): boolean {
  return (meta.format === 'png' || meta.format === 'jpeg' || meta.format === 'tiff') && !meta.isProgressive;
}

/** The size after auto-orientation; a one-line UserError when it is over the limit for its format. */
function checkSize(file: string, meta: Metadata): { width: number; height: number } {
  const { width, height } = meta.autoOrient ?? meta;
  if (!width || !height) throw new UserError(`cannot read image ${file}: no image size in the file`);
  const px = width * height;
  if (px > MAX_INPUT_PIXELS) {
    throw new UserError(`image ${file} is too large (${width}×${height} px, limit ${MAX_INPUT_PIXELS / 1e9} gigapixel); scale it down first`);
  }
  if (px > WHOLE_DECODE_MAX_PIXELS && !streamed(meta)) {
    const kind = meta.format === 'png' ? 'an interlaced PNG' : meta.format === 'jpeg' ? 'a progressive JPEG' : `a ${(meta.format ?? 'this').toUpperCase()} image`;
    throw new UserError(`image ${file} is too large for ${kind} (${width}×${height} px, limit ${WHOLE_DECODE_MAX_PIXELS / 1e6} megapixels: it must be decoded whole); save it as a baseline JPEG or non-interlaced PNG, or scale it down first`);
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
 * decoding: the first pipeline has no pre-resize extract, so JPEG shrink-on-load applies (sharp
 * turns it off with one) and EXIF rotation is done after the shrink, on the small image; rows
 * stream through it (sequentialRead), so a 30000×30000 PNG never sits in memory.
 */
export async function loadGrey(
  file: string, crop: [number, number, number, number], outW: number, outH: number,
): Promise<GreyImage> {
  const [cx, cy, cw, ch] = crop;
  try {
    const meta = await sharp(file, { autoOrient: true, limitInputPixels: false }).metadata(); // header only; checkSize decides
    const { width: sw, height: sh } = checkSize(file, meta);
    // Pre-shrink so the crop ends up about 4× the output size, never enlarging.
    const f = Math.min(1, (4 * Math.max(outW / cw, outH / ch)));
    const iw = Math.max(1, Math.round(sw * f));
    const ih = Math.max(1, Math.round(sh * f));
    const pre = await sharp(file, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, failOn: 'truncated' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .recomb(REC601)
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
    return new UserError(`image ${file} is too large (over ${MAX_INPUT_PIXELS / 1e9} gigapixel); scale it down first`);
  }
  return new UserError(`cannot read image ${file}: the image data is damaged or truncated (${msg.trim()})`);
}
