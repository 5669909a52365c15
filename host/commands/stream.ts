import { readFileSync } from 'node:fs';
import { parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError, fsErrorText } from '../errors';
import { loadPlan } from '../plan/load';
import { decodeStreamBytes, encodePlan } from '../stream/plan-stream';
import type { Command } from './command';

export const encodeCommand: Command = {
  name: 'encode',
  usage: 'encode PLAN.json -o PLAN.hls',
  summary: 'compress a plan into the nail-index stream the machine reads (docs/stream-format.md)',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('encode', argv, { out: { type: 'string', short: 'o' } });
    const [planPath] = positionals('encode', pos, ['plan.json']);
    if (!values.out) throw new UserError('encode: missing -o FILE.hls (where to write the stream)');
    const plan = loadPlan(planPath);
    const bytes = encodePlan(plan);
    writeFileAtomic(values.out, bytes);
    const lines = plan.lines.length;
    const bits = lines ? ((bytes.length * 8) / lines).toFixed(1) : '0';
    process.stdout.write(`wrote ${values.out}: ${bytes.length} bytes, ${lines} lines, ${bits} bits/line\n`);
  },
};

export const decodeCommand: Command = {
  name: 'decode',
  usage: 'decode PLAN.hls [--json]',
  summary: 'check a stream and print its hook path, one hook per line (--json: header and operations)',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('decode', argv, { json: { type: 'boolean' } });
    const [path] = positionals('decode', pos, ['plan.hls']);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new UserError(`cannot read stream ${path}: ${fsErrorText(e)}; give a .hls file written by 'hookline encode'`);
    }
    const s = decodeStreamBytes(bytes, path);
    if (values.json) {
      const ops = s.ops.map((op) => (op >= 0 ? { hook: op } : { color: -op - 1 }));
      process.stdout.write(JSON.stringify({ hookCount: s.hookCount, lineCount: s.lineCount, colors: s.colors, ops }) + '\n');
    } else {
      process.stdout.write(s.hooks.join('\n') + (s.hooks.length ? '\n' : ''));
    }
  },
};
