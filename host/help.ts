import type { Command } from './commands/command';
import type { FlagSpec } from './args';
import { MAX_PLAN_HOOKS, MAX_PLAN_LINES, MAX_THREAD_MM } from './plan/limits';

/**
 * Per-command help: what each argument and option means, its unit, default and range. The one
 * place these are written down; `hookline COMMAND --help` prints them and test/cli-help.test.ts
 * checks that every flag a command's parser accepts is documented here, and nothing else is.
 */
export interface OptionDoc {
  /** Long name without the dashes. */
  name: string;
  short?: string;
  /** A boolean flag takes no value. */
  type: 'string' | 'boolean';
  /** The value's placeholder in the help, e.g. N, DIR, grbl|marlin. */
  value?: string;
  meaning: string;
  unit?: string;
  /** Written as shown; 'required' for options the command cannot run without. */
  default?: string;
  range?: string;
}

export interface CommandDoc {
  args: { name: string; meaning: string }[];
  options: OptionDoc[];
}

const MACHINE: OptionDoc = { name: 'machine', short: 'm', type: 'string', value: 'MACHINE.json', meaning: 'the machine profile (docs/machines.md), e.g. machines/ref-gantry.json' };
const BAUD: OptionDoc = { name: 'baud', type: 'string', value: 'B', meaning: 'serial line speed', unit: 'bit/s', default: '115200', range: '300 to 4000000, whole number' };
const STREAM_ARG = { name: 'PLAN.hls', meaning: "a stream written by 'hookline encode'" };
const PLAN_ARG = { name: 'PLAN.json', meaning: "a plan written by 'hookline plan' (docs/plan-format.md)" };

