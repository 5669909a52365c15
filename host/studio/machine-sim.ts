/**
 * The studio's simulated machine: `hookline device` (the device runtime, link session, gantry and
 * verifier of sim/session/serial-device.ts, in real time × speed) on one end of a socat
 * pseudo-terminal pair, the studio's serial link on the other. So the page drives it exactly as it
 * drives a board on a USB port: openSerial, the link protocol, HostSession.
 *
 * Like a real machine it is a thing of its own: both processes run detached, and when the studio
 * stops in the middle of a run they stay on (the next studio on the same state directory takes them
 * over and resumes). They are ended when the run is over, on Disconnect, or when the studio stops
 * with no run under way. Their ids are kept in STATE/sim-machine.json; a process is only ever ended
 * by that id, after checking that it is still the socat or hookline we started.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root';

export interface SimMachine {
  /** The pty the studio opens (the host's end). */
  hostPort: string;
  /** The profile it simulates (a name from machines/), and its speed × real time. */
  machine: string;
  speed: number;
  socatPid: number;
  devicePid: number;
  /** Its log (stdout and stderr of hookline device) and report.json, written when the plan ends. */
  dir: string;
}

const SOCAT = ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'];
/** A limit for a hang: socat starts in milliseconds and hookline device in a second or two, several on a busy machine. */
const START_LIMIT_MS = 60_000;

export class SimMachineError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process `pid` is alive and is what we started (its command line contains `word`). */
function alive(pid: number, word: string): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(word);
  } catch {
    return process.platform !== 'linux'; // no /proc: the signal test is all there is
  }
}

function end(pid: number, word: string) {
  if (alive(pid, word)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

export function simMachineAlive(s: SimMachine): boolean {
  return alive(s.socatPid, 'socat') && alive(s.devicePid, 'hookline') && existsSync(s.hostPort);
}

/** The device process has ended (the plan finished and the host went quiet, or its port closed). */
export function simDeviceGone(s: SimMachine): boolean {
  return !alive(s.devicePid, 'hookline');
}

const recordFile = (stateDir: string) => join(stateDir, 'sim-machine.json');

export function saveSimMachine(stateDir: string, s: SimMachine | null) {
  if (s) writeFileSync(recordFile(stateDir), JSON.stringify(s));
  else rmSync(recordFile(stateDir), { force: true });
}

/** The simulated machine a previous studio left on, when both its processes still run. */
export function adoptSimMachine(stateDir: string): SimMachine | null {
  let s: SimMachine;
  try {
    s = JSON.parse(readFileSync(recordFile(stateDir), 'utf8')) as SimMachine;
  } catch {
    return null;
  }
  if (simMachineAlive(s)) return s;
  stopSimMachine(s);
  saveSimMachine(stateDir, null);
  return null;
}

export function stopSimMachine(s: SimMachine) {
  end(s.devicePid, 'hookline');
  end(s.socatPid, 'socat');
}

/** What the simulated machine's verifier saw, from the report `hookline device` writes when the plan ends. */
export function simReport(s: SimMachine): { wrapped: number[]; violations: number; state: string } | null {
  try {
    const r = JSON.parse(readFileSync(join(s.dir, 'report.json'), 'utf8')) as { wrapped: number[]; violations: unknown[]; state: string };
    return { wrapped: r.wrapped, violations: r.violations.length, state: r.state };
  } catch {
    return null;
  }
}

/** Start socat and `hookline device` on machines/NAME.json; resolves once the device waits for a host. */
export async function startSimMachine(stateDir: string, machine: string, machineFile: string, speed: number): Promise<SimMachine> {
  if (!SOCAT.some((p) => existsSync(p))) throw new SimMachineError('the simulated machine needs socat for its serial port; install it (apt install socat) and connect again');
  const dir = join(stateDir, 'sim-machine');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hostPort = join(dir, 'host');
  const devicePort = join(dir, 'device');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${hostPort}`, `pty,raw,echo=0,link=${devicePort}`], { stdio: 'ignore', detached: true });
  socat.on('error', () => {}); // seen below as no pty
  socat.unref();
  const t0 = Date.now();
  const s: SimMachine = { hostPort, machine, speed, socatPid: socat.pid ?? -1, devicePid: -1, dir };
  try {
    while (!(existsSync(hostPort) && existsSync(devicePort))) {
      if (Date.now() - t0 > START_LIMIT_MS || socat.exitCode !== null) throw new SimMachineError('socat did not make the simulated machine\'s serial port; check that socat runs (socat -V) and connect again');
      await sleep(20);
    }
    const logFile = join(dir, 'device.log');
    const log = openSync(logFile, 'w');
    const dev = spawn(process.execPath, [join(packageRoot(), 'bin/hookline.js'), 'device', '--port', devicePort, '--machine', machineFile, '--speed', String(speed), '-o', dir],
      { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    dev.on('error', () => {});
    dev.unref();
    s.devicePid = dev.pid ?? -1;
    for (;;) {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      if (/waiting for a host/.test(text)) break;
      if (dev.exitCode !== null || Date.now() - t0 > START_LIMIT_MS) {
        const last = text.trim().split('\n').at(-1) || 'no output';
        throw new SimMachineError(`the simulated machine did not start (hookline device: ${last}); connect again`);
      }
      await sleep(50);
    }
    saveSimMachine(stateDir, s);
    return s;
  } catch (e) {
    stopSimMachine(s);
    throw e;
  }
}
