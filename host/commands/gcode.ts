import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { type Dialect, generateGcode } from '../gcode/generate';
import { firmwareSettings } from '../gcode/firmware-settings';
import { loadMachine } from '../machine/load';
import { loadPlan } from '../plan/load';
import { checkPlanOnMachine } from '../machine/compat';
import type { Command } from './command';

export const gcodeCommand: Command = {
  name: 'gcode',
  usage: 'gcode PLAN.json --machine MACHINE.json [--dialect grbl|marlin] [--lift z|servo --servo-up S --servo-down S] [-o FILE] | gcode --settings --machine MACHINE.json [--dialect grbl|marlin]',
  summary: 'G-code for a GRBL or Marlin gantry (docs/gcode.md): per hook cross, drop and circle it with G2/G3 on the planned side; a pause (M0) at each colour change; stdout or FILE',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('gcode', argv, {
      machine: { type: 'string', short: 'm' },
      out: { type: 'string', short: 'o' },
      dialect: { type: 'string' },
      lift: { type: 'string' },
      'servo-up': { type: 'string' },
      'servo-down': { type: 'string' },
      settings: { type: 'boolean' },
    });
    if (!values.machine) throw new UserError('gcode: missing --machine MACHINE.json (e.g. --machine machines/ref-gantry.json)');
    const dialect = (values.dialect ?? 'grbl') as Dialect;
    if (dialect !== 'grbl' && dialect !== 'marlin') throw new UserError(`gcode: unknown --dialect '${values.dialect}'; use grbl or marlin`);
    if (values.settings) {
      positionals('gcode --settings', pos, []);
      const machine = loadMachine(values.machine);
      if (machine.kind === 'ring') throw new UserError(`gcode: ${values.machine} is a ring machine; G-code is for XY gantries (kind "gantry")`);
      const text = firmwareSettings(machine, dialect, values.machine);
      if (values.out) {
        writeFileAtomic(values.out, text);
        process.stdout.write(`wrote ${values.out}: ${dialect} settings for ${machine.name}\n`);
      } else {
        process.stdout.write(text);
      }
      return;
    }
    const [planFile] = positionals('gcode', pos, ['plan.json']);
    const mode = values.lift ?? 'z';
    if (mode !== 'z' && mode !== 'servo') throw new UserError(`gcode: unknown --lift '${values.lift}'; use z or servo`);
    if (mode === 'z' && (values['servo-up'] !== undefined || values['servo-down'] !== undefined)) {
      throw new UserError('gcode: --servo-up and --servo-down need --lift servo');
    }
    if (mode === 'servo' && (values['servo-up'] === undefined || values['servo-down'] === undefined)) {
      throw new UserError('gcode: --lift servo needs --servo-up S and --servo-down S (the servo values for nozzle up and down)');
    }
    const servoUp = numberFlag('servo-up', values['servo-up'], 0, { min: 0, max: 100000 });
    const servoDown = numberFlag('servo-down', values['servo-down'], 0, { min: 0, max: 100000 });

    const plan = loadPlan(planFile);
    const machine = loadMachine(values.machine);
    if (machine.kind === 'ring') throw new UserError(`gcode: ${values.machine} is a ring machine; G-code is for XY gantries (kind "gantry")`);
    checkPlanOnMachine(plan, machine, planFile, values.machine);

    const r = generateGcode(plan, machine, { dialect, lift: { mode, servoUp, servoDown }, planName: planFile });
    if (values.out) {
      writeFileAtomic(values.out, r.text);
      process.stdout.write(`wrote ${values.out}: ${plan.lines.length} lines, ${(r.threadMm / 1000).toFixed(1)} m of thread, ~${(r.seconds / 3600).toFixed(2)} h\n`);
    } else {
      process.stdout.write(r.text);
    }
  },
};