export const COMMAND_DOCS: Record<string, CommandDoc> = {
  plan: {
    args: [{ name: 'IMAGE', meaning: 'the picture (PNG, JPEG, WebP, …); centre-cropped to the board' }],
    options: [
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'directory for plan.json, preview.png (colour plans also preview-<i>.png per colour) and forming.gif; created if missing', default: 'required' },
      { name: 'hooks', type: 'string', value: 'N', meaning: 'hooks around the frame (not with --layout)', unit: 'hooks', default: '160', range: `3 to ${MAX_PLAN_HOOKS}, whole number` },
      { name: 'lines', type: 'string', value: 'N|auto', meaning: 'threads to string; auto: until another line no longer improves the picture (one-colour plans); colour plans: the total, split by each colour\'s share of the picture', unit: 'lines', default: '3000 (colour plans: 4500)', range: `1 to ${MAX_PLAN_LINES}, whole number, or auto` },
      { name: 'board-mm', type: 'string', value: 'D', meaning: 'board width and height; hook centres lie on its edge', unit: 'mm', default: '600', range: '50 to 5000' },
      { name: 'thread-mm', type: 'string', value: 'W', meaning: 'thread thickness', unit: 'mm', default: '0.12', range: `above 0, up to ${MAX_THREAD_MM}` },
      { name: 'frame', type: 'string', value: 'circle|rect', meaning: 'shape of the frame the hooks are laid out on', default: 'circle', range: 'circle or rect' },
      { name: 'layout', type: 'string', value: 'hooks.json', meaning: 'your own hook positions (docs/plan-format.md), instead of --hooks evenly around the frame', default: 'none' },
      { name: 'min-gap', type: 'string', value: 'N', meaning: 'never join two hooks closer than this around the frame', unit: 'hook positions', default: '5 % of the hooks (8 of 160)', range: '1 to 1000, whole number' },
      { name: 'flanks', type: 'string', value: '2|1', meaning: '2: each thread touches a hook on a chosen side (plan version 2, stream format 5); 1: threads run between hook centres', default: '2', range: '1 or 2' },
      { name: 'hook-mm', type: 'string', value: 'D', meaning: 'hook diameter (with --flanks 2)', unit: 'mm', default: '2', range: '0.1 to 50' },
      { name: 'importance', type: 'string', value: 'MASK.png', meaning: 'greyscale mask, cropped like the image: white = detail matters (weight 3), black = weight 0.1; one-colour plans', default: 'none (all equal)' },
      { name: 'contrast', type: 'string', value: 'C', meaning: 'stretch the picture\'s greys around mid-grey before planning: 0.5 + C × (grey − 0.5); one-colour plans', unit: 'factor', default: '1 (unchanged)', range: '0 to 10' },
      { name: 'gamma', type: 'string', value: 'G', meaning: 'raise the greys (0 = black, 1 = white) to this power after --contrast; above 1 darkens the mid-tones; one-colour plans', unit: 'exponent', default: '1 (unchanged)', range: '0.1 to 10' },
      { name: 'passes', type: 'string', value: 'N', meaning: 'improvement passes over the finished path (each inner hook replaced where that helps); one-colour plans', unit: 'passes', default: '0', range: '0 to 20, whole number' },
      { name: 'method', type: 'string', value: 'M', meaning: 'path: greedy along the thread; set: choose the chords anywhere on the board, then thread them (≈ 1 % lower error, 3–5× the time); one-colour plans', default: 'path', range: 'path or set' },
      { name: 'seed', type: 'string', value: 'S', meaning: 'random seed: the same image, options and seed give the same plan', default: '1', range: '0 to 4294967295, whole number' },
      { name: 'quiet', short: 'q', type: 'boolean', meaning: 'print nothing: no progress bar, no summary' },
      { name: 'palette', type: 'string', value: '"#000000,#d0803c,…"', meaning: 'a colour plan with these thread colours (#rrggbb, comma-separated, in this order: colour 1, 2, …); not with --colors', default: 'none (one black thread)', range: '1 to 16 colours, none equal to --background' },
      { name: 'colors', type: 'string', value: 'K', meaning: 'a colour plan with K thread colours picked from the image; not with --palette', unit: 'colours', default: 'none (one black thread)', range: '1 to 16, whole number' },
      { name: 'background', type: 'string', value: '#rrggbb', meaning: 'the board\'s colour under the threads (colour plans)', default: '#ffffff', range: 'a #rrggbb colour' },
      { name: 'lines-per-color', type: 'string', value: 'N,N,…', meaning: 'lines for each colour, in palette order; not with --lines (colour plans)', unit: 'lines', default: '--lines split by each colour\'s share', range: `one count per colour, each 0 to ${MAX_PLAN_LINES}, ${MAX_PLAN_LINES} in all` },
      { name: 'groups', type: 'string', value: 'G', meaning: 'each colour is strung in G groups, taking turns with the other colours (more groups: better layering, more thread changes); not with --order (colour plans)', unit: 'groups per colour', default: '4', range: '1 to 1000, whole number' },
      { name: 'order', type: 'string', value: '1,2,3,1,…', meaning: 'the groups in stringing order by colour number (1 = first palette colour); every colour with lines at least once; not with --groups (colour plans)', default: 'from --groups', range: 'colour numbers 1 to K' },
    ],
  },
  studio: {
    args: [],
    options: [
      { name: 'port', short: 'p', type: 'string', value: 'N', meaning: 'TCP port to listen on; 0: any free port (the address is printed)', default: '5178', range: '0 to 65535, whole number' },
      { name: 'host', type: 'string', value: 'H', meaning: 'address to listen on; anything but loopback needs --allow-remote', default: '127.0.0.1' },
      { name: 'allow-remote', type: 'boolean', meaning: 'allow a --host other machines can reach; a random access token is printed and every request must carry it' },
      { name: 'open', type: 'boolean', meaning: 'open the page in the desktop\'s browser (when there is one)' },
    ],
  },
  score: {
    args: [{ name: 'PLAN', meaning: 'a plan.json' }, { name: 'IMAGE', meaning: 'the picture to compare it with (usually the one it was planned from)' }],
    options: [
      { name: 'eval-px', type: 'string', value: 'N', meaning: 'the metric\'s raster: pixels across the board\'s longer side (threads are drawn at a whole multiple of it, about one thread width a pixel)', unit: 'pixels', default: '512', range: '16 to 4096, whole number' },
      { name: 'view-mm', type: 'string', value: 'MM', meaning: 'the blur (Gaussian sigma on the board) for rmse_view and ssim_view: the piece seen from a few metres', unit: 'mm', default: '2', range: '0.01 to 100' },
    ],
  },
  encode: {
    args: [PLAN_ARG],
    options: [
      { name: 'out', short: 'o', type: 'string', value: 'PLAN.hls', meaning: 'the stream file to write', default: 'required' },
      { ...MACHINE, meaning: 'bind the stream to this machine profile (its hash goes into the header; devices with another profile refuse it)', default: 'none (any machine with the plan\'s hook count)' },
      { name: 'chunk-lines', type: 'string', value: 'N', meaning: 'hook operations per CRC-checked chunk (formats 4 and 5)', unit: 'hooks', default: '2048', range: '1 to 65535, whole number' },
      { name: 'format', type: 'string', value: '1|4|5', meaning: 'stream format version (docs/stream-format.md); 1 is the legacy 2-bytes-per-hook format', default: '4 (5 for flanked plans)', range: '1, 4 or 5' },
    ],
  },
  decode: {
    args: [STREAM_ARG],
    options: [
      { name: 'json', type: 'boolean', meaning: 'print the header and the operations as JSON (machine format: flank indices 0..2N-1 on flanked plans, colours from 0) instead of one hook per line as people number them (hook 0..N-1, with c or a for the winding on flanked streams, as on the stringing instructions)' },
      { ...MACHINE, meaning: 'refuse a stream made for another machine profile', default: 'none (not checked)' },
    ],
  },
  inspect: {
    args: [STREAM_ARG],
    options: [],
  },
  sim: {
    args: [STREAM_ARG],
    options: [
      { ...MACHINE, meaning: 'the machine to simulate, e.g. machines/ref-gantry.json', default: 'required' },
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'directory for report.json, report.html, strung.png, motion.svg and build.gif', default: 'required' },
      { name: 'plan', type: 'string', value: 'PLAN.json', meaning: 'the plan the stream was encoded from: checks that the stream is this plan on this machine, and shows its preview in report.html', default: 'none' },
      { name: 'target', short: 't', type: 'string', value: 'native|espruino|nodemcu|johnny-five', meaning: 'which device runtime runs on the virtual microcontroller: the TypeScript, or a target\'s built artifact', default: 'native' },
      { name: 'chip', type: 'string', value: 'esp8266|esp8266-160|esp32|pico', meaning: 'charge the interpreter\'s work to this chip\'s CPU (docs/targets.md, "Chip cost"): the clock moves on while the app\'s code runs, a runtime timer that runs late is a late-step violation, and report.json gets the chip\'s load per 100 ms and headroom; esp8266/esp32 with --target nodemcu, pico with --target espruino', default: 'none (the clock stands still while the interpreter runs)', range: 'a chip of the --target' },
      { name: 'max-machine-seconds', type: 'string', value: 'S', meaning: 'give up after this much simulated machine time (a timeout violation; the report is still written)', unit: 'seconds', default: '604800 (7 days)', range: '1 to 31536000' },
      { name: 'width', type: 'string', value: 'PX', meaning: 'width of strung.png', unit: 'pixels', default: '1024', range: '64 to 8192, whole number' },
    ],
  },
  estimate: {
    args: [STREAM_ARG],
    options: [
      { ...MACHINE, default: 'required' },
      { name: 'json', type: 'boolean', meaning: 'print the figures as one JSON object (seconds, metres, mm)' },
    ],
  },
  gcode: {
    args: [PLAN_ARG],
    options: [
      { ...MACHINE, meaning: 'the gantry profile (kind "gantry"): hook positions, heights, speeds', default: 'required' },
      { name: 'out', short: 'o', type: 'string', value: 'FILE', meaning: 'write the G-code here and print a summary', default: 'standard output' },
      { name: 'dialect', type: 'string', value: 'grbl|marlin', meaning: 'the firmware that runs the G-code (docs/gcode.md)', default: 'grbl', range: 'grbl or marlin' },
      { name: 'lift', type: 'string', value: 'z|servo', meaning: 'how the nozzle rises over the hooks: the Z axis, or a servo (then --servo-up and --servo-down are required; Marlin only: stock Grbl has no servo output)', default: 'z', range: 'z or servo' },
      { name: 'servo-up', type: 'string', value: 'S', meaning: 'the firmware\'s S value for nozzle up (--lift servo)', unit: 'firmware S units', default: 'none', range: '0 to 100000' },
      { name: 'servo-down', type: 'string', value: 'S', meaning: 'the firmware\'s S value for nozzle down (--lift servo)', unit: 'firmware S units', default: 'none', range: '0 to 100000' },
      { name: 'settings', type: 'boolean', meaning: 'print the firmware settings that match the profile instead (Grbl $0..$132, Marlin M92/M203/M201/M205), and what the firmware cannot be set to (e.g. Grbl\'s 3 µs minimum step pulse); no PLAN' },
    ],
  },
  instructions: {
    args: [PLAN_ARG],
    options: [
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'directory for instructions.html and instructions.pdf', default: 'required' },
    ],
  },
  run: {
    args: [STREAM_ARG],
    options: [
      { name: 'port', short: 'p', type: 'string', value: 'PORT|sim', meaning: 'the machine\'s serial port (e.g. /dev/ttyUSB0), or sim: the simulated machine in-process, in virtual time', default: 'required' },
      { name: 'target', short: 't', type: 'string', value: 'johnny-five|grbl|marlin', meaning: 'johnny-five: run the device runtime here and drive a Firmata board on --port (docs/targets/johnny-five.md); grbl: stream the plan\'s G-code to a stock Grbl 1.1 controller (docs/targets/grbl.md); marlin: to a Marlin 2 controller (docs/targets/marlin.md)', default: 'none (the device runs its own runtime)', range: 'johnny-five, grbl, marlin' },
      { name: 'apply-settings', type: 'boolean', meaning: '--target grbl: write the profile\'s $ settings to Grbl when they differ; --target marlin: send its M92/M203/M201/M205 (not saved: no M500); without it the run stops with the differences, nothing moved' },
      { ...MACHINE, meaning: 'the machine profile (needed with --port sim and --target johnny-five; on a real port it gives the ETA from the motion estimate)', default: 'none' },
      { ...BAUD, meaning: 'serial line speed (with --target johnny-five: the rate of the sketch\'s Firmata.begin(); ConfigurableFirmata 3.4\'s example sketch uses 115200)', default: '115200; 57600 with --target johnny-five' },
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'write DIR/report.json (--port sim; --target grbl: its position reports and events)', default: 'none' },
      { name: 'faults', type: 'string', value: 'corrupt=P,drop=P,dup=P,reorder=P,resets=N', meaning: 'faults on the simulated line (--port sim): P is the fraction of bytes corrupted, dropped, duplicated or reordered; N power cuts', default: 'none', range: 'P 0 to 0.2; N 0 up' },
      { name: 'seed', type: 'string', value: 'S', meaning: 'random seed for --faults', default: '1', range: '0 up, whole number' },
      { name: 'resume', type: 'boolean', meaning: 'continue from the line the device has stored, after a disconnect or power cut (--target grbl: from PLAN.hls.resume.json, after re-homing)' },
      { name: 'yes', short: 'y', type: 'boolean', meaning: 'do not wait for Enter at colour changes (the thread is changed by someone else, or not at all)' },
      { name: 'quiet', short: 'q', type: 'boolean', meaning: 'no progress bar' },
      { name: 'thread-change-s', type: 'string', value: 'S', meaning: 'machine time a thread change takes in the simulation (--port sim)', unit: 's', default: '30', range: '0 up' },
    ],
  },
  device: {
    args: [],
    options: [
      { name: 'port', short: 'p', type: 'string', value: 'PORT', meaning: 'the serial port to answer on, e.g. one end of a socat pty pair', default: 'required' },
      { ...MACHINE, meaning: 'the machine to simulate (a gantry)', default: 'required' },
      { name: 'target', short: 't', type: 'string', value: 'native|espruino|nodemcu', meaning: 'which runtime answers: the TypeScript, or a target\'s built app', default: 'native' },
      BAUD,
      { name: 'speed', type: 'string', value: 'N', meaning: 'how much faster than real time the simulated machine runs', unit: '× real time', default: '1', range: '0.1 to 100' },
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'write DIR/report.json (the wrapped hooks) when the plan ends', default: 'none' },
    ],
  },
  hil: {
    args: [],
    options: [
      { name: 'port', short: 'p', type: 'string', value: 'PORT', meaning: 'the device\'s serial port (docs/hil.md)', default: 'required' },
      { ...MACHINE, meaning: 'the profile the device should run: the handshake checks its hash and the plan cases are made for its hooks; without it those cases are skipped', default: 'none' },
      BAUD,
      { name: 'out', short: 'o', type: 'string', value: 'DIR', meaning: 'write DIR/hil.json and DIR/hil.xml', default: 'none' },
      { name: 'junit', type: 'string', value: 'FILE', meaning: 'write the JUnit XML report here (wins over -o)', default: 'none' },
      { name: 'json', type: 'string', value: 'FILE', meaning: 'write the JSON report here (wins over -o)', default: 'none' },
    ],
  },
  flash: {
    args: [],
    options: [
      { name: 'target', short: 't', type: 'string', value: 'espruino|nodemcu', meaning: 'the board\'s firmware', default: 'required', range: 'espruino or nodemcu' },
      { name: 'port', short: 'p', type: 'string', value: 'PORT', meaning: 'the board\'s serial port', default: 'required unless --dry-run' },
      { ...MACHINE, meaning: 'the machine profile to store on the board', default: 'machines/ref-gantry.json' },
      { name: 'board', type: 'string', value: 'B', meaning: 'the board model (sets the room in flash and the pin names)', default: 'PICO (espruino), ESP32 (nodemcu)', range: 'espruino: PICO, ESPRUINOWIFI, ESP32; nodemcu: ESP8266, ESP32' },
      { name: 'lua', type: 'string', value: '5.1|5.3', meaning: 'the Lua version of the NodeMCU firmware (nodemcu)', default: '5.1', range: '5.1 or 5.3' },
      BAUD,
      { name: 'dry-run', type: 'boolean', meaning: 'send nothing; write exactly what would be sent to -o OUT' },
      { name: 'out', short: 'o', type: 'string', value: 'OUT', meaning: 'where --dry-run writes (a file for espruino, a directory for nodemcu)', default: 'required with --dry-run' },
      { name: 'timeout', type: 'string', value: 'S', meaning: 'how long to wait for the board to answer', unit: 's', default: '8', range: '0.5 to 600' },
    ],
  },
};

