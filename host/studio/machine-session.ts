/**
 * The studio's machine (docs/studio.md, "Run the machine"): at most one connection and one run,
 * driven the way `hookline run` drives it — openSerial, the link protocol's HostSession (handshake,
 * HOME, START from the device's stored line, DATA, STATUS, colour-change pauses), LineEta — with the
 * page's buttons in place of the terminal. Connect and Home go through the HIL suite's DeviceLink;
 * a run attaches a HostSession to it.
 *
 * Every tab watches one state (GET /api/machine/events, NDJSON snapshots); one tab controls it (the
 * first to act, or the one that takes control explicitly), the others are refused with 409 and show
 * it read-only. The run (its stream, drawing and the line reached) is kept in STATE/machine-run.json,
 * the studio's own directory, so that a reload, a vanished port or a restarted server can resume it:
 * Resume starts a new HostSession with `resume`, which continues at the line the device stored.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { ControllerStop } from '../controller/controller-run';
import { DeviceLink, stateName } from '../hil/device-link';
import { LineEta } from '../link/eta';
import { openSerial } from '../link/serial';
import { HostSession } from '../link/session';
import { checkPlanOnMachine } from '../machine/compat';
import type { AnyMachine } from '../machine/load';
import type { Plan } from '../plan/types';
import { machineHash } from '../stream/machine-hash';
import { colorHex, decodeStreamBytes, encodePlan, streamOnMachine } from '../stream/plan-stream';
import { estimateMotion } from '../../shared/motion/estimate';
import { RingPath, ringAxes } from '../../shared/geometry/ring';
import { CMD_HOME, REJECT_PROFILE, REJECT_VERSION, T_REJECT } from '../../shared/link/protocol';
import { streamPalette } from '../../shared/stream/palette';
import { listPorts } from './machine-ports';
import { CONTROLLER_BAUD, PageInput, controllerRefusal, homeController, identifyController, runController, type ControllerTarget } from './machine-controller';
import type { MachineProfile } from '../../shared/machine';
import { identifyFirmata, runFirmata, type FirmataControl } from './machine-firmata';
import { resumeFile } from '../controller/resume-point';
import { MACHINE_TARGETS, SIM_PORT, type ConnectRequest, type MachineState, type PortInfo, type RunDrawing, type RunRequest, type RunView } from './machine-protocol';
import { SimMachineError, adoptSimMachine, saveSimMachine, simDeviceGone, simReport, startSimMachine, stopSimMachine, type SimMachine } from './machine-sim';
import type { MachineInfo } from './protocol';

export type MachineProfiles = Map<string, { info: MachineInfo; profile: AnyMachine; file: string }>;

export interface MachineOptions {
  /** Where the run and the simulated machine's record are kept (never a path from the page). */
  stateDir: string;
  machines: MachineProfiles;
  /** A finished plan of this server by its job id, or the one-line reason there is none. */
  planFor(job: string): Plan | string;
}

export interface MachineRoutes {
  /** Answer a /api/machine/… request (POSTs already carry the studio's header); false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  close(): Promise<void>;
}

/** The studio's state directory: HOOKLINE_STUDIO_STATE, else $XDG_STATE_HOME/hookline/studio (~/.local/state/…). */
export function studioStateDir(): string {
  if (process.env.HOOKLINE_STUDIO_STATE) return process.env.HOOKLINE_STUDIO_STATE;
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'hookline', 'studio');
}

/**
 * One studio per state directory: STATE/studio.lock holds its pid (created exclusively). A second
 * studio on the same directory stops with one line; a lock whose studio is gone (killed, crashed)
 * is taken over. Returns the release.
 */
export function lockStateDir(stateDir: string): () => void {
  const file = join(stateDir, 'studio.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UserError(`studio: cannot lock the state directory ${stateDir} (${code ?? (e as Error).message}); set HOOKLINE_STUDIO_STATE to a directory this user can write`);
    }
    let pid = NaN;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && studioAlive(pid)) {
      throw new UserError(`studio: another hookline studio (pid ${pid}) uses the state directory ${stateDir} (its machine run and simulated machine); stop it, or start this one with its own: HOOKLINE_STUDIO_STATE=DIR hookline studio`);
    }
    rmSync(file, { force: true }); // that studio is gone: its lock is stale
  }
  throw new UserError(`studio: cannot lock the state directory ${stateDir} (its studio.lock keeps changing); start this one with its own: HOOKLINE_STUDIO_STATE=DIR hookline studio`);
}

/** The process is alive and (where /proc says) a hookline studio, not a reused pid. */
function studioAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('studio');
  } catch {
    return true; // no /proc: alive is enough
  }
}

const BAUD = 115200;
const HELLO_MS = 10_000;
/** Homing from anywhere on the reference gantry takes well under a minute of machine time. */
const HOMING_LIMIT_MS = 120_000;
/** An abort is confirmed by the device going IDLE (it decelerates first). */
const ABORT_LIMIT_MS = 10_000;
/** After DONE the simulated machine writes its report once the host has been quiet a second. */
const SIM_REPORT_LIMIT_MS = 20_000;
const TICK_MS = 100;
/** The run file is rewritten at most this often while lines advance. */
const SAVE_EVERY_MS = 1000;
const MAX_BODY = 64 * 1024;

/** A refusal: this status and one line. */
class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface SavedRun {
  view: RunView;
  drawing: RunDrawing;
  /** The stream (.hls) as sent, base64. */
  stream: string;
  /** The profile's file name in machines/ (the ETA's estimate). */
  machine: string;
  portId: string;
  portLabel: string;
  /** Settings written to a G-code controller when they differ (--apply-settings). */
  applySettings?: boolean;
}

/** A G-code controller's run (runGrbl / runMarlin) under way. */
interface ControllerJob {
  target: ControllerTarget;
  input: PageInput;
  /** Abort was pressed: the outcome is an abort, not an interruption to resume. */
  aborting: boolean;
  /** The studio is stopping: the outcome leaves the run to resume. */
  closing: boolean;
  over: Promise<void>;
}

