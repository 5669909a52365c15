import { MAX_PLAN_LINES } from '../plan/limits';
import { encodeStream, type StreamOp } from '../../shared/stream/encoder';
import { DecoderField, StreamDecoder } from '../../shared/stream/decoder';
import { streamPalette } from '../../shared/stream/palette';
import {
  EV_CHUNK, EV_COLOR, EV_END, EV_HEADER, EV_HOOK, EV_NONE, ERR_MACHINE, ERR_RETIRED, ERR_VERSION, FORMAT_VERSION, FORMAT_VERSION_FLANKS, MAX_HOOKS,
  SYNC_0, SYNC_1, isChunkError, streamErrorText,
} from '../../shared/stream/format';
import { UserError } from '../errors';
import { planPath, type Plan } from '../plan/types';
import { hashText } from './machine-hash';
import { fastDecode } from './fast-decode';
import { flankDirection } from '../../shared/geometry/wrap';

/** The plan's thread path as stream operations: the start nail, then each line's end nail, with a
 * colour change before the first line of each run of one colour (colour 0 is implied at the start). */
export function planOps(plan: Plan): StreamOp[] {
  const ops: StreamOp[] = [];
  if (plan.lines.length === 0) return ops;
  let color = 0;
  ops.push(planPath(plan)[0]);
  for (const [c, , to] of plan.lines) {
    if (c !== color) {
      ops.push(-(c + 1));
      color = c;
    }
    ops.push(to);
  }
  return ops;
}

export function colorNumber(hex: string): number {
  return parseInt(hex.slice(1), 16);
}

export function colorHex(c: number): string {
  return '#' + c.toString(16).padStart(6, '0');
}

/** Format `hookline encode` writes unless --format says otherwise. */
export const DEFAULT_FORMAT = FORMAT_VERSION;

export interface EncodePlanOptions {
  /** Stream format version; default 5 for flanked plans, else 4. */
  version?: number;
  /** 31-bit machine-profile hash (machine-hash.ts); default 0 = any machine. */
  machineHash?: number;
  /** Hook operations per chunk; default: chunks of about 2048. */
  chunkHooks?: number;
}

export function encodePlan(plan: Plan, o: EncodePlanOptions = {}): Uint8Array {
  if (plan.nails.length > MAX_HOOKS) throw new UserError(`plan has ${plan.nails.length} nails; the stream format holds at most ${MAX_HOOKS}`);
  const flanked = plan.flanks === 2;
  const version = o.version ?? (flanked ? FORMAT_VERSION_FLANKS : FORMAT_VERSION);
  if (flanked !== (version === FORMAT_VERSION_FLANKS)) {
    throw new UserError(flanked
      ? `the plan touches hooks on their flanks (flanks: 2), which only stream format ${FORMAT_VERSION_FLANKS} carries; drop --format or give --format ${FORMAT_VERSION_FLANKS}`
      : `stream format ${FORMAT_VERSION_FLANKS} is for plans with hook flanks (hookline plan --flanks 2); give --format ${FORMAT_VERSION} or 1`);
  }
  try {
    return Uint8Array.from(encodeStream(planOps(plan), plan.nails.length, plan.colors.map(colorNumber), { ...o, version }));
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`cannot encode the plan: ${e.message}`);
    throw e;
  }
}

export interface DecodedStream {
  version: number;
  minor: number;
  machineHash: number;
  hookCount: number;
  /** Indices per machine hook: 2 for format 5 (index v = hook v >> 1 on flank v & 1), else 1. */
  flanks: number;
  lineCount: number;
  colors: string[];
  chunkHooks: number;
  chunkCount: number;
  ops: StreamOp[];
  /** The hook path alone, colour changes dropped. */
  hooks: number[];
}

const reencode = "re-encode it with 'hookline encode'";

/**
 * The machine hooks a decoded stream visits and the winding directions it fixes (format 5; null:
 * the machine winds the way the thread turns). Refuses a stream for another hook count.
 */
