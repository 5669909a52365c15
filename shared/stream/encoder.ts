import { crc16 } from '../crc16';
import { bitLength } from '../bits';
import {
  END_INDEX, ESC_INIT, FORMAT_MINOR, FORMAT_VERSION, FORMAT_VERSION_1, FORMAT_VERSION_FLANKS, M_DIR, M_ESC, MAGIC_0, MAGIC_1, MAGIC_2,
  MAGIC_3, MAX_COLORS, MAX_HOOKS, MAX_SHIFT, MIN_SHIFT, MODEL_SIZE, OP_COLOR, OP_END, PROB_ONE, RC_INIT, RC_TOP,
  SYNC_0, SYNC_1, TREE_LEVELS,
} from './format';

/** One body operation: a hook index (>= 0) or a colour change to palette index c, written -(c + 1). */
export type StreamOp = number;

/** Options of encodeStream. Everything left out is chosen by the encoder. */
export interface StreamOptions {
  /** Format version to write: 1 (2 bytes per hook), 4 (compact, chunked) or 5 (format 4 over hook flanks). Default 1. */
  version?: number;
  /** Formats 4, 5: 31-bit machine-profile hash (host/stream/machine-hash.ts); 0 = any machine. */
  machineHash?: number;
  /** Formats 4, 5: hook operations per chunk (1..65535). Default: chunks of about DEFAULT_CHUNK_HOOKS. */
  chunkHooks?: number;
  /** Formats 4, 5: adaptation shift (1..7). Default: the one that gives the smallest stream. */
  shift?: number;
  /** Formats 4, 5: tree levels with a prior in the header (0..TREE_LEVELS). Default: the smallest stream. */
  priorLevels?: number;
  /** Formats 4, 5: extra header bytes, as a newer minor version would add them (tests). */
  headerExtension?: number[];
}

/** Target chunk size in hook operations when the caller gives none (see docs/stream-format.md). */
export const DEFAULT_CHUNK_HOOKS = 2048;

/**
 * Encode a thread path as a nail-index stream (docs/stream-format.md).
 * `ops`: hook indices in path order, with colour changes as -(colorIndex + 1) between them.
 * Throws RangeError on inputs that cannot be represented; the host validates before calling.
 */
export function encodeStream(ops: StreamOp[], hookCount: number, colors: number[], options?: StreamOptions): number[] {
  if (hookCount < 2 || hookCount > MAX_HOOKS) throw new RangeError('hookCount out of range: ' + hookCount);
  if (colors.length > MAX_COLORS) throw new RangeError('too many colours: ' + colors.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (Math.floor(op) !== op) throw new RangeError('operation is not an integer: ' + op);
    if (op >= hookCount) throw new RangeError('hook index out of range: ' + op);
    if (op < 0 && -op - 1 >= colors.length) throw new RangeError('colour index out of range: ' + (-op - 1));
  }
  const version = options && options.version !== undefined ? options.version : FORMAT_VERSION_1;
  if (version === FORMAT_VERSION_1) return encode1(ops, hookCount, colors);
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_FLANKS) throw new RangeError('unknown format version: ' + version);
  if (version === FORMAT_VERSION_FLANKS && hookCount % 2 !== 0) throw new RangeError('format 5 counts flanks: hookCount must be even, not ' + hookCount);
  return encode2(ops, hookCount, colors, options || {}, version);
}

// ---- version 1 -------------------------------------------------------------------------------

function encode1(ops: StreamOp[], hookCount: number, colors: number[]): number[] {
  let hooks = 0;
  for (let i = 0; i < ops.length; i++) if (ops[i] >= 0) hooks++;
  const lineCount = hooks > 0 ? hooks - 1 : 0;

  const out: number[] = [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, FORMAT_VERSION_1, 0];
  pushInt(out, hookCount, 2);
  pushInt(out, lineCount, 4);
  out.push(colors.length);
  for (let i = 0; i < colors.length; i++) pushInt(out, colors[i], 3);
  pushCrc(out, 0);

  const bodyStart = out.length;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op >= 0) out.push(Math.floor(op / 256), op % 256);
    else out.push(OP_COLOR, -op - 1);
  }
  out.push(OP_END);
  pushCrc(out, bodyStart);
  return out;
}

