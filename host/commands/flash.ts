import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { UserError } from '../errors';
import { loadMachine } from '../machine/load';
import { packageRoot } from '../package-root';
import type { FlashTarget } from '../flash/target';
import type { Command } from './command';

/** Flash targets by name; each module is loaded only when asked for. */
const targets: Record<string, () => Promise<FlashTarget>> = {
  espruino: async () => (await import('../flash/espruino')).espruinoFlash,
  nodemcu: async () => (await import('../flash/nodemcu')).nodemcuFlash,
};

export const flashCommand: Command = {
  name: 'flash',
  usage: 'flash --target espruino|nodemcu (--port PORT | --dry-run -o OUT) [--machine MACHINE.json] [--board B] [--lua 5.1|5.3] [--baud B]',
  summary: 'put the device runtime and the machine profile onto a board (default machine: machines/ref-gantry.json); --dry-run writes exactly what would be sent',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('flash', argv, {
      target: { type: 'string', short: 't' },
      port: { type: 'string', short: 'p' },
      machine: { type: 'string', short: 'm' },
      board: { type: 'string' },
      lua: { type: 'string' },
      baud: { type: 'string' },
      'dry-run': { type: 'boolean' },
      out: { type: 'string', short: 'o' },
      timeout: { type: 'string' },
    });
    positionals('flash', pos, []);
    const names = Object.keys(targets);
    if (!values.target) throw new UserError(`flash: missing --target (one of ${names.join(', ')})`);
    const load = targets[values.target];
    if (!load) throw new UserError(`flash: unknown --target '${values.target}'; use one of ${names.join(', ')}`);
    const dryRun = values['dry-run'] === true;
    if (dryRun && !values.out) throw new UserError('flash: --dry-run needs -o OUT (where to write what would be sent)');
    if (!dryRun && !values.port) throw new UserError('flash: missing --port PORT (the board\'s serial port), or use --dry-run -o OUT');
    const machinePath = values.machine ?? join(packageRoot(), 'machines', 'ref-gantry.json');
    const machine = loadMachine(machinePath);
    const baud = numberFlag('baud', values.baud, 115200, { min: 300, max: 4_000_000, integer: true });
    const timeoutMs = numberFlag('timeout', values.timeout, 8, { min: 0.5, max: 600 }) * 1000;
    const target = await load();
    await target.flash({
      machine, machinePath, port: values.port, baud, board: values.board, lua: values.lua, dryRun, out: values.out, timeoutMs,
      log: (line) => process.stderr.write(`flash: ${line}\n`),
    });
    return 0;
  },
};
