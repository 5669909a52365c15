import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors';
import { commandHelp, overviewHelp } from './help';
import { packageRoot } from './package-root';
import type { Command } from './commands/command';
/**
 * Every command, in the order `hookline help` lists them, each loaded only when it runs (or for
 * the help): `hookline plan` does not load serialport, Firmata, pdfkit or the machine-profile schema.
 */
const COMMANDS: [string, () => Promise<Command>][] = [
  ['plan', async () => (await import('./commands/plan')).planCommand],
  ['score', async () => (await import('./commands/score')).scoreCommand],
  ['encode', async () => (await import('./commands/stream')).encodeCommand],
  ['decode', async () => (await import('./commands/stream')).decodeCommand],
  ['inspect', async () => (await import('./commands/stream')).inspectCommand],
  ['sim', async () => (await import('./commands/sim')).simCommand],
  ['estimate', async () => (await import('./commands/estimate')).estimateCommand],
  ['gcode', async () => (await import('./commands/gcode')).gcodeCommand],
  ['instructions', async () => (await import('./commands/instructions')).instructionsCommand],
  ['run', async () => (await import('./commands/run')).runCommand],
  ['device', async () => (await import('./commands/device')).deviceCommand],
  ['hil', async () => (await import('./commands/hil')).hilCommand],
  ['flash', async () => (await import('./commands/flash')).flashCommand],
  ['studio', async () => (await import('./commands/studio')).studioCommand],
];

/** Every command, loaded. */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(COMMANDS.map(([, load]) => load()));
}

/** package.json's version. */
export function version(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
function asksForHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    const commands = await loadCommands();
    const about = topic === undefined ? undefined : commands.find((c) => c.name === topic);
    if (topic !== undefined && !about) {
      process.stderr.write(`hookline: unknown command '${topic}'; run 'hookline help' for the list\n`);
      return 2;
    }
    // No command at all is a usage error: the overview goes to stderr with exit 2.
    (name === undefined ? process.stderr : process.stdout).write(about ? commandHelp(about) : overviewHelp(commands, version()));
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS.find(([n]) => n === name)?.[1];
  try {
    if (!load) throw new UserError(`unknown command '${name}'; run 'hookline help' for the list`);
    const command = await load();
    if (asksForHelp(rest)) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    return (await command.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`hookline: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    throw e;
  }
}
