import { UserError } from './errors';
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

const commands: Command[] = [planCommand, scoreCommand, encodeCommand, decodeCommand, inspectCommand, simCommand, estimateCommand, gcodeCommand, instructionsCommand, runCommand, deviceCommand, hilCommand, flashCommand];

function help(): string {
  const lines = ['usage: hookline <command> [options]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.usage}`, `      ${c.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UserError(`unknown command '${name}'; run 'hookline help' for the list`);
    return (await command.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`hookline: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    throw e;
  }
}
