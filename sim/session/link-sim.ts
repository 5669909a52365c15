/**
 * `hookline run --port sim`: the host session and the simulated device (LinkSession + Runtime on
 * the virtual MCU, the gantry plant and the verifier, as in sim/simulate.ts) joined by two faulty
 * serial lines at the baud rate, all in virtual time. Power cuts at random points: the device loses
 * its RAM (a new Runtime, decoder, receiver and session) but keeps its flash (the SimHal storage)
 * and the machine keeps its physical position; it must home again and resume.
 *
 * Rule for a wrap interrupted by a power cut: a hook counts as wrapped when its wrap path has
 * completed (the runtime's tagged block done); the device stores that count at once, and the
 * stored count is what decides (it is what the device resumes from). A winding the
 * nozzle was in the middle of when the power died, of a hook not yet complete, is discarded by the
 * verifier (counted as `interruptedWraps`) and the hook is wrapped again after the resume. A winding
 * of a hook that did complete is counted once, when the nozzle leaves it (after the reboot: when Z
 * homes upwards). So the verifier's wrapped sequence across all resets must equal the plan exactly.
 */
import type { MachineProfile } from '../../shared/machine';
import { Runtime } from '../../device/runtime';
import { LinkSession } from '../../device/link-session';
import { machineHash } from '../../host/stream/machine-hash';
import { FaultyPipe, NO_FAULTS, type PipeFaults } from '../../host/link/faulty-pipe';
import { HANDSHAKE_MS, HostSession, NOISY_HANDSHAKE_MS } from '../../host/link/session';
import { seededRandom } from '../../host/rng';
import { VirtualMcu } from '../mcu';
import { SimHal } from '../hal';
import { type Mismatch, type Violation, firstMismatch, hooksAndDirections } from '../verify';
import { watchedGantry } from './watched-gantry';
import { decodeExpected } from '../expected-path';

export interface LinkSimOptions {
  faults?: PipeFaults;
  /** Power cuts at random points of the piece. */
  resets?: number;
  seed?: number;
  baud?: number;
  /** Virtual operator time at a colour-change pause (default 30 s). */
  threadChangeSeconds?: number;
  /** How long the power stays off (default 1 s). */
  offSeconds?: number;
  /** The profile hash the device reports (default: this profile's). */
  deviceMachineHash?: number;
  maxMachineSeconds?: number;
  /** Progress callback, called at most once per virtual second. */
  onProgress?: (p: { line: number; lineCount: number; color: number; machineSeconds: number; resets: number }) => void;
}

export interface LinkSimResult {
  ok: boolean;
  error: string | null;
  planHooks: number[];
  wrapped: number[];
  wrappedDirs: number[];
  firstMismatch: Mismatch | null;
  violations: Violation[];
  /** All violations by kind (violations keeps the first few of each). */
  violationCounts: Partial<Record<string, number>>;
  machineSeconds: number;
  faults: {
    resets: number;
    resetsNoticed: number;
    interruptedWraps: number;
    corrupted: number;
    dropped: number;
    duplicated: number;
    reordered: number;
    retransmissions: number;
    timeouts: number;
    handshakes: number;
  };
  link: { bytesToDevice: number; bytesToHost: number; framesSent: number; streamBytes: number };
  startedAt: number[];
  pauses: number;
  events: string[];
  deviceLog: string[];
  wallSeconds: number;
}

const SLOT_LINK = 1;

function faultsOn(f: PipeFaults): boolean {
  return f.corrupt > 0 || f.drop > 0 || f.dup > 0 || f.reorder > 0;
}

/** --faults as the user wrote them (the pipe part). */
export function describeFaults(f: PipeFaults): string {
  return (['corrupt', 'drop', 'dup', 'reorder'] as const).filter((k) => f[k] > 0).map((k) => `${k}=${f[k]}`).join(',');
}

/**
 * The host gave up on the link of the simulated port: say so in terms of the faults injected, not
 * the advice for a real port (--port, --baud, the cable). A HELLO_REPLY is 26 bytes on the line.
 */
function simulatedLinkFailure(host: HostSession, f: PipeFaults, lineCount: number): string {
  const intact = Math.pow((1 - f.corrupt) * (1 - f.drop) * (1 - f.dup) * (1 - f.reorder), 26) * 100;
  const at = host.status ? `at line ${host.status.line} of ${lineCount}` : 'before the start';
  return `the simulated link gave up ${at} under --faults ${describeFaults(f)}: ` +
    (host.linkFailure === 'noisy'
      ? `no reply from the device arrived intact for ${NOISY_HANDSHAKE_MS / 1000} s (${host.damagedFrames} damaged frames; a 26-byte reply survives these rates ${intact < 1 ? intact.toFixed(2) : intact.toFixed(1)} % of the time)`
      : `the device went silent for ${HANDSHAKE_MS / 1000} s`) +
    '; lower the fault rates';
}
const SLOT_POWER = 2;
const SLOT_OPERATOR = 3;