export function streamOnMachine(d: DecodedStream, where: string, machineHooks: number, machinePath: string): { hooks: number[]; ops: number[]; dirs: number[] | null } {
  const planned = d.hookCount / d.flanks;
  if (planned !== machineHooks) {
    throw new UserError(`${where} is planned for ${planned} hooks but ${machinePath} has ${machineHooks} (hooks.count); plan for this machine's hooks`);
  }
  // Plans have at most MAX_PLAN_LINES lines; a longer stream was not made from one (sim and estimate
  // would work for minutes on it).
  const lines = Math.max(0, d.hooks.length - 1);
  if (lines === 0) throw new UserError(`${where} has no lines, so there is nothing to string; encode a plan with lines`);
  if (lines > MAX_PLAN_LINES) {
    throw new UserError(`${where} has ${lines} lines, more than the ${MAX_PLAN_LINES} a plan may have (docs/plan-format.md, Limits); encode a plan made by 'hookline plan'`);
  }
  const hooks = d.flanks === 2 ? d.hooks.map((v) => v >> 1) : d.hooks;
  return {
    hooks,
    ops: d.flanks === 2 ? d.ops.map((op) => (op >= 0 ? op >> 1 : op)) : d.ops,
    dirs: d.flanks === 2 ? d.hooks.map(flankDirection) : null,
  };
}

function failText(where: string, d: StreamDecoder, ev: number, at: number): string {
  if (ev === ERR_RETIRED) {
    return `${where}: stream format ${d.get(DecoderField.VERSION)} was written by an older hookline (its 127-node model is too large for the devices); ${reencode}`;
  }
  if (ev === ERR_VERSION) {
    return `${where}: stream format version ${d.get(DecoderField.VERSION)} is not supported (this hookline reads versions 1, ${FORMAT_VERSION} and ${FORMAT_VERSION_FLANKS}); update hookline or ${reencode}`;
  }
  if (ev === ERR_MACHINE) {
    return `${where}: the stream is for another machine profile (hash ${hashText(d.get(DecoderField.MACHINE_HASH))}, this machine ${hashText(d.get(DecoderField.EXPECT_MACHINE))}); ${reencode} with --machine for this machine`;
  }
  return `${where}: ${streamErrorText(ev)} at byte ${at}${d.get(DecoderField.VERSION) >= FORMAT_VERSION && d.get(DecoderField.CHUNK_COUNT) > 0 && isChunkError(ev) ? ` (chunk ${d.get(DecoderField.CHUNK_INDEX)})` : ''}; ${reencode}`;
}

/** The header a decoder accepted (after EV_HEADER), with the given operations. */
function decodedHeader(d: StreamDecoder, bytes: Uint8Array, ops: StreamOp[]): DecodedStream {
  const version = d.get(DecoderField.VERSION);
  return {
    version, minor: d.get(DecoderField.MINOR), machineHash: d.get(DecoderField.MACHINE_HASH), hookCount: d.get(DecoderField.HOOK_COUNT),
    flanks: d.flanks(), lineCount: d.lineCount(), colors: streamPalette(bytes).map(colorHex), chunkHooks: d.get(DecoderField.CHUNK_HOOKS),
    chunkCount: version === 1 ? 0 : d.get(DecoderField.CHUNK_COUNT), ops, hooks: ops.filter((op) => op >= 0),
  };
}

/** Decode a whole stream on the host with the same decoder the device runs. `expectMachine`: a
 * machine hash the stream must match (0 = accept any). */
export function decodeStreamBytes(bytes: Uint8Array, where: string, expectMachine = 0): DecodedStream {
  if (bytes.length > 4 && (bytes[4] === FORMAT_VERSION || bytes[4] === FORMAT_VERSION_FLANKS)) {
    // Fast path: the whole-buffer decoder; on any error the streaming decoder below names it.
    const fast = fastDecode(bytes, expectMachine);
    if (fast.error === 0) {
      const d = new StreamDecoder();
      for (let i = 0; i < bytes.length && d.push(bytes[i]) !== EV_HEADER; i++);
      return decodedHeader(d, bytes, fast.ops);
    }
  }
  const d = new StreamDecoder();
  d.setExpectMachine(expectMachine);
  const ops: StreamOp[] = [];
  for (let i = 0; i < bytes.length; i++) {
    let ev = d.push(bytes[i]);
    while (ev !== EV_NONE) {
      if (ev < 0) throw new UserError(failText(where, d, ev, i));
      if (ev === EV_HOOK) ops.push(d.hook());
      else if (ev === EV_COLOR) ops.push(-(d.color() + 1));
      else if (ev === EV_END) {
        if (i !== bytes.length - 1) throw new UserError(`${where}: ${bytes.length - 1 - i} bytes after the end of the stream; ${reencode}`);
        return decodedHeader(d, bytes, ops);
      }
      ev = d.next();
    }
  }
  throw new UserError(`${where}: truncated after ${bytes.length} bytes (no end marker); ${reencode}`);
}