const ACTIVE: ReadonlySet<RunView['phase']> = new Set(['starting', 'running', 'pausing', 'paused', 'colour', 'aborting']);

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return reject(new Refusal(413, 'the request is too large'));
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new Refusal(400, 'the request is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

export function startMachine(o: MachineOptions): MachineRoutes {
  const stateDir = o.stateDir;
  mkdirSync(stateDir, { recursive: true });
  const unlock = lockStateDir(stateDir);
  const runFile = join(stateDir, 'machine-run.json');

  const state: MachineState = {
    server: randomUUID(), seq: 0, controller: null, connection: 'off', port: null, portLabel: null, target: null, machine: null,
    device: null, homing: false, run: null, message: null,
  };
  let listed: PortInfo[] = [];
  let link: DeviceLink | null = null;
  let sim: SimMachine | null = null;
  /** The run's stream, drawing and ETA; `saved` is what machine-run.json holds. */
  let saved: SavedRun | null = null;
  let streamBytes: Uint8Array | null = null;
  let session: HostSession | null = null;
  let eta: LineEta | null = null;
  /** The operator asked for a pause (not a colour change); the session's device was paused when the run was taken up again. */
  let userPaused = false;
  let pausedFromBefore = false;
  let abortAt = -1;
  /** The hooks the device must wrap, in order (for the simulated machine's check). */
  let plannedHooks: number[] | null = null;
  let homingSince = -1;
  let doneAt = -1;
  let lastSave = 0;
  let closed = false;
  /** The G-code controller's run, and whether Connect asked to write the profile's settings. */
  let ctl: ControllerJob | null = null;
  let applySettings = false;
  /** The Johnny-Five run (the runtime here, the Firmata board on the port). */
  let fj: { control: FirmataControl | null; colourWait: (() => void) | null; aborting: boolean } | null = null;
  const isController = (t: unknown): t is ControllerTarget => t === 'grbl' || t === 'marlin';
  const watchers = new Set<ServerResponse>();

  // A run left by an earlier studio (stopped mid-run): shown, to be resumed or aborted.
  try {
    saved = JSON.parse(readFileSync(runFile, 'utf8')) as SavedRun;
    streamBytes = Uint8Array.from(Buffer.from(saved.stream, 'base64'));
    saved.view.target ??= 'hookline';
    saved.view.nozzle ??= null;
    if (ACTIVE.has(saved.view.phase)) saved.view.phase = 'interrupted';
    state.run = saved.view;
    if (saved.view.phase === 'interrupted') {
      state.message = { text: `the studio stopped during this run at line ${saved.view.line} of ${saved.view.lineCount} on ${saved.portLabel}; connect to it and press Resume (or Forget run)`, error: false };
    }
  } catch {
    saved = null;
  }
  sim = adoptSimMachine(stateDir);
  if (sim && state.run?.phase !== 'interrupted') {
    stopSimMachine(sim);
    saveSimMachine(stateDir, null);
    sim = null;
  }

  // Snapshots go out at most every 50 ms (STATUS frames come 10 times a second).
  let flushTimer: NodeJS.Timeout | null = null;
  const changed = () => {
    state.seq++;
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      const line = `${JSON.stringify(state)}\n`;
      for (const w of watchers) if (!w.writableEnded) w.write(line);
    }, 50);
  };
  const say = (text: string, error = true) => {
    state.message = { text, error };
    changed();
  };

  const save = (force = false) => {
    if (!saved || !state.run) return;
    const now = Date.now();
    if (!force && now - lastSave < SAVE_EVERY_MS) return;
    lastSave = now;
    saved.view = state.run;
    try {
      writeFileAtomic(runFile, JSON.stringify(saved));
    } catch (e) {
      say(`cannot keep the run in ${runFile}: ${(e as Error).message}; it cannot be resumed after a restart`);
    }
  };
  /** The run is over: nothing to resume (its drawing stays for the page). */
  const forgetRun = () => {
    streamBytes = null;
    rmSync(runFile, { force: true });
  };

  const dropSim = () => {
    if (!sim) return;
    stopSimMachine(sim);
    saveSimMachine(stateDir, null);
    sim = null;
  };

  /** Close the port; the simulated machine goes too unless a run waits to be resumed on it. */
  const disconnect = async (keepSim: boolean) => {
    const l = link;
    link = null;
    session = null;
    state.connection = 'off';
    state.device = null;
    state.homing = false;
    if (l) await l.close();
    if (!keepSim) dropSim();
    changed();
  };

  const run = () => state.run;
  const active = () => !!state.run && ACTIVE.has(state.run.phase);

  /** The port closed under us: a message, the run kept for Resume, nothing else stops. */
  const portGone = (why: string) => {
    const r = run();
    const label = state.portLabel ?? 'the machine';
    const wasSim = state.port === SIM_PORT;
    if (r && ACTIVE.has(r.phase)) {
      r.phase = 'interrupted';
      r.colourPrompt = null;
      save(true);
      say(`the serial port ${label} went away at line ${r.line} of ${r.lineCount} (${why}); ${wasSim ? 'connect the simulated machine again (a new one: it starts from line 0)' : 'plug it in again, connect'} and press Resume`);
    } else {
      say(`the serial port ${label} went away (${why}); ${wasSim ? 'connect again' : 'plug it in again and connect'}`);
    }
    void disconnect(false);
  };

  const tick = () => {
    const l = link;
    if (!l || closed) return;
    // The frame log is for the HIL suite's checks; here only the latest status counts.
    if (l.frames.length > 256) l.frames.splice(0, l.frames.length);
    if (l.closedWhy) return portGone(l.closedWhy);
    const st = l.status;
    if (st && state.device) {
      const name = stateName(st.state);
      if (state.device.state !== name) {
        state.device.state = name;
        state.device.homed = st.state >= 3 && st.state <= 6;
        changed();
      }
    }
    if (state.homing && st) {
      if (st.state === 3) {
        state.homing = false;
        say('homed: the machine is at its home position and ready to run', false);
      } else if (st.state === 7) {
        state.homing = false;
        say(`homing failed: the machine raised alarm ${st.error}; check the end stops and the wiring, then Home again`);
      } else if (performance.now() - homingSince > HOMING_LIMIT_MS) {
        state.homing = false;
        say(`homing did not finish within ${HOMING_LIMIT_MS / 1000} s (the machine reports ${stateName(st.state)}); check the end stops, then Home again`);
      }
    }
    const r = run();
    const s = session;
    if (!r || !s) return;
    const now = performance.now();
    const before = JSON.stringify(r);
    if (s.status) {
      r.line = Math.min(s.status.line, r.lineCount);
      r.color = s.status.color;
      r.deviceState = stateName(s.status.state);
      const e = eta!.update(r.line, now, s.status.state === 5);
      r.etaS = Number.isFinite(e) ? Math.round(e) : null;
    }
    r.resets = s.resets;
    r.startedAt = [...s.startedAt];
    if (s.phase === 'failed') {
      r.phase = 'failed';
      r.colourPrompt = null;
      session = null;
      l.attachSession(null);
      save(true);
      say(`the run stopped at line ${r.line} of ${r.lineCount}: ${s.error}`);
      return;
    }
    if (s.phase === 'done') {
      if (r.phase !== 'done') {
        r.phase = 'done';
        r.line = r.lineCount;
        r.etaS = 0;
        r.colourPrompt = null;
        doneAt = now;
        l.attachSession(null);
        forgetRun();
        say(`done: all ${r.lineCount} lines strung`, false);
      }
      return finishSim(r, now);
    }
    if (abortAt >= 0) {
      if (s.status && s.status.state === 3) {
        r.phase = 'aborted';
        abortAt = -1;
        session = null;
        l.attachSession(null);
        forgetRun();
        say(`aborted at line ${r.line} of ${r.lineCount}; the machine stopped and is idle (still homed)`, false);
      } else if (now - abortAt > ABORT_LIMIT_MS) {
        r.phase = 'aborted';
        abortAt = -1;
        session = null;
        l.attachSession(null);
        forgetRun();
        say(`asked the machine to abort at line ${r.line}, but it did not confirm within ${ABORT_LIMIT_MS / 1000} s; check it before running again`);
      } else r.phase = 'aborting';
    } else if (s.phase === 'handshake' || !s.status || s.status.state < 4) {
      r.phase = 'starting';
    } else if (s.awaitingColour >= 0 && !userPaused) {
      if (pausedFromBefore) {
        // The device was already paused when the run was taken up (a pause or a thread change from before).
        r.phase = r.colourPrompt ? 'colour' : 'paused';
      } else {
        r.phase = 'colour';
        r.colourPrompt = { index: s.awaitingColour, value: r.palette[s.awaitingColour] ?? '(not in the palette)' };
      }
    } else if (userPaused) {
      r.phase = s.status.state === 5 ? 'paused' : 'pausing';
    } else {
      r.phase = 'running';
      r.colourPrompt = null;
    }
    if (JSON.stringify(r) !== before) {
      changed();
      save(r.phase !== 'running');
    }
  };

  /** After DONE on the simulated machine: its verifier's report, then it is turned off. */
  const finishSim = (r: RunView, now: number) => {
    if (state.port !== SIM_PORT || !sim || r.simReport) return;
    const s = sim;
    if (!simDeviceGone(s) && now - doneAt < SIM_REPORT_LIMIT_MS) return;
    const rep = simReport(s);
    const planned = r.lineCount + 1;
    if (rep) {
      const want = plannedHooks;
      r.simReport = { wrapped: rep.wrapped.length, planned, exact: want !== null && rep.wrapped.length === want.length && rep.wrapped.every((h, i) => h === want[i]), violations: rep.violations };
      say(`done: all ${r.lineCount} lines strung; the simulated machine wrapped ${rep.wrapped.length} of ${planned} hooks${r.simReport.exact ? ', exactly the plan\'s' : ', NOT the plan\'s sequence'}, ${rep.violations} violations`, !r.simReport.exact || rep.violations > 0);
    } else {
      say(`done: all ${r.lineCount} lines strung; the simulated machine wrote no report (see ${join(s.dir, 'device.log')})`);
    }
    void disconnect(false);
  };
  const timer = setInterval(tick, TICK_MS);
  timer.unref();

  // ---- commands ----

  const profileOf = (name: unknown) => {
    const m = typeof name === 'string' ? o.machines.get(name) : undefined;
    if (!m) throw new Refusal(400, `no machine '${String(name)}'; choose one of ${[...o.machines.keys()].join(', ')}`);
    return m;
  };

  async function connect(r: ConnectRequest) {
    const m = profileOf(r.machine);
    if (!MACHINE_TARGETS.includes(r.target)) throw new Refusal(400, `unknown target '${String(r.target)}'; use one of ${MACHINE_TARGETS.join(', ')}`);
    if (state.connection !== 'off') throw new Refusal(409, `already ${state.connection} to ${state.portLabel}; disconnect first`);
    listed = await listPorts();
    const port = listed.find((p) => p.id === r.port);
    if (!port) throw new Refusal(400, `'${String(r.port)}' is not a port the studio listed; refresh the list and choose one of it`);
    if (r.target === 'johnny-five') return connectFirmata(port, m);
    if (isController(r.target)) return connectController(r.target, port, m, r.applySettings === true);
    const speed = r.speed === undefined ? 10 : Number(r.speed);
    if (port.sim) {
      if (m.profile.kind === 'ring') throw new Refusal(400, `${m.info.name} is a ring machine; the simulated machine is a gantry: choose a gantry profile`);
      if (!(speed >= 1 && speed <= 100)) throw new Refusal(400, 'the simulated machine\'s speed must be 1 to 100 × real time');
    }
    Object.assign(state, { connection: 'connecting', port: port.id, portLabel: port.label, target: r.target, machine: m.info.name, device: null, homing: false, message: null });
    changed();
    // The rest is reported in the state (the request returns at once).
    void (async () => {
      try {
        let path = port.id;
        if (port.sim) {
          if (sim && (sim.machine !== m.info.name || simDeviceGone(sim))) dropSim();
          if (!sim) sim = await startSimMachine(stateDir, m.info.name, m.file, speed);
          path = sim.hostPort;
        }
        const serial = await openSerial(path, BAUD);
        if (closed || state.connection !== 'connecting') return void serial.close();
        const l = new DeviceLink(serial, 10_000 / BAUD);
        link = l;
        const answer = await l.hello(HELLO_MS);
        if (link !== l) return;
        if (!answer) throw new Refusal(0, l.closedWhy ? `the serial port ${port.label} closed (${l.closedWhy}); check the cable and connect again` : `${port.label} does not answer: no reply to HELLO in ${HELLO_MS / 1000} s; check that the board runs hookline firmware (hookline flash), its power and the cable`);
        if (answer.type === T_REJECT) {
          throw new Refusal(0, answer.payload[0] === REJECT_VERSION
            ? `the device on ${port.label} speaks another link protocol version (${answer.payload[1]}); update the firmware or the studio`
            : answer.payload[0] === REJECT_PROFILE ? `the device on ${port.label} refused the session (machine profile); load the matching profile on it` : `the device on ${port.label} refused the session (reason ${answer.payload[0]})`);
        }
        const info = l.info!;
        const want = machineHash(m.profile);
        if (info.machineHash !== 0 && info.machineHash !== want) {
          throw new Refusal(0, `the device on ${port.label} runs machine profile ${hex(info.machineHash)}, not ${m.info.name} (${hex(want)}); choose its profile under Machine, or flash ${m.info.name} onto it`);
        }
        state.connection = 'connected';
        state.device = { firmware: info.firmware, state: stateName(info.state), homed: info.state >= 3 && info.state <= 6 };
        const r0 = run();
        say(r0?.phase === 'interrupted' ? `connected to ${port.label}; press Resume to continue the run at the line the machine stored` : `connected to ${port.label} (firmware ${info.firmware}, ${stateName(info.state)})`, false);
      } catch (e) {
        const msg = e instanceof Refusal || e instanceof UserError || e instanceof SimMachineError ? e.message : `cannot connect: ${(e as Error).message}`;
        await disconnect(run()?.phase === 'interrupted');
        say(msg);
      }
    })();
  }

  const machinePathOf = (name: string) => `machines/${name}.json`;
  const errorLine = (e: unknown, what: string) => (e instanceof Refusal || e instanceof UserError || e instanceof ControllerStop ? (e as Error).message : `${what}: ${(e as Error).message}`);

  /** A G-code controller: the port is opened for Connect (identify), Home and each run, as hookline run opens it. */
  function connectController(target: ControllerTarget, port: PortInfo, m: ReturnType<typeof profileOf>, apply: boolean) {
    if (port.sim) throw new Refusal(400, `the simulated machine is a hookline device, not a ${target === 'grbl' ? 'Grbl' : 'Marlin'} controller; choose the controller's serial port under Port`);
    const refusal = controllerRefusal(target, m.profile.kind, machinePathOf(m.info.name));
    if (refusal) throw new Refusal(400, refusal);
    applySettings = apply;
    Object.assign(state, { connection: 'connecting', port: port.id, portLabel: port.label, target, machine: m.info.name, device: null, homing: false, message: null });
    changed();
    void (async () => {
      try {
        const fw = await identifyController(target, port.id, m.profile as MachineProfile, machinePathOf(m.info.name));
        if (closed || state.connection !== 'connecting') return;
        state.connection = 'connected';
        state.device = { firmware: fw, state: 'idle', homed: false };
        say(run()?.phase === 'interrupted'
          ? `connected to ${port.label} (${fw}); press Resume to re-home and continue the run at the first hook not certainly wound`
          : `connected to ${port.label} (${fw} at ${CONTROLLER_BAUD} baud); Home and Run open the port again, as hookline run --target ${target} does`, false);
      } catch (e) {
        Object.assign(state, { connection: 'off', device: null });
        say(errorLine(e, 'cannot connect'));
      }
    })();
  }

  function homeControllerNow() {
    if (state.connection !== 'connected') throw new Refusal(409, state.connection === 'connecting' ? 'still connecting; wait for the controller to answer' : 'not connected: choose a port and Connect first');
    if (ctl || active()) throw new Refusal(409, 'a run is under way; abort it before homing');
    if (state.homing) return;
    const target = state.target as ControllerTarget;
    const m = profileOf(state.machine);
    state.homing = true;
    say(`homing: ${target === 'grbl' ? 'Grbl' : 'Marlin'}'s settings checked against ${m.info.name}${applySettings ? ' (written where they differ)' : ''}, then ${target === 'grbl' ? '$H' : 'G28'}…`, false);
    homeController(target, state.port!, m.profile as MachineProfile, machinePathOf(m.info.name), applySettings).then((settings) => {
      state.homing = false;
      if (state.device) state.device.homed = true;
      say(`homed: ${settings}; the machine is at its home position (each run homes again first, as hookline run does)`, false);
    }, (e) => {
      state.homing = false;
      say(errorLine(e, 'homing failed'));
    });
  }

  /** The CLI's words for the page: its --resume is the page's Resume. */
  const pageWords = (text: string, reconnect: boolean) => text
    .replace(/run again with --resume/g, reconnect ? 'plug it in again, connect and press Resume' : 'press Resume')
    .replace(/run again with --apply-settings/g, 'tick "write the profile\'s settings" and connect again');

  /** runGrbl / runMarlin on the run's stream; `resume`: from the resume point the CLI keeps. */
  function startController(resume: boolean) {
    const r = run()!;
    const target = state.target as ControllerTarget;
    const m = profileOf(saved!.machine);
    const origin = m.profile.board.originMm;
    userPaused = false;
    const input = new PageInput((colour) => {
      if (ctl !== job) return;
      const index = colour ?? r.color;
      r.phase = 'colour';
      r.colourPrompt = { index, value: r.palette[index] ?? '(not in the palette)' };
      save(true);
      changed();
    });
    const job: ControllerJob = { target, input, aborting: false, closing: false, over: Promise.resolve() };
    ctl = job;
    r.phase = 'starting';
    r.nozzle = null;
    const round1 = (v: number) => Math.round(v * 10) / 10;
    job.over = runController(target, {
      stateDir, port: state.port!, machine: m.profile as MachineProfile, machinePath: machinePathOf(m.info.name), bytes: streamBytes!, resume, applySettings, input,
      hooks: {
        progress: (line, lineCount, color, etaS) => {
          if (ctl !== job) return;
          r.line = Math.min(line, r.lineCount);
          r.color = color;
          r.etaS = Number.isFinite(etaS) ? Math.round(etaS) : null;
          if (r.phase === 'starting') r.phase = 'running';
          // Marlin reports no state while it streams: the page's own.
          if (target === 'marlin' && state.device) state.device.state = r.phase === 'paused' ? 'paused' : 'running';
          changed();
          save();
        },
        status: (st) => {
          if (ctl !== job) return;
          const nozzle: [number, number] = [round1(st.work[0] - origin[0]), round1(st.work[1] - origin[1])];
          const deviceState = st.sub ? `${st.state.toLowerCase()}:${st.sub}` : st.state.toLowerCase();
          if (r.phase === 'pausing' && st.state === 'Hold' && st.sub === 0) r.phase = 'paused';
          if (nozzle[0] !== r.nozzle?.[0] || nozzle[1] !== r.nozzle?.[1] || deviceState !== r.deviceState) {
            r.nozzle = nozzle;
            r.deviceState = deviceState;
            if (state.device) state.device.state = deviceState;
            changed();
          }
        },
        say: (text) => {
          if (ctl !== job) return;
          if (r.phase === 'starting' && / homed in /.test(text)) r.phase = 'running';
          // The terminal's keys are the page's buttons.
          state.message = { text: text.replace(/; keys: .*$/, '').replace(/; r resumes$/, '; press Resume to continue'), error: false };
          changed();
        },
      },
    }).then((out) => {
      if (ctl !== job) return;
      ctl = null;
      userPaused = false;
      r.colourPrompt = null;
      if (target === 'marlin' && state.device) state.device.state = out.code === 0 ? 'idle' : 'stopped';
      if (out.code === 0) {
        r.phase = 'done';
        r.line = r.lineCount;
        r.etaS = 0;
        forgetRun();
        say(`done: ${out.message}`, false);
      } else if (job.aborting) {
        r.phase = 'aborted';
        forgetRun();
        say(`aborted: ${out.message.replace(/; run again with --resume.*$/, '')}; home the machine before the next run`, false);
      } else {
        const gone = /disconnected|stopped answering|cannot open serial port/.test(out.message);
        r.phase = out.code === 2 && !existsSync(resumeFile(join(stateDir, 'controller-run.hls'))) ? 'failed' : 'interrupted';
        if (gone) Object.assign(state, { connection: 'off', device: null, homing: false });
        save(true);
        say(pageWords(out.message, gone));
      }
    });
  }

  /** Johnny-Five: the board is opened for Connect (the Firmata handshake), Home and each run, as hookline run opens it. */
  function connectFirmata(port: PortInfo, m: ReturnType<typeof profileOf>) {
    if (port.sim) throw new Refusal(400, 'the simulated machine is a hookline device, not a Firmata board; choose the board\'s serial port under Port');
    if (m.profile.kind === 'ring') throw new Refusal(400, 'run --target johnny-five: ring machines are not supported by the Firmata target yet (gantry only)');
    Object.assign(state, { connection: 'connecting', port: port.id, portLabel: port.label, target: 'johnny-five', machine: m.info.name, device: null, homing: false, message: null });
    changed();
    void (async () => {
      try {
        const fw = await identifyFirmata(port.id);
        if (closed || state.connection !== 'connecting') return;
        state.connection = 'connected';
        state.device = { firmware: fw, state: 'unhomed', homed: false };
        say(`connected to ${port.label} (${fw}); Home and Run open the board again, as hookline run --target johnny-five does`, false);
      } catch (e) {
        Object.assign(state, { connection: 'off', device: null });
        say(errorLine(e, 'cannot connect'));
      }
    })();
  }

  /** Home (homeOnly) or run the stream with the runtime on the Firmata board. */
  function startFirmata(homeOnly: boolean) {
    const m = profileOf(state.machine);
    const origin = m.profile.board.originMm;
    const axes = (m.profile as MachineProfile).axes;
    const job = { control: null as FirmataControl | null, colourWait: null as (() => void) | null, aborting: false };
    fj = job;
    const r = homeOnly ? null : run();
    if (r) {
      r.phase = 'starting';
      r.nozzle = null;
    }
    let lastLine = -1;
    let t0 = 0;
    const round1 = (v: number) => Math.round(v * 10) / 10;
    void runFirmata(state.port!, m.profile as MachineProfile, homeOnly ? new Uint8Array(0) : streamBytes!, {
      control: (c) => (job.control = c),
      homed: (sec) => {
        if (state.device) state.device.homed = true;
        if (!homeOnly) say(`homed in ${sec.toFixed(1)} s; running`, false);
      },
      tick: (st) => {
        if (fj !== job) return;
        const name = stateName(st.state);
        const nozzle: [number, number] = [round1(st.x / axes.x.stepsPerMm - origin[0]), round1(st.y / axes.y.stepsPerMm - origin[1])];
        if (state.device && state.device.state !== name) {
          state.device.state = name;
          changed();
        }
        if (!r) return;
        if (st.state >= 4 && r.phase === 'starting') {
          r.phase = 'running';
          t0 = performance.now();
        }
        if (st.state === 5 && r.phase === 'pausing') r.phase = 'paused';
        if (st.line !== lastLine || nozzle[0] !== r.nozzle?.[0] || nozzle[1] !== r.nozzle?.[1]) {
          lastLine = st.line;
          r.line = Math.min(st.line, r.lineCount);
          r.color = st.color;
          r.deviceState = name;
          r.nozzle = nozzle;
          const rate = r.line > 0 && t0 > 0 ? (performance.now() - t0) / 1000 / r.line : NaN;
          r.etaS = Number.isFinite(rate) ? Math.round(rate * (r.lineCount - r.line)) : null;
          changed();
          save();
        }
      },
      colour: (index) => new Promise<void>((resolve) => {
        if (!r || fj !== job) return resolve();
        job.colourWait = resolve;
        r.phase = 'colour';
        r.colourPrompt = { index, value: r.palette[index] ?? '(not in the palette)' };
        save(true);
        changed();
      }),
    }, homeOnly).then((out) => {
      if (fj !== job) return;
      fj = null;
      if (homeOnly) {
        state.homing = false;
        if (out.code === 3) Object.assign(state, { connection: 'off', device: null });
        return say(out.code === 0 ? `homed: ${out.message}; the machine is at its home position (each run homes again first)` : `homing failed: ${out.message}`, out.code !== 0);
      }
      r!.colourPrompt = null;
      if (out.code === 0) {
        r!.phase = 'done';
        r!.line = r!.lineCount;
        r!.etaS = 0;
        forgetRun();
        say(`done: ${out.message}`, false);
      } else {
        r!.phase = job.aborting ? 'aborted' : 'failed';
        if (out.code === 3) Object.assign(state, { connection: 'off', device: null, homing: false });
        forgetRun();
        say(job.aborting || out.code === 3 ? out.message : `${out.message}; the Firmata target keeps no resume point: fix it and Run again`, !job.aborting);
      }
    });
  }

  const needConnected = () => {
    if (state.connection !== 'connected' || !link) throw new Refusal(409, state.connection === 'connecting' ? 'still connecting; wait for the machine to answer' : 'not connected: choose a port and Connect first');
    return link;
  };

  function home() {
    if (isController(state.target)) return homeControllerNow();
    if (state.target === 'johnny-five') {
      if (state.connection !== 'connected') throw new Refusal(409, 'not connected: choose a port and Connect first');
      if (fj || active()) throw new Refusal(409, 'a run is under way; abort it before homing');
      if (state.homing) return;
      state.homing = true;
      say('homing…', false);
      return startFirmata(true);
    }
    const l = needConnected();
    if (active()) throw new Refusal(409, 'a run is under way; abort it before homing');
    if (state.homing) return;
    l.cmd(CMD_HOME);
    state.homing = true;
    homingSince = performance.now();
    say('homing…', false);
  }

  /** Start a HostSession on the stream (resume: from the device's stored line). */
  function startSession(resume: boolean) {
    const l = needConnected();
    const m = profileOf(saved!.machine);
    const s = new HostSession(streamBytes!, { byteMs: 10_000 / BAUD, resume }, l.now());
    // The motion estimate per line, as hookline run computes it, for the ETA.
    let lineSeconds: number[] | null = null;
    try {
      const d = decodeStreamBytes(streamBytes!, 'the plan');
      const { ops, dirs, hooks } = streamOnMachine(d, 'the plan', m.profile.hooks.count, `machines/${m.info.name}.json`);
      plannedHooks = hooks;
      lineSeconds = m.profile.kind === 'ring'
        ? estimateMotion(ringAxes(m.profile), ops, false, new RingPath(m.profile), dirs ?? undefined).lineSeconds
        : estimateMotion(m.profile, ops, false, undefined, dirs ?? undefined).lineSeconds;
    } catch {
      lineSeconds = null; // no estimate: the ETA follows the pace seen so far
    }
    eta = new LineEta(s.lineCount, lineSeconds);
    userPaused = false;
    abortAt = -1;
    pausedFromBefore = resume && l.info?.state === 5;
    session = s;
    l.attachSession(s);
  }

  function startRun(r: RunRequest) {
    if (isController(state.target) || state.target === 'johnny-five') {
      if (state.connection !== 'connected') throw new Refusal(409, 'not connected: choose a port and Connect first');
      if (fj) throw new Refusal(409, 'the board is homing; wait for it to finish');
    } else needConnected();
    if (state.homing) throw new Refusal(409, 'homing is under way; wait for it to finish');
    if (active()) throw new Refusal(409, 'a run is under way');
    if (run()?.phase === 'interrupted') throw new Refusal(409, `an interrupted run waits at line ${run()!.line} of ${run()!.lineCount}; press Resume to continue it or Abort to forget it`);
    const whole = typeof r.job === 'string' ? o.planFor(r.job) : 'the request names no plan';
    if (typeof whole === 'string') throw new Refusal(404, whole);
    // "First lines only": the plan's first N lines (a prefix of a path is a path), e.g. to try a machine.
    let plan = whole;
    if (r.firstLines !== undefined && r.firstLines !== null) {
      const n = Number(r.firstLines);
      if (!Number.isInteger(n) || n < 1) throw new Refusal(400, `first lines only: '${String(r.firstLines)}' is not a whole number of lines from 1; leave it empty to string the whole plan`);
      if (n < whole.lines.length) {
        plan = { ...whole, lines: whole.lines.slice(0, n), colorChanges: whole.colorChanges?.filter((c) => c.line < n) };
      }
    }
    const m = profileOf(state.machine);
    let bytes: Uint8Array;
    try {
      checkPlanOnMachine(plan, m.profile, 'the plan', `machines/${m.info.name}.json`);
      bytes = encodePlan(plan, { machineHash: machineHash(m.profile) });
    } catch (e) {
      if (e instanceof UserError) throw new Refusal(400, e.message);
      throw e;
    }
    const id = randomUUID();
    const palette = streamPalette(bytes).map(colorHex);
    const view: RunView = {
      id, phase: 'starting', line: 0, lineCount: plan.lines.length, color: 0, palette, etaS: null, deviceState: state.device?.state ?? null,
      colourPrompt: null, resets: 0, startedAt: [], machine: m.info.name, port: state.portLabel ?? '', simReport: null, target: state.target ?? 'hookline', nozzle: null,
    };
    const drawing: RunDrawing = { id, board: plan.board, nails: plan.nails, threadMm: plan.threadWidthMm, colors: plan.colors, background: plan.background, lines: plan.lines };
    saved = { view, drawing, stream: Buffer.from(bytes).toString('base64'), machine: m.info.name, portId: state.port!, portLabel: state.portLabel!, applySettings };
    streamBytes = bytes;
    state.run = view;
    if (state.target === 'johnny-five') {
      startFirmata(false);
      save(true);
      say(`running ${view.lineCount} lines on ${m.info.name} (Johnny-Five): homing first`, false);
      return;
    }
    if (isController(state.target)) {
      // A new run starts from the first hook: an older resume point is not this run's.
      rmSync(resumeFile(join(stateDir, 'controller-run.hls')), { force: true });
      startController(false);
      save(true);
      say(`running ${view.lineCount} lines on ${m.info.name} (${state.target === 'grbl' ? 'Grbl' : 'Marlin'}): settings, homing first`, false);
      return;
    }
    startSession(false);
    view.lineCount = session!.lineCount;
    save(true);
    say(`running ${view.lineCount} lines on ${m.info.name}: homing first`, false);
  }

  function pause() {
    const r = run();
    if (fj && r) {
      if (r.phase !== 'running' || !fj.control) throw new Refusal(409, r.phase === 'colour' ? 'the machine is already paused for a thread change' : `the run is ${r.phase}, not running`);
      if (!fj.control.pause()) throw new Refusal(409, 'the machine is not running (homing, or between states); try again');
      r.phase = 'pausing';
      save(true);
      changed();
      return;
    }
    if (ctl && r) {
      if (r.phase !== 'running') throw new Refusal(409, r.phase === 'colour' ? 'the machine is already paused for a thread change' : `the run is ${r.phase}, not running`);
      userPaused = true;
      ctl.input.key('p');
      // Grbl: a feed hold decelerates (Hold:1), then stands (Hold:0). Marlin: no more lines are sent.
      r.phase = ctl.target === 'grbl' ? 'pausing' : 'paused';
      if (ctl.target === 'marlin' && state.device) state.device.state = 'paused';
      save(true);
      changed();
      return;
    }
    if (!session || !r || r.phase !== 'running') throw new Refusal(409, r && r.phase === 'colour' ? 'the machine is already paused for a thread change' : 'nothing is running');
    userPaused = true;
    session.pause();
    r.phase = 'pausing';
    save(true);
    changed();
  }

  function resume() {
    const r = run();
    if (!r) throw new Refusal(409, 'no run to resume');
    if (fj) {
      if (r.phase !== 'paused' || !fj.control?.resume()) throw new Refusal(409, r.phase === 'pausing' ? 'the machine is still stopping; press Resume once it is paused' : `the run is ${r.phase}, not paused`);
      r.phase = 'running';
      save(true);
      say('resumed', false);
      return;
    }
    if (ctl) {
      if (r.phase !== 'paused') throw new Refusal(409, r.phase === 'pausing' ? 'the machine is still stopping; press Resume once it is paused' : `the run is ${r.phase}, not paused`);
      userPaused = false;
      ctl.input.key('r');
      r.phase = 'running';
      save(true);
      say('resumed', false);
      return;
    }
    if ((r.phase === 'interrupted' || r.phase === 'failed') && r.target === 'johnny-five') {
      throw new Refusal(409, 'the Firmata target keeps no resume point (as hookline run --target johnny-five); press Forget run, then Run the plan again');
    }
    if ((r.phase === 'interrupted' || r.phase === 'failed') && isController(r.target)) {
      if (!saved || !streamBytes) throw new Refusal(409, 'this run is no longer kept; start it again with Run');
      if (state.connection !== 'connected') throw new Refusal(409, 'not connected: choose the controller\'s port and Connect first');
      if (state.target !== r.target || state.machine !== saved.machine) throw new Refusal(409, `the run is for ${saved.machine} on ${r.target === 'grbl' ? 'Grbl' : 'Marlin'}; connect with that target and machine profile`);
      r.simReport = null;
      // The resume point the CLI keeps; none: nothing was wound yet (it stopped before the job).
      const from = existsSync(resumeFile(join(stateDir, 'controller-run.hls')));
      startController(from);
      save(true);
      say(from ? 'resuming: re-homing, then the first hook not certainly wound' : 'starting again from the first hook (nothing was wound)', false);
      return;
    }
    if (r.phase === 'interrupted' || r.phase === 'failed') {
      if (!saved || !streamBytes) throw new Refusal(409, 'this run is no longer kept; start it again with Run');
      needConnected();
      if (state.machine !== saved.machine) throw new Refusal(409, `the run is for ${saved.machine}; connect with that machine profile`);
      r.phase = 'starting';
      r.simReport = null;
      startSession(true);
      save(true);
      say(`resuming at the line the machine stored (line ${r.line} when last seen)`, false);
      return;
    }
    if (!session || r.phase !== 'paused') throw new Refusal(409, r.phase === 'pausing' ? 'the machine is still stopping; press Resume once it is paused' : `the run is ${r.phase}, not paused`);
    if (userPaused) {
      userPaused = false;
      session.resume();
    } else {
      pausedFromBefore = false;
      r.colourPrompt = null;
      session.continueAfterColour();
    }
    r.phase = 'running';
    save(true);
    say('resumed', false);
  }

  function colourDone() {
    const r = run();
    if (fj && r && r.phase === 'colour' && fj.colourWait) {
      const w = fj.colourWait;
      fj.colourWait = null;
      r.colourPrompt = null;
      r.phase = 'running';
      w();
      save(true);
      say('thread changed; running', false);
      return;
    }
    if (ctl && r && r.phase === 'colour') {
      r.colourPrompt = null;
      r.phase = 'running';
      ctl.input.answer();
      save(true);
      say(`thread changed; running`, false);
      return;
    }
    if (!session || !r || r.phase !== 'colour') throw new Refusal(409, 'no thread change is waiting');
    pausedFromBefore = false;
    r.colourPrompt = null;
    session.continueAfterColour();
    r.phase = 'running';
    save(true);
    say(`thread changed to colour ${r.color + 1}; running`, false);
  }

  function abort() {
    const r = run();
    if (!r) throw new Refusal(409, 'no run to abort');
    if (fj && ACTIVE.has(r.phase)) {
      if (fj.aborting) return;
      if (!fj.control?.abort()) throw new Refusal(409, 'the board is homing; abort once it has homed (or switch it off)');
      fj.aborting = true;
      if (fj.colourWait) {
        // The runtime is PAUSED at the thread change: abort() dropped the job; let the feeder see IDLE.
        const w = fj.colourWait;
        fj.colourWait = null;
        w();
      }
      r.colourPrompt = null;
      r.phase = 'aborting';
      changed();
      return;
    }
    if (ctl) {
      if (ctl.aborting) return;
      if (!ctl.input.interrupt()) throw new Refusal(409, 'Marlin is identifying or homing; abort once it has homed (or switch it off)');
      ctl.aborting = true;
      userPaused = false;
      r.colourPrompt = null;
      r.phase = 'aborting';
      changed();
      return;
    }
    if (!session || !ACTIVE.has(r.phase)) {
      // An interrupted (or finished) run: forget it.
      state.run = null;
      forgetRun();
      saved = null;
      if (!link) dropSim();
      say('the run was forgotten', false);
      return;
    }
    if (r.phase === 'starting') {
      // Nothing moves the plan yet (handshake or homing): stop the session; the device stays as it is.
      session = null;
      link?.attachSession(null);
      r.phase = 'aborted';
      forgetRun();
      say(`aborted before the first line; the machine ${state.device?.state === 'homing' ? 'finishes homing' : 'did not start'}`, false);
      return;
    }
    abortAt = performance.now();
    userPaused = false;
    session.abort();
    r.phase = 'aborting';
    changed();
  }

  async function userDisconnect() {
    if (state.connection === 'off') return;
    if (fj) throw new Refusal(409, 'the Firmata board is busy (homing or a run); abort it (or let it finish) before disconnecting');
    if (ctl) throw new Refusal(409, 'a run is under way on the controller; abort it (or let it finish) before disconnecting');
    const r = run();
    if (r && session && r.phase !== 'paused' && r.phase !== 'colour' && ACTIVE.has(r.phase)) {
      throw new Refusal(409, 'the machine is running; pause or abort it before disconnecting');
    }
    if (r && session && ACTIVE.has(r.phase)) {
      r.phase = 'interrupted';
      save(true);
    }
    await disconnect(r?.phase === 'interrupted');
    say(r?.phase === 'interrupted' ? `disconnected; the run waits at line ${r.line} of ${r.lineCount}: connect and press Resume` : 'disconnected', false);
  }

  // ---- HTTP ----

  const sendJson = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify(value));
  };

  /** The tab acting must hold control; the first tab to act takes it when nobody holds it. */
  const controlled = (req: IncomingMessage, take = false) => {
    const client = req.headers['x-hookline-client'];
    if (typeof client !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(client)) throw new Refusal(400, 'the request names no tab (x-hookline-client)');
    if (take || state.controller === null) {
      if (state.controller !== client) {
        state.controller = client;
        changed();
      }
    } else if (state.controller !== client) {
      throw new Refusal(409, 'another tab controls the machine (this one is read-only); press Take control to drive it from here');
    }
  };

  async function post(req: IncomingMessage, res: ServerResponse, cmd: string) {
    const body = await readJson(req);
    controlled(req, cmd === 'claim');
    switch (cmd) {
      case 'claim': break;
      case 'connect': await connect(body as unknown as ConnectRequest); break;
      case 'home': home(); break;
      case 'run': startRun(body as unknown as RunRequest); break;
      case 'pause': pause(); break;
      case 'resume': resume(); break;
      case 'colour': colourDone(); break;
      case 'abort': abort(); break;
      case 'disconnect': await userDisconnect(); break;
      default: throw new Refusal(404, 'not found');
    }
    changed();
    sendJson(res, 200, state);
  }

  function events(req: IncomingMessage, res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.write(`${JSON.stringify(state)}\n`);
    watchers.add(res);
    res.on('close', () => watchers.delete(res));
  }

  return {
    handle(req, res, path) {
      if (!path.startsWith('/api/machine/')) return false;
      const what = path.slice('/api/machine/'.length);
      const answer = async () => {
        if (req.method === 'POST') return post(req, res, what);
        if (what === 'events') return events(req, res);
        if (what === 'ports') {
          listed = await listPorts();
          return sendJson(res, 200, listed);
        }
        if (what === 'drawing') {
          if (!saved) throw new Refusal(404, 'no run');
          return sendJson(res, 200, saved.drawing);
        }
        throw new Refusal(404, 'not found');
      };
      answer().catch((e) => {
        const status = e instanceof Refusal ? e.status : 500;
        const message = e instanceof Refusal ? e.message : `internal error: ${(e as Error)?.message ?? e}`;
        if (status === 500) process.stderr.write(`hookline studio: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}\n`);
        if (res.headersSent) return void (!res.writableEnded && res.end());
        sendJson(res, status, { error: message });
      });
      return true;
    },
    async close() {
      const f = fj;
      if (f) {
        // The runtime runs in this process: stop the machine (decelerate, IDLE) before it goes.
        if (!f.control?.abort()) f.control?.halt();
        const until = Date.now() + 5000;
        while (fj === f && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
        f.control?.halt();
      }
      const c = ctl;
      if (c) {
        // As Ctrl-C on hookline run: a hold, then a reset; the resume point says where to go on.
        c.closing = true;
        c.input.interrupt();
        const ended = await Promise.race([c.over.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 5000))]);
        // Not stopped yet (Marlin waits for its planned moves): Ctrl-C again, as the CLI's second one (Grbl: leave now; Marlin: M410 quick stop).
        if (!ended) {
          c.input.interrupt();
          await Promise.race([c.over, new Promise((res) => setTimeout(res, 5000))]);
        }
      }
      closed = true;
      clearInterval(timer);
      if (flushTimer) clearTimeout(flushTimer);
      const r = run();
      const unfinished = !!r && (ACTIVE.has(r.phase) || r.phase === 'interrupted');
      if (r && ACTIVE.has(r.phase)) {
        // Like a real machine, the simulated one stays on: the next studio takes it up and resumes.
        r.phase = 'interrupted';
        save(true);
      }
      for (const w of watchers) w.end();
      watchers.clear();
      const l = link;
      link = null;
      if (l) await l.close();
      if (!unfinished) dropSim();
      unlock();
    },
  };
}
