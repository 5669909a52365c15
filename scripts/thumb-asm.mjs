// A small Thumb-1 (16-bit) assembler for the forms device/espruino/step-routine.s uses, so the build
// needs no ARM toolchain: `node scripts/thumb-asm.mjs` writes device/espruino/step-code.ts (the
// routine's bytes, base64, and its labels); scripts/build-device.mjs runs it before compiling.
// Syntax: GNU unified syntax; '@' starts a comment; 'label:' on its own line. Registers r0-r7 only
// (plus lr/pc in push/pop). test/espruino-step-native.test.ts checks every byte against GNU as
// (arm-linux-gnueabihf-as -mcpu=cortex-m0) where it is installed, and the fixed encodings always.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const COND = { eq: 0, ne: 1, cs: 2, cc: 3, mi: 4, pl: 5, vs: 6, vc: 7, hi: 8, ls: 9, ge: 10, lt: 11, gt: 12, le: 13 };

function lowReg(s, line) {
  const m = /^r([0-7])$/.exec(s);
  if (!m) throw new Error(`thumb-asm: '${s}' is not r0-r7 in: ${line}`);
  return Number(m[1]);
}

function imm(s, line, max, scale = 1) {
  const m = /^#(-?(?:0x[0-9a-f]+|\d+))$/i.exec(s);
  if (!m) throw new Error(`thumb-asm: '${s}' is not an immediate in: ${line}`);
  const v = Number(m[1]);
  if (v < 0 || v > max * scale || v % scale !== 0) throw new Error(`thumb-asm: ${v} out of range 0..${max * scale} (multiple of ${scale}) in: ${line}`);
  return v / scale;
}

function regList(s, line, extra, extraName) {
  const m = /^\{(.*)\}$/.exec(s);
  if (!m) throw new Error(`thumb-asm: expected {registers} in: ${line}`);
  let bits = 0;
  for (const part of m[1].split(',').map((p) => p.trim())) {
    if (part === extraName) bits |= extra;
    else bits |= 1 << lowReg(part, line);
  }
  return bits;
}