function pushInt(out: number[], value: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(value / Math.pow(256, i)) % 256);
}

function pushCrc(out: number[], start: number): void {
  pushInt(out, crc16(out, start, out.length), 2);
}

// ---- formats 4 and 5 -------------------------------------------------------------------------------

/**
 * Range encoder matching the decoder's arithmetic (LZMA's, with range < 2^31 so the decoder stays
 * within 31-bit integers). Host only: `low` needs 33 bits, which doubles hold exactly.
 */
class RangeEncoder {
  out: number[] = [];
  private low = 0;
  private range = RC_INIT;
  private cache = 0;
  private cacheSize = 1;

  constructor(private shift: number) {}

  private normalize(): void {
    while (this.range < RC_TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    const lowMod = this.low % 4294967296;
    const carry = this.low >= 4294967296 ? 1 : 0;
    if (lowMod < 0xff000000 || carry === 1) {
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
        this.cacheSize--;
      } while (this.cacheSize !== 0);
      this.cache = Math.floor(lowMod / 16777216);
    }
    this.cacheSize++;
    this.low = (lowMod % 16777216) * 256;
  }

  /** Bit b with adaptive probability model[i] (of a 0). */
  bit(model: number[], i: number, b: number): void {
    this.normalize();
    const p = model[i];
    const bound = Math.floor(this.range / PROB_ONE) * p;
    if (b === 0) {
      this.range = bound;
      model[i] = p + Math.floor((PROB_ONE - p) / (1 << this.shift));
    } else {
      this.low += bound;
      this.range -= bound;
      model[i] = p - Math.floor(p / (1 << this.shift));
    }
  }

  direct(b: number): void {
    this.normalize();
    const bound = Math.floor(this.range / 2);
    if (b === 0) this.range = bound;
    else {
      this.low += bound;
      this.range -= bound;
    }
  }

  /** A value below `limit` in `bits` bits, most significant first; bits that cannot be 1 are not
   * coded. With a model, the first TREE_LEVELS coded levels use its tree nodes (1..M_DIR - 1). */
  value(v: number, bits: number, limit: number, model: number[] | null): void {
    let acc = 0;
    let node = 1;
    for (let k = bits - 1; k >= 0; k--) {
      if (acc + (1 << k) < limit) {
        const b = Math.floor(v / (1 << k)) % 2;
        if (model !== null && node < M_DIR) this.bit(model, node, b);
        else this.direct(b);
        acc += b << k;
        node = node * 2 + b;
      }
    }
  }

  finish(): number[] {
    for (let i = 0; i < 5; i++) this.shiftLow();
    if (this.out[0] !== 0) throw new Error('range coder: first byte must be 0');
    return this.out.slice(1);
  }
}

interface Event { at: number; color: number }

interface Plan2 {
  hooks: number[];
  events: Event[];
  hookCount: number;
  colors: number[];
  chunkHooks: number;
  chunkCount: number;
  machineHash: number;
  version: number;
}

/** Prior probabilities (bytes) for the tree nodes and the two direction contexts. */
function measurePrior(p: Plan2): number[] {
  const zeros: number[] = [];
  const ones: number[] = [];
  for (let i = 0; i < M_ESC; i++) {
    zeros.push(0);
    ones.push(0);
  }
  const n = p.hookCount;
  const bits = bitLength(Math.floor(n / 2) - 1);
  const limit = Math.floor(n / 2);
  let prevDir = 0;
  for (let j = 0; j < p.hooks.length; j++) {
    if (j % p.chunkHooks === 0) prevDir = 0;
    else prevDir = countHook(p, j, bits, limit, prevDir, zeros, ones);
  }
  const prior: number[] = [];
  for (let i = 0; i < M_ESC; i++) {
    const t = zeros[i] + ones[i];
    const q = t === 0 ? 128 : Math.round(((zeros[i] + 0.5) / (t + 1)) * 256 - 0.5);
    prior.push(q < 0 ? 0 : q > 255 ? 255 : q);
  }
  return prior;
}