export function runLinkSim(stream: Uint8Array, machine: MachineProfile, opts: LinkSimOptions = {}): LinkSimResult {
  const wall0 = performance.now();
  const baud = opts.baud ?? 115200;
  const faults = opts.faults ?? NO_FAULTS;
  const rnd = seededRandom(opts.seed ?? 1);
  const deviceHash = opts.deviceMachineHash ?? machineHash(machine);
  const mcu = new VirtualMcu();
  const verifier = watchedGantry(mcu, machine);
  // Every motion is judged against the acceleration limit, homing included (device/stepper.ts).
  verifier.accelFromUs = 0;

  const toDevice = new FaultyPipe(baud, faults, rnd);
  const toHost = new FaultyPipe(baud, faults, rnd);
  // Link and host time in ms, from the MCU's µs clock. A deadline d (ms) fires at the timer d·1000
  // µs, and (d·1000)/1000 can come back below d, which would leave a pipe arrival or a retransmit
  // deadline in the future for ever (the loop spinning at one instant). No constant epsilon fixes
  // that: the rounding error grows with the clock (1e-9 ms was below one ulp after 2.3 h of machine
  // time, the stall `resets=850` hit). So when the link timer fires, the time is the deadline it was
  // set for (in ms, exact), never less.
  let linkAtUs = -1;
  let linkAtMs = -1;
  const nowMs = () => (mcu.now === linkAtUs ? Math.max(linkAtMs, mcu.now / 1000) : mcu.now / 1000);
  const host = new HostSession(stream, { byteMs: toDevice.byteMs }, 0);
  const lineCount = host.lineCount;

  // Power cuts: when progress first reaches each of `resets` random lines, the power dies a random
  // 0–3 s later (mid-move, mid-wrap, mid-homing, mid-handshake: wherever that falls).
  const cutLines: number[] = [];
  for (let i = 0; i < (opts.resets ?? 0); i++) cutLines.push(Math.floor(rnd() * Math.max(1, lineCount)));
  cutLines.sort((a, b) => a - b);
  let nextCut = 0;
  let cutPending = false;

  let storage = new Map<string, number>();
  let hal!: SimHal;
  let rt!: Runtime;
  let dev!: LinkSession;
  let deviceOn = false;
  const deviceLog: string[] = [];
  let resets = 0;
  let interruptedWraps = 0;
  const powerOn = () => {
    hal = new SimHal(mcu, 0);
    for (const [k, v] of storage) hal.storage.set(k, v);
    storage = hal.storage;
    rt = new Runtime(hal, machine);
    rt.setMachineHash(deviceHash);
    rt.boot();
    dev = new LinkSession(rt, hal, deviceHash, machine.axes.z ? 2 : 0, (bytes) => toHost.write(bytes, nowMs()));
    dev.boot();
    deviceOn = true;
  };
  const powerCut = () => {
    cutPending = false;
    resets++;
    // The winding under way is the next hook of the verifier's sequence; it is complete when the
    // device's stored progress (what it resumes from) already counts it. A fresh runtime's own
    // count cannot say: after a cut during the reboot it has wrapped nothing yet.
    if (verifier.windingHook >= 0 && dev.progress <= verifier.wraps.length) {
      verifier.abandonWinding();
      interruptedWraps++;
    }
    for (const l of hal.log) deviceLog.push(l);
    deviceLog.push(`${(mcu.now / 1e6).toFixed(6)} POWER CUT at stored progress ${dev.progress}`);
    mcu.cancelTimer(0);
    deviceOn = false;
    toDevice.clear(nowMs());
    // (The machine stops dead here, in the simulation; the next step comes after the power is back
    // — at least offSeconds later — so the acceleration check, judging speed from step intervals,
    // stays armed.)
    mcu.setTimer(SLOT_POWER, mcu.now + (opts.offSeconds ?? 1) * 1e6, powerOn);
  };

  let operatorPending = false;
  let pauses = 0;
  const hostPoll = () => {
    const now = nowMs();
    for (const f of host.poll(now)) toDevice.write(f, now);
    if (host.awaitingColour >= 0 && !operatorPending) {
      operatorPending = true;
      pauses++;
      mcu.setTimer(SLOT_OPERATOR, mcu.now + (opts.threadChangeSeconds ?? 30) * 1e6, () => {
        operatorPending = false;
        host.continueAfterColour();
        hostPoll();
      });
    }
  };
  const linkStep = () => {
    const now = nowMs();
    const inDev = toDevice.receive(now);
    if (deviceOn) {
      for (const b of inDev) dev.push(b);
      dev.tick();
    }
    const inHost = toHost.receive(now);
    if (inHost.length) host.receive(inHost, now);
    hostPoll();
  };

  powerOn();
  const limitUs = (opts.maxMachineSeconds ?? 7 * 24 * 3600) * 1e6;
  let lastReport = -Infinity;
  let error: string | null = null;
  let lastNow = -1;
  let sameTime = 0;
  for (;;) {
    if (host.phase === 'done') break;
    if (host.phase === 'failed') {
      error = host.linkFailure && faultsOn(faults) ? simulatedLinkFailure(host, faults, lineCount) : host.error;
      break;
    }
    if (deviceOn) {
      dev.tick();
      if (!cutPending && nextCut < cutLines.length && dev.progress >= cutLines[nextCut]) {
        nextCut++;
        cutPending = true;
        mcu.setTimer(SLOT_POWER, mcu.now + rnd() * 3e6, powerCut);
      }
    }
    const nextMs = Math.min(toDevice.nextArrival(), toHost.nextArrival(), host.nextDeadline(), deviceOn ? dev.nextStatusUs() / 1000 : Infinity);
    const next = nextMs * 1000;
    if (next < Infinity) {
      linkAtUs = Math.max(next, mcu.now);
      linkAtMs = nextMs;
      mcu.setTimer(SLOT_LINK, linkAtUs, linkStep);
    } else mcu.cancelTimer(SLOT_LINK);
    if (mcu.now === lastNow) {
      if (++sameTime > 1_000_000) throw new Error(`link sim stuck at ${mcu.now} µs: host ${host.phase}, next ${next}, device state ${rt.state} [toDev ${toDevice.nextArrival()} toHost ${toHost.nextArrival()} host ${host.nextDeadline()} status ${deviceOn ? dev.nextStatusUs() : -1}]`);
    } else {
      sameTime = 0;
      lastNow = mcu.now;
    }
    if (!mcu.runNext()) {
      error = 'the simulation stalled (nothing left to happen)';
      break;
    }
    if (mcu.now > limitUs) {
      error = `still running after ${limitUs / 1e6} s of machine time`;
      break;
    }
    if (opts.onProgress && mcu.now - lastReport >= 1e6) {
      lastReport = mcu.now;
      const s = host.status;
      opts.onProgress({ line: s ? s.line : 0, lineCount, color: s ? s.color : 0, machineSeconds: mcu.now / 1e6, resets });
    }
  }
  verifier.finish(mcu.now);
  for (const l of hal.log) deviceLog.push(l);
  const expected = decodeExpected(stream);
  const { hooks: planHooks, dirs: planDirs } = hooksAndDirections(machine, expected.hooks, expected.flanks);
  const mismatch = firstMismatch(planHooks, planDirs, verifier.wraps);
  const ok = error === null && mismatch === null && verifier.violations.length === 0;
  return {
    ok,
    error,
    planHooks,
    wrapped: verifier.wraps.map((w) => w.hook),
    wrappedDirs: verifier.wraps.map((w) => w.dir),
    firstMismatch: mismatch,
    violations: verifier.violations,
    violationCounts: { ...verifier.counts },
    machineSeconds: mcu.now / 1e6,
    faults: {
      resets,
      resetsNoticed: host.resets,
      interruptedWraps,
      corrupted: toDevice.counts.corrupted + toHost.counts.corrupted,
      dropped: toDevice.counts.dropped + toHost.counts.dropped,
      duplicated: toDevice.counts.duplicated + toHost.counts.duplicated,
      reordered: toDevice.counts.reordered + toHost.counts.reordered,
      retransmissions: host.sender.retransmissions,
      timeouts: host.sender.timeouts,
      handshakes: host.handshakes,
    },
    link: { bytesToDevice: toDevice.counts.bytes, bytesToHost: toHost.counts.bytes, framesSent: host.sender.framesSent, streamBytes: stream.length },
    startedAt: host.startedAt,
    pauses,
    events: host.events,
    deviceLog: deviceLog.slice(-200),
    wallSeconds: (performance.now() - wall0) / 1000,
  };
}
