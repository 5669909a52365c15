import { readFileSync } from 'node:fs';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError, fsErrorText } from '../errors';
import { loadMachine } from '../machine/load';
import { loadPlan } from '../plan/load';
import { hashText, machineHash } from '../stream/machine-hash';
import { DEFAULT_FORMAT, decodeChunks, decodeStreamBytes, encodePlan } from '../stream/plan-stream';
import { checkPlanOnMachine } from '../machine/compat';
import { FORMAT_VERSION, FORMAT_VERSION_1, FORMAT_VERSION_FLANKS, streamErrorText } from '../../shared/stream/format';
import { flankLabel } from '../numbering';
import type { Command } from './command';

function readStream(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read stream ${path}: ${fsErrorText(e)}; give a .hls file written by 'hookline encode'`);
  }
}

export const encodeCommand: Command = {
  name: 'encode',
  usage: 'encode PLAN.json -o PLAN.hls [--machine MACHINE.json] [--chunk-lines N] [--format 1|4|5]',
  summary: 'compress a plan into the nail-index stream the machine reads (docs/stream-format.md): format 4, compact and chunked (format 5 for plans with hook flanks); --machine binds it to that profile; --format 1 writes the legacy 2-bytes-per-hook format',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('encode', argv, {
      out: { type: 'string', short: 'o' },
      machine: { type: 'string', short: 'm' },
      'chunk-lines': { type: 'string' },
      format: { type: 'string' },
    });
    const [planPath] = positionals('encode', pos, ['plan.json']);
    if (!values.out) throw new UserError('encode: missing -o FILE.hls (where to write the stream)');
    const version = values.format === undefined ? undefined : formatFlag(values.format);
    const chunkHooks = values['chunk-lines'] === undefined ? undefined : numberFlag('chunk-lines', values['chunk-lines'], 2048, { min: 1, max: 65535, integer: true });
    const plan = loadPlan(planPath);
    let hash = 0;
    if (values.machine) {
      const machine = loadMachine(values.machine);
      checkPlanOnMachine(plan, machine, planPath, values.machine);
      hash = machineHash(machine);
    }
    if (version === 1 && (hash !== 0 || chunkHooks !== undefined)) throw new UserError('encode: --machine and --chunk-lines need format 4 or 5 (leave out --format 1)');
    const bytes = encodePlan(plan, { version, machineHash: hash, chunkHooks });
    writeFileAtomic(values.out, bytes);
    const lines = plan.lines.length;
    const bits = lines ? ((bytes.length * 8) / lines).toFixed(1) : '0';
    process.stdout.write(`wrote ${values.out}: ${bytes.length} bytes, ${lines} lines, ${bits} bits/line\n`);
  },
};

/** --format: 1 (legacy), FORMAT_VERSION or FORMAT_VERSION_FLANKS; nothing else is written. */
function formatFlag(raw: string): number {
  const v = Number(raw.trim());
  if (v === FORMAT_VERSION_1 || v === FORMAT_VERSION || v === FORMAT_VERSION_FLANKS) return v;
  throw new UserError(`--format: '${raw}' is not a stream format this hookline writes; give ${FORMAT_VERSION_1}, ${FORMAT_VERSION} or ${FORMAT_VERSION_FLANKS} (or leave it out: ${DEFAULT_FORMAT}, ${FORMAT_VERSION_FLANKS} for flanked plans)`);
}

export const decodeCommand: Command = {
  name: 'decode',
  usage: 'decode PLAN.hls [--json] [--machine MACHINE.json]',
  summary: 'check a stream and print its hook path, one hook per line (--json: header and operations; --machine: refuse a stream made for another profile)',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('decode', argv, { json: { type: 'boolean' }, machine: { type: 'string', short: 'm' } });
    const [path] = positionals('decode', pos, ['plan.hls']);
    const bytes = readStream(path);
    const expect = values.machine ? machineHash(loadMachine(values.machine)) : 0;
    const s = decodeStreamBytes(bytes, path, expect);
    if (values.json) {
      const ops = s.ops.map((op) => (op >= 0 ? { hook: op } : { color: -op - 1 }));
      process.stdout.write(JSON.stringify({
        version: s.version, minor: s.minor, machineHash: s.machineHash, hookCount: s.hookCount, lineCount: s.lineCount, colors: s.colors,
        chunkLines: s.chunkHooks, chunkCount: s.chunkCount, ops,
      }) + '\n');
    } else {
      // One hook per line as people number them (host/numbering.ts): flanked streams as 12c / 12a.
      const hooks = s.flanks === 2 ? s.hooks.map(flankLabel) : s.hooks;
      process.stdout.write(hooks.join('\n') + (hooks.length ? '\n' : ''));
    }
  },
};

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect PLAN.hls',
  summary: 'show a stream\'s header and chunks: sizes, bits per line, CRCs; damaged chunks are listed and skipped',
  async run(argv) {
    const { positionals: pos } = parseCommand('inspect', argv, {});
    const [path] = positionals('inspect', pos, ['plan.hls']);
    const bytes = readStream(path);
    const r = decodeChunks(bytes);
    const out: string[] = [];
    const h = r.header;
    if (!h) throw new UserError(`${path}: ${streamErrorText(r.error)} at byte ${r.errorAt} (in the header); re-encode it with 'hookline encode'`);
    const lines = h.lineCount;
    const bpl = (n: number, l: number) => (l > 0 ? ((n * 8) / l).toFixed(2) : '-');
    out.push(`${path}: ${bytes.length} bytes, format ${h.version}.${h.minor}, ${lines} lines, ${bpl(bytes.length, lines)} bits/line`);
    out.push(`header: ${r.headerBytes} bytes; machine ${hashText(h.machineHash)}; ${h.flanks === 2 ? `${h.hookCount} flanks of ${h.hookCount / 2} hooks` : `${h.hookCount} hooks`}; palette ${h.colors.join(' ') || '(none)'}` +
      (h.version >= 2 ? `; ${h.chunkCount} chunk${h.chunkCount === 1 ? '' : 's'} of ${h.chunkHooks} hook operations` : ''));
    out.push('chunk  offset   bytes  first line  lines  colour changes  bits/line  CRC');
    let bad = 0;
    for (const c of r.chunks) {
      const hooks = c.ops.filter((o) => o >= 0).length;
      const cl = c.firstLine === 0 ? Math.max(0, hooks - 1) : hooks;
      const colours = c.ops.length - hooks;
      if (c.error) bad++;
      out.push(
        `${String(c.index).padStart(5)}  ${String(c.start).padStart(6)}  ${String(c.end - c.start).padStart(6)}  ${String(c.firstLine).padStart(10)}  ` +
        `${String(c.error ? '?' : cl).padStart(5)}  ${String(c.error ? '?' : colours).padStart(14)}  ${(c.error ? '-' : bpl(c.end - c.start, cl)).padStart(9)}  ` +
        (c.error ? `BAD: ${streamErrorText(c.error)}` : 'ok'),
      );
    }
    if (r.error) out.push(`error: ${streamErrorText(r.error)} at byte ${r.errorAt}`);
    else if (!r.ended) out.push('error: truncated (no end of stream)');
    else {
      const endAt = r.chunks.length ? r.chunks[r.chunks.length - 1].end : r.headerBytes;
      const verdict = bad === 0 ? 'all chunks verified' : `${bad} damaged chunk${bad === 1 ? '' : 's'} skipped`;
      out.push(`end: ${h.version >= 2 ? `end record at byte ${endAt} (${bytes.length - endAt} bytes); ` : ''}${verdict}`);
    }
    process.stdout.write(out.join('\n') + '\n');
    return r.error || !r.ended || bad ? 1 : 0;
  },
};