function countHook(p: Plan2, j: number, bits: number, limit: number, prevDir: number, zeros: number[], ones: number[]): number {
    const n = p.hookCount;
    const d = (p.hooks[j] - p.hooks[j - 1] + n) % n;
    const dist = d < n - d ? d : n - d;
    const v = dist - 1;
    let acc = 0;
    let node = 1;
    for (let k = bits - 1; k >= 0 && node < M_DIR; k--) {
      if (acc + (1 << k) < limit) {
        const b = Math.floor(v / (1 << k)) % 2;
        if (b === 0) zeros[node]++;
        else ones[node]++;
        acc += b << k;
        node = node * 2 + b;
      }
    }
    if (dist * 2 >= n) return prevDir;
    const dir = d === dist ? 0 : 1;
    if (dir === 0) zeros[M_DIR + prevDir]++;
    else ones[M_DIR + prevDir]++;
    return dir;
}

function encodeBody(p: Plan2, index: number, prior: number[], shift: number, levels: number): number[] {
  const n = p.hookCount;
  const first = index * p.chunkHooks;
  const end = Math.min(first + p.chunkHooks, p.hooks.length);
  const last = index === p.chunkCount - 1;
  const events: Event[] = [];
  for (let i = 0; i < p.events.length; i++) {
    const e = p.events[i];
    if ((e.at >= first && e.at < end) || (last && e.at >= end)) events.push(e);
  }
  if (events.length > 255) throw new RangeError('more than 255 colour changes in chunk ' + index + '; use smaller chunks');
  const out: number[] = [SYNC_0, SYNC_1];
  pushInt(out, index, 2);
  pushInt(out, first, 4);
  out.push(events.length);
  let body: number[] = [];
  if (end > first || events.length > 0) {
    const model: number[] = [];
    for (let i = 0; i < MODEL_SIZE; i++) model.push(i < 1 << levels ? prior[i] * 16 + 8 : PROB_ONE / 2);
    model[M_DIR] = prior[M_DIR] * 16 + 8;
    model[M_DIR + 1] = prior[M_DIR + 1] * 16 + 8;
    model[M_ESC] = ESC_INIT;
    const rc = new RangeEncoder(shift);
    const hookBits = bitLength(n - 1);
    const distBits = bitLength(Math.floor(n / 2) - 1);
    const colorBits = p.colors.length > 0 ? bitLength(p.colors.length - 1) : 0;
    let ev = 0;
    let prevDir = 0;
    for (let j = first; j < end; j++) {
      while (ev < events.length && events[ev].at === j) {
        rc.bit(model, M_ESC, 1);
        rc.value(events[ev].color, colorBits, p.colors.length, null);
        ev++;
      }
      if (ev < events.length) rc.bit(model, M_ESC, 0);
      if (j === first) rc.value(p.hooks[j], hookBits, n, null);
      else {
        const d = (p.hooks[j] - p.hooks[j - 1] + n) % n;
        const dist = d < n - d ? d : n - d;
        rc.value(dist - 1, distBits, Math.floor(n / 2), model);
        if (dist * 2 < n) {
          const dir = d === dist ? 0 : 1;
          rc.bit(model, M_DIR + prevDir, dir);
          prevDir = dir;
        }
      }
    }
    for (; ev < events.length; ev++) rc.value(events[ev].color, colorBits, p.colors.length, null);
    body = rc.finish();
  }
  // The body's length lets a decoder skip exactly to the next chunk after damage.
  if (body.length > 0xffff) throw new RangeError('chunk ' + index + ' body is over 65535 bytes; use smaller chunks');
  pushInt(out, body.length, 2);
  for (let i = 0; i < body.length; i++) out.push(body[i]);
  pushCrc(out, 0);
  return out;
}

