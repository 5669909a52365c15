import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { loadMachine } from '../machine/load';
import { openSerial } from '../link/serial';
import { type SerialDevice, attachSimDevice } from '../../sim/session/serial-device';
import { type FirmwareBoot, type FirmwareTiming, attachFirmwareDevice } from '../../sim/session/firmware-device';
import type { MachineProfile } from '../../shared/machine';
import type { Command } from './command';

/** Targets whose built app runs behind the port (loaded on demand). */
const FIRMWARE: Record<string, () => Promise<{ boot: FirmwareBoot; timing: FirmwareTiming }>> = {
  espruino: async () => {
    const { espruinoApp, espruinoTarget } = await import('../../sim/targets/espruino');
    return { boot: (mcu, machine, send) => espruinoApp(mcu, { machine, send }), timing: espruinoTarget };
  },
  nodemcu: async () => {
    const { nodemcuApp, nodemcuTarget } = await import('../../sim/targets/nodemcu');
    return { boot: (mcu, machine, send) => nodemcuApp(mcu, { machine, send }), timing: nodemcuTarget() };
  },
};

/** The native device seen through the same narrow surface as a firmware device. */
function nativeDevice(d: SerialDevice) {
  return { ...d, status: () => d.runtime.status(), log: d.hal.log };
}

export const deviceCommand: Command = {
  name: 'device',
  usage: 'device --port PORT --machine MACHINE.json [--target native|espruino|nodemcu] [--baud B] [--speed N] [-o DIR]',
  summary: 'the simulated machine (device runtime, link session, gantry, verifier) on a serial port, e.g. one end of a socat pty pair, in real time × N; --target espruino|nodemcu runs that target’s built app (its own main: the ES5 bundle in node:vm, the Lua in a Lua VM) instead of the TypeScript; writes DIR/report.json (the wrapped hooks) when the plan ends',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('device', argv, {
      port: { type: 'string', short: 'p' },
      machine: { type: 'string', short: 'm' },
      baud: { type: 'string' },
      speed: { type: 'string' },
      out: { type: 'string', short: 'o' },
      target: { type: 'string', short: 't' },
    });
    positionals('device', pos, []);
    if (!values.port) throw new UserError('device: missing --port (e.g. one end of a socat pty pair)');
    if (!values.machine) throw new UserError('device: missing --machine MACHINE.json');
    const machine = loadMachine(values.machine);
    if (machine.kind === 'ring') throw new UserError('device: ring machines are not simulated behind the link yet');
    const baud = numberFlag('baud', values.baud, 115200, { min: 300, max: 4_000_000, integer: true });
    const speed = numberFlag('speed', values.speed, 1, { min: 0.1, max: 100 });
    const targetName = values.target ?? 'native';
    const boot = Object.hasOwn(FIRMWARE, targetName) ? FIRMWARE[targetName] : undefined;
    if (targetName !== 'native' && !boot) throw new UserError(`device: unknown --target '${targetName}'; use one of native, ${Object.keys(FIRMWARE).join(', ')}`);
    const link = await openSerial(values.port, baud);
    const fw = boot ? await boot() : null;
    const d = fw
      ? attachFirmwareDevice(link, machine as MachineProfile, fw.boot, { speed, stepJitterUs: fw.timing.stepJitterUs, homingOvertravelMs: fw.timing.homingOvertravelMs })
      : nativeDevice(attachSimDevice(link, machine as MachineProfile, { speed }));
    process.stderr.write(`device: simulated ${values.machine}${boot ? ` (${targetName} firmware)` : ''} on ${values.port}, ${speed}× real time; waiting for a host\n`);
    link.onClose(() => d.stop());
    process.once('SIGINT', () => d.stop());
    await d.finished;
    await link.close();
    const st = d.status();
    const wraps = d.verifier.wraps;
    if (values.out) {
      writeFileAtomic(join(values.out, 'report.json'), JSON.stringify({
        format: 'hookline-device-report', state: st.stateName, line: st.line, lineCount: st.lineCount,
        wrapped: wraps.map((w) => w.hook), wrappedDirs: wraps.map((w) => w.dir), violationCounts: d.verifier.counts, violations: d.verifier.violations,
      }, null, 1) + '\n');
    }
    process.stdout.write(`device: ${st.stateName} at line ${st.line} of ${st.lineCount}, wrapped ${wraps.length} hooks, ${d.verifier.violations.length} violations${values.out ? `; wrote ${join(values.out, 'report.json')}` : ''}\n`);
    return st.stateName === 'done' && d.verifier.violations.length === 0 ? 0 : 1;
  },
};
