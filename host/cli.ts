import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors';
import { commandHelp, overviewHelp } from './help';
import { packageRoot } from './package-root';
import type { Command } from './commands/command';
import { planCommand } from './commands/plan';
import { encodeCommand, decodeCommand, inspectCommand } from './commands/stream';
import { simCommand } from './commands/sim';
import { estimateCommand } from './commands/estimate';
import { scoreCommand } from './commands/score';
import { gcodeCommand } from './commands/gcode';
import { runCommand } from './commands/run';
import { deviceCommand } from './commands/device';
import { instructionsCommand } from './commands/instructions';
import { flashCommand } from './commands/flash';
import { hilCommand } from './commands/hil';
import { studioCommand } from './commands/studio';

export const commands: Command[] = [planCommand, scoreCommand, encodeCommand, decodeCommand, inspectCommand, simCommand, estimateCommand, gcodeCommand, instructionsCommand, runCommand, deviceCommand, hilCommand, flashCommand, studioCommand];

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
    const about = topic === undefined ? undefined : commands.find((c) => c.name === topic);
    if (topic !== undefined && !about) {
      process.stderr.write(`hookline: unknown command '${topic}'; run 'hookline help' for the list\n`);
      return 2;
    }
    // No command at all is a usage error: the overview goes to stderr with exit 2.
    (name === undefined ? process.stderr : process.stdout).write(about ? commandHelp(about) : overviewHelp(commands, version()));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UserError(`unknown command '${name}'; run 'hookline help' for the list`);
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