/** The flag definitions parseCommand gets for a documented command (for commands that take them from here). */
export function docFlags(command: string): FlagSpec {
  const doc = COMMAND_DOCS[command];
  if (!doc) throw new Error(`no help for command '${command}'`);
  const out: FlagSpec = {};
  for (const o of doc.options) out[o.name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  return out;
}

const WIDTH = 100;

/** Wrap words to lines of at most `width` characters after `indent`. */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function optionText(o: OptionDoc): string {
  const parts = [o.meaning.replace(/\.?$/, '.')];
  if (o.unit) parts.push(`Unit: ${o.unit}.`);
  if (o.default === 'required') parts.push('Required.');
  else if (o.default) parts.push(`Default: ${o.default}.`);
  if (o.range) parts.push(`Range: ${o.range}.`);
  return parts.join(' ');
}

/** `hookline COMMAND --help`. */
export function commandHelp(c: Command): string {
  const doc = COMMAND_DOCS[c.name];
  const lines = [...wrap(`usage: hookline ${c.usage}`, '    ').map((l, i) => (i === 0 ? l.trimStart() : l)), '', ...wrap(c.summary, '')];
  if (doc?.args.length) {
    lines.push('', 'arguments:');
    for (const a of doc.args) lines.push(`  ${a.name}`, ...wrap(a.meaning, '      '));
  }
  lines.push('', 'options:');
  for (const o of doc?.options ?? []) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;
    lines.push(`  ${flag}`, ...wrap(optionText(o), '      '));
  }
  lines.push('  -h, --help', '      Print this help and exit.');
  return lines.join('\n') + '\n';
}

/** `hookline help`: the commands, and where to read more. */
export function overviewHelp(commands: Command[], version: string): string {
  const lines = [`hookline ${version}: thread art from a photo to a machine that strings it`, '', 'usage: hookline COMMAND [options]', '', 'commands:'];
  const pad = Math.max(...commands.map((c) => c.name.length)) + 2;
  for (const c of commands) {
    const [first, ...rest] = wrap(c.summary, ' '.repeat(pad + 2));
    lines.push(`  ${c.name.padEnd(pad)}${first.trimStart()}`, ...rest);
  }
  lines.push(
    '',
    "Run 'hookline COMMAND --help' (or 'hookline help COMMAND') for a command's arguments and every option's",
    "meaning, unit, default and range; 'hookline --version' prints the version.",
  );
  return lines.join('\n') + '\n';
}