function encodeWith(p: Plan2, prior: number[], shift: number, levels: number, extension: number[]): number[] {
  const out: number[] = [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, p.version, FORMAT_MINOR];
  const headerLength = 23 + 3 * p.colors.length + (1 << levels) - 1 + 2 + extension.length;
  pushInt(out, headerLength, 2);
  pushInt(out, p.machineHash, 4);
  pushInt(out, p.hookCount, 2);
  pushInt(out, p.hooks.length, 4);
  pushInt(out, p.chunkHooks, 2);
  out.push(shift, levels, p.colors.length);
  for (let i = 0; i < p.colors.length; i++) pushInt(out, p.colors[i], 3);
  for (let i = 1; i < 1 << levels; i++) out.push(prior[i]);
  out.push(prior[M_DIR], prior[M_DIR + 1]);
  for (let i = 0; i < extension.length; i++) out.push(extension[i]);
  pushCrc(out, 0);
  for (let c = 0; c < p.chunkCount; c++) {
    const chunk = encodeBody(p, c, prior, shift, levels);
    for (let i = 0; i < chunk.length; i++) out.push(chunk[i]);
  }
  out.push(SYNC_0, SYNC_1);
  pushInt(out, END_INDEX, 2);
  return out;
}

function encode2(ops: StreamOp[], hookCount: number, colors: number[], o: StreamOptions, version: number): number[] {
  const hooks: number[] = [];
  const events: Event[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op >= 0) {
      if (hooks.length > 0 && hooks[hooks.length - 1] === op) throw new RangeError('a line must join two different hooks (hook ' + op + ' twice in a row)');
      if (version === FORMAT_VERSION_FLANKS && hooks.length > 0 && Math.floor(hooks[hooks.length - 1] / 2) === Math.floor(op / 2)) {
        throw new RangeError('a line must join two different hooks (flanks ' + hooks[hooks.length - 1] + ' and ' + op + ' are both hook ' + Math.floor(op / 2) + ')');
      }
      hooks.push(op);
    } else events.push({ at: hooks.length, color: -op - 1 });
  }
  const machineHash = o.machineHash || 0;
  if (machineHash < 0 || machineHash > 0x7fffffff || Math.floor(machineHash) !== machineHash) throw new RangeError('machineHash must be a 31-bit integer');
  let chunkHooks = o.chunkHooks || 0;
  if (chunkHooks === 0) {
    const chunks = Math.max(1, Math.ceil(hooks.length / DEFAULT_CHUNK_HOOKS));
    chunkHooks = Math.max(1, Math.ceil(hooks.length / chunks));
  }
  if (chunkHooks < 1 || chunkHooks > 0xffff) throw new RangeError('chunkHooks out of range: ' + chunkHooks);
  const chunkCount = hooks.length === 0 ? 1 : Math.ceil(hooks.length / chunkHooks);
  if (chunkCount >= END_INDEX) throw new RangeError('too many chunks: ' + chunkCount + '; use larger chunks');
  if (hooks.length > 0x7fffffff) throw new RangeError('path too long');
  const p: Plan2 = { hooks, events, hookCount, colors, chunkHooks, chunkCount, machineHash, version };
  const prior = measurePrior(p);
  const extension = o.headerExtension || [];
  const shifts: number[] = [];
  if (o.shift !== undefined) shifts.push(o.shift);
  else for (let s = 4; s <= 6; s++) shifts.push(s);
  const levels: number[] = [];
  if (o.priorLevels !== undefined) levels.push(o.priorLevels);
  else for (let l = 0; l <= TREE_LEVELS; l++) levels.push(l);
  let best: number[] | null = null;
  for (let i = 0; i < shifts.length; i++) {
    if (shifts[i] < MIN_SHIFT || shifts[i] > MAX_SHIFT) throw new RangeError('shift out of range: ' + shifts[i]);
    for (let j = 0; j < levels.length; j++) {
      if (levels[j] < 0 || levels[j] > TREE_LEVELS) throw new RangeError('priorLevels out of range: ' + levels[j]);
      const bytes = encodeWith(p, prior, shifts[i], levels[j], extension);
      if (best === null || bytes.length < best.length) best = bytes;
    }
  }
  return best as number[];
}