export interface ChunkReport {
  index: number;
  /** Byte offsets: [start, end) of the chunk in the stream. */
  start: number;
  end: number;
  firstLine: number;
  ops: StreamOp[];
  /** 0 when the chunk's CRC verified, else the error code. */
  error: number;
}

export interface StreamReport {
  header: DecodedStream | null;
  headerBytes: number;
  chunks: ChunkReport[];
  /** Error outside any chunk (header, end record, truncation); 0 if none. */
  error: number;
  errorAt: number;
  ended: boolean;
}

/**
 * Decode a stream chunk by chunk, as a receiver that can skip a damaged chunk would:
 * a chunk's operations count only when its CRC verifies; after a damaged chunk the decoder resyncs
 * on the next sync marker and carries on. Used by `hookline inspect` and the robustness tests.
 */
/** Where chunk `index`, whose CRC ends at byte `end`, starts: the last sync marker and index before it. */
function chunkStart(bytes: Uint8Array, end: number, index: number): number {
  for (let k = end - 8; k >= 0; k--) {
    if (bytes[k] === SYNC_0 && bytes[k + 1] === SYNC_1 && bytes[k + 2] === index >> 8 && bytes[k + 3] === (index & 0xff)) return k;
  }
  return -1;
}

export function decodeChunks(bytes: Uint8Array): StreamReport {
  const d = new StreamDecoder();
  const r: StreamReport = { header: null, headerBytes: 0, chunks: [], error: 0, errorAt: -1, ended: false };
  let pending: StreamOp[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    let ev = d.push(bytes[i]);
    while (ev !== EV_NONE) {
      if (ev < 0) {
        if (d.resync()) {
          r.chunks.push({ index: d.get(DecoderField.CHUNK_INDEX), start, end: i + 1, firstLine: d.get(DecoderField.CHUNK_INDEX) * d.get(DecoderField.CHUNK_HOOKS), ops: pending, error: ev });
          pending = [];
          start = i + 1;
          ev = EV_NONE;
          break;
        }
        r.error = ev;
        r.errorAt = i;
        return r;
      }
      if (ev === EV_HEADER) {
        r.headerBytes = i + 1;
        start = i + 1;
        r.header = decodedHeader(d, bytes, []);
      } else if (ev === EV_HOOK) pending.push(d.hook());
      else if (ev === EV_COLOR) pending.push(-(d.color() + 1));
      else if (ev === EV_CHUNK) {
        const prev = r.chunks[r.chunks.length - 1];
        if (prev && prev.error !== 0) {
          // After a resync the bytes up to this chunk's sync marker belong to the damaged chunk.
          const at = chunkStart(bytes, i, d.get(DecoderField.CHUNK_INDEX));
          if (at >= prev.start) {
            prev.end = at;
            start = at;
          }
        }
        r.chunks.push({ index: d.get(DecoderField.CHUNK_INDEX), start, end: i + 1, firstLine: d.get(DecoderField.CHUNK_INDEX) * d.get(DecoderField.CHUNK_HOOKS), ops: pending, error: 0 });
        pending = [];
        start = i + 1;
      } else if (ev === EV_END) {
        r.ended = true;
        if (d.get(DecoderField.VERSION) === 1 && r.header) {
          r.chunks.push({ index: 0, start, end: i + 1, firstLine: 0, ops: pending, error: 0 });
        }
        if (i !== bytes.length - 1) {
          r.error = -7;
          r.errorAt = i + 1;
        }
        if (r.header) for (const c of r.chunks) if (c.error === 0) for (const op of c.ops) {
          r.header.ops.push(op);
          if (op >= 0) r.header.hooks.push(op);
        }
        return r;
      }
      ev = d.next();
    }
  }
  r.error = -11;
  r.errorAt = bytes.length;
  return r;
}