/** Split "op a, [b, #c], d" into the op and its operands (brackets kept together). */
function parse(line) {
  const sp = line.search(/\s/);
  const op = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
  const rest = sp < 0 ? '' : line.slice(sp).trim();
  const args = [];
  let depth = 0;
  let cur = '';
  for (const c of rest) {
    if (c === '[' || c === '{') depth++;
    if (c === ']' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return { op, args: args.map((a) => a.toLowerCase()) };
}

/** One instruction at byte address pc → its 16-bit encoding (labels: name → byte address). */
function encode({ op, args }, pc, labels, line) {
  const n = args.length;
  const mem = (a) => {
    const m = /^\[(r[0-7])(?:,\s*(#\S+))?\]$/.exec(a);
    if (!m) throw new Error(`thumb-asm: expected [rN, #imm] in: ${line}`);
    return [lowReg(m[1], line), m[2] ? imm(m[2], line, 31, 4) : 0];
  };
  const branch = (bits, mask) => {
    if (!(args[0] in labels)) throw new Error(`thumb-asm: unknown label '${args[0]}' in: ${line}`);
    const off = labels[args[0]] - (pc + 4);
    const lim = (mask + 1) / 2;
    if (off < -lim * 2 || off >= lim * 2) throw new Error(`thumb-asm: branch out of range (${off}) in: ${line}`);
    return bits | ((off >> 1) & mask);
  };
  switch (op) {
    case 'push':
      return 0xb400 | regList(args[0], line, 0x100, 'lr');
    case 'pop':
      return 0xbc00 | regList(args[0], line, 0x100, 'pc');
    case 'ldr':
    case 'str': {
      const [rn, off] = mem(args[1]);
      return (op === 'ldr' ? 0x6800 : 0x6000) | (off << 6) | (rn << 3) | lowReg(args[0], line);
    }
    case 'movs':
      if (args[1].startsWith('#')) return 0x2000 | (lowReg(args[0], line) << 8) | imm(args[1], line, 255);
      return (lowReg(args[1], line) << 3) | lowReg(args[0], line); // LSLS Rd, Rm, #0
    case 'cmp':
      if (args[1].startsWith('#')) return 0x2800 | (lowReg(args[0], line) << 8) | imm(args[1], line, 255);
      return 0x4280 | (lowReg(args[1], line) << 3) | lowReg(args[0], line);
    case 'adds':
    case 'subs': {
      const sub = op === 'subs';
      if (n === 2) return (sub ? 0x3800 : 0x3000) | (lowReg(args[0], line) << 8) | imm(args[1], line, 255);
      const rd = lowReg(args[0], line);
      const rn = lowReg(args[1], line);
      if (args[2].startsWith('#')) {
        // GNU as takes the 8-bit form (T2) when Rd == Rn, the 3-bit one (T1) otherwise
        if (rd === rn) return (sub ? 0x3800 : 0x3000) | (rd << 8) | imm(args[2], line, 255);
        return (sub ? 0x1e00 : 0x1c00) | (imm(args[2], line, 7) << 6) | (rn << 3) | rd;
      }
      return (sub ? 0x1a00 : 0x1800) | (lowReg(args[2], line) << 6) | (rn << 3) | rd;
    }
    case 'lsls':
      return (imm(args[2], line, 31) << 6) | (lowReg(args[1], line) << 3) | lowReg(args[0], line);
    case 'ands':
    case 'adcs': {
      // two-operand form (Rdn, Rm) or GNU's three-operand form with Rd == Rn
      const rd = lowReg(args[0], line);
      if (n === 3 && lowReg(args[1], line) !== rd) throw new Error(`thumb-asm: ${op} needs Rd == Rn in: ${line}`);
      return (op === 'ands' ? 0x4000 : 0x4140) | (lowReg(args[n - 1], line) << 3) | rd;
    }
    case 'b':
      return branch(0xe000, 0x7ff);
    default: {
      const c = /^b([a-z]{2})$/.exec(op);
      if (c && c[1] in COND) return branch(0xd000 | (COND[c[1]] << 8), 0xff);
      throw new Error(`thumb-asm: unsupported instruction in: ${line}`);
    }
  }
}

/** Assemble the source: { bytes: Uint8Array, labels: {name: offset}, listing: [{pc, word, text}] }. */
export function assemble(source) {
  const lines = [];
  for (const raw of source.split('\n')) {
    const text = raw.replace(/@.*$/, '').trim();
    if (text) lines.push(text);
  }
  const labels = {};
  let pc = 0;
  for (const text of lines) {
    if (text.endsWith(':')) labels[text.slice(0, -1)] = pc;
    else pc += 2;
  }
  const listing = [];
  pc = 0;
  for (const text of lines) {
    if (text.endsWith(':')) continue;
    const word = encode(parse(text), pc, labels, text);
    listing.push({ pc, word, text });
    pc += 2;
  }
  const bytes = new Uint8Array(pc);
  for (const { pc: at, word } of listing) {
    bytes[at] = word & 255;
    bytes[at + 1] = word >> 8;
  }
  return { bytes, labels, listing };
}

export const SOURCE = fileURLToPath(new URL('../device/espruino/step-routine.s', import.meta.url));
export const OUTPUT = fileURLToPath(new URL('../device/espruino/step-code.ts', import.meta.url));

/** The generated module's text for the routine's source. */
export function stepCodeModule(source) {
  const { bytes, labels } = assemble(source);
  const b64 = Buffer.from(bytes).toString('base64');
  return `// Generated by scripts/thumb-asm.mjs from device/espruino/step-routine.s (npm run build regenerates it).
// Thumb code of the step routine that require("timer") runs (device/espruino/step-generator.ts).

/** The routine's machine code, base64 (${bytes.length} bytes; entry at offset ${labels.step}). */
export const STEP_CODE_B64 = '${b64}';
export const STEP_CODE_BYTES = ${bytes.length};

declare function atob(b64: string): string;
/**
 * The code as a string of bytes. Written as atob('literal') so that EspruinoTools' pretokeniser
 * stores the ${bytes.length} raw bytes in .bootcde instead of the base64 text and the call (plugins/pretokenise.js).
 */
export function stepCode(): string {
  return atob('${b64}');
}
`;
}

/**
 * Cortex-M4 cycles of one path through the routine (ARM DDI 0439B, Cortex-M4 TRM, table 3-1):
 * data-processing 1, LDR/STR 2 (no pipelining of neighbours assumed: an upper bound of sorts), B
 * taken 1 + P, not taken 1, PUSH 1 + N, POP with PC 1 + N + P; P (pipeline refill) is 1 to 3.
 * from, to: byte offsets; taken: offsets of the conditional branches taken on this path.
 */
export function pathCycles(listing, labels, from, to, taken, P) {
  const at = new Map(listing.map((l) => [l.pc, l]));
  let pc = from;
  let cycles = 0;
  let instructions = 0;
  while (pc !== to) {
    const l = at.get(pc);
    const op = l.text.split(/\s/)[0];
    instructions++;
    if (op === 'ldr' || op === 'str') (cycles += 2), (pc += 2);
    else if (op === 'push') (cycles += 1 + l.text.split(',').length), (pc += 2);
    else if (op === 'pop') (cycles += 1 + l.text.split(',').length + P), (pc = to);
    else if (op === 'b' || /^b[a-z]{2}$/.test(op)) {
      if (op === 'b' || taken.includes(pc)) (cycles += 1 + P), (pc = labels[l.text.split(/\s+/)[1]]);
      else (cycles += 1), (pc += 2);
    } else (cycles += 1), (pc += 2);
  }
  return { cycles, instructions };
}

/** The paths docs/targets/espruino.md quotes ("Step generator"): per call, and per axis and call. */
export function routinePaths(source) {
  const { listing, labels: L } = assemble(source);
  const off = (text, i = 0) => listing.filter((l) => l.text === text)[i].pc;
  const [notHigh, hasSteps, ringEmpty, notDue, sameDir, dirPlus, atStart, carry, noPending, blocked] = [
    off('beq low'), off('bne integrate'), off('beq next', 0), off('bmi next'), off('beq same'), off('bgt plus'), off('beq emit'), off('bcs due'), off('beq next', 1), off('bne hold'),
  ];
  const axis = (taken) => [[L.loop, L.next, taken], [L.next, L.loop, []]];
  const paths = {
    'per call: entry and return': [[L.step, L.loop, []], [L.loop, L.done + 2, [off('beq done')]]],
    'axis: idle (nothing queued)': axis([notHigh, ringEmpty]),
    'axis: a segment waits for its start': axis([notHigh, notDue]),
    'axis: integrates, no step': axis([notHigh, hasSteps, noPending]),
    'axis: integrates, steps': axis([notHigh, hasSteps, carry]),
    'axis: integrates, makes a pending step': axis([notHigh, hasSteps]),
    'axis: STEP pulse ends, integrates': axis([hasSteps, noPending]),
    'axis: STEP pulse ends, a step due is held': axis([hasSteps, carry, blocked]),
    'axis: takes a segment, same DIR, integrates': axis([notHigh, sameDir, noPending]),
    'axis: takes a segment at its start, steps': axis([notHigh, sameDir, atStart]),
    'axis: takes a segment, writes DIR (+1)': axis([notHigh, dirPlus, noPending]),
    'axis: worst (pulse ends, takes a segment, DIR -1, step held)': axis([carry, blocked]),
  };
  const rows = [];
  for (const [name, parts] of Object.entries(paths)) {
    const row = { path: name };
    for (const P of [1, 2, 3]) {
      let c = 0;
      let n = 0;
      for (const [f, t, k] of parts) {
        const r = pathCycles(listing, L, f, t, k, P);
        c += r.cycles;
        n += r.instructions;
      }
      row.instructions = n;
      row[`cycles P=${P}`] = c;
    }
    rows.push(row);
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--cycles') {
  console.table(routinePaths(readFileSync(SOURCE, 'utf8')));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = stepCodeModule(readFileSync(SOURCE, 'utf8'));
  let old = '';
  try {
    old = readFileSync(OUTPUT, 'utf8');
  } catch {}
  if (old !== text) writeFileSync(OUTPUT, text);
}
