import { basename, join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { UserError } from '../errors';
import { loadMachine } from '../machine/load';
import { openSerial } from '../link/serial';
import { hashText } from '../stream/machine-hash';
import { DeviceLink } from '../hil/device-link';
import { HIL_CASES } from '../hil/cases';
import { hilPlan } from '../hil/plan';
import { type CaseResult, type HilContext, runCases } from '../hil/runner';
import { buildReport, writeJsonReport, writeJunitReport } from '../hil/reports';
import type { Command } from './command';

export const hilCommand: Command = {
  name: 'hil',
  usage: 'hil --port PORT [--machine MACHINE.json] [--baud B] [-o DIR] [--junit FILE] [--json FILE]',
  summary: 'headless hardware-in-the-loop acceptance suite against the device on PORT (docs/hil.md): handshake, homing, malformed frames, a short plan, pause/resume, abort, out-of-order and duplicate frames; JSON and JUnit reports (-o DIR writes DIR/hil.json and DIR/hil.xml); exit 1 when a case fails',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('hil', argv, {
      port: { type: 'string', short: 'p' },
      machine: { type: 'string', short: 'm' },
      baud: { type: 'string' },
      out: { type: 'string', short: 'o' },
      junit: { type: 'string' },
      json: { type: 'string' },
    });
    positionals('hil', pos, []);
    if (!values.port) throw new UserError('hil: missing --port (a serial device such as /dev/ttyUSB0, or one end of a socat pty pair)');
    const baud = numberFlag('baud', values.baud, 115200, { min: 300, max: 4_000_000, integer: true });
    const machine = values.machine ? loadMachine(values.machine) : null;
    const plan = machine ? hilPlan(machine) : null;
    const jsonPath = values.json ?? (values.out ? join(values.out, 'hil.json') : null);
    const junitPath = values.junit ?? (values.out ? join(values.out, 'hil.xml') : null);

    const byteMs = 10_000 / baud;
    const startedAt = new Date();
    const t0 = performance.now();
    const link = new DeviceLink(await openSerial(values.port, baud), byteMs);
    const ctx: HilContext = {
      link, port: values.port, byteMs, machine, machinePath: values.machine ?? null, plan, device: null, handshakeOk: false,
    };
    let results: CaseResult[];
    try {
      results = await runCases(HIL_CASES, ctx, (r) => {
        const tag = r.ok ? 'PASS' : r.skipped ? 'SKIP' : 'FAIL';
        process.stdout.write(`${tag} ${r.name} (${r.ms} ms): ${r.detail}\n`);
      });
    } finally {
      await link.close();
    }
    const report = buildReport({
      startedAt, port: values.port, baud, device: ctx.device, cases: results, ms: performance.now() - t0,
      machine: machine && values.machine ? { path: values.machine, name: machine.name ?? basename(values.machine), hash: hashText(plan!.machineHash) } : null,
    });
    const wrote: string[] = [];
    if (jsonPath) {
      writeJsonReport(jsonPath, report);
      wrote.push(jsonPath);
    }
    if (junitPath) {
      writeJunitReport(junitPath, report);
      wrote.push(junitPath);
    }
    const s = report.summary;
    process.stdout.write(`hil ${s.ok ? 'OK' : 'FAILED'}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped in ${(s.ms / 1000).toFixed(1)} s${wrote.length ? `; wrote ${wrote.join(', ')}` : ''}\n`);
    return s.ok ? 0 : 1;
  },
};
