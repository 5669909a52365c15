/**
 * The acceptance cases of `hookline hil` (docs/hil.md), run in this order against whatever device
 * is on the port. Each returns a one-line detail of what it saw or throws CaseFailure with the
 * reason. Well-formed frames come from the real frame encoder and LinkSender (or HostSession for
 * the short plan); malformed ones are written as raw bytes.
 */
import { MAX_PAYLOAD, encodeFrame } from '../../shared/link/frame';
import {
  CMD_ABORT, CMD_HOME, CMD_PAUSE, CMD_RESUME, CMD_START, CMD_STATUS, EVT_DONE, EVT_REFUSED, HELLO_REPLY_BYTES, NO_LINE, PROTOCOL_VERSION,
  REJECT_PROFILE, REJECT_VERSION, STATUS_BYTES, T_ACK, T_CMD, T_DATA, T_EVENT, T_HELLO, T_HELLO_REPLY, T_REJECT, T_STATUS, getUint,
  putUint,
} from '../../shared/link/protocol';
import { UserError } from '../errors';
import { HANDSHAKE_MS, HostSession, type DeviceStatus } from '../link/session';
import { hashText } from '../stream/machine-hash';
import { CaseFailure, type DeviceFrame, describeStatus, hex32, parseHelloReply, parseStatus, stateName } from './device-link';
import type { HilCase, HilContext } from './runner';

const ST_HOMING = 2;
const ST_IDLE = 3;
const ST_RUNNING = 4;
const ST_PAUSED = 5;
const ST_DONE = 6;
const ST_ALARM = 7;

/*
 * Every wait is for a protocol event (an ACK, a STATUS in some state, a number of STATUS frames);
 * the wall-clock limits only end a case against a device that never answers, so they are generous:
 * a busy host, a device that falls behind (a simulated one on a loaded machine) or a slow serial
 * line make a case slower, not failed. Speed is reported in the details, not judged.
 */

/** Homing a real machine from anywhere on its travel at seek speed: generous. */
export const HOMING_TIMEOUT_MS = 120_000;
/**
 * The wall limit for an answer to one frame (an ACK, a REJECT, a STATUS). A device answers in one
 * main-loop pass, milliseconds (the slowest is in the case's detail); a frame it never answers
 * fails the case after this.
 */
export const ACK_TIMEOUT_MS = 10_000;
/** A machine at rest (paused, aborted) is watched for progress this long… */
export const PAUSE_HOLD_MS = 1500;
/** …and over at least this many STATUS frames (a device's own clock: 1 s at its 4 per second). */
export const HOLD_STATUSES = 4;
/** Pause and abort decelerate within the planner's queue: a few seconds of motion. */
const STOP_TIMEOUT_MS = 30_000;
/** The plan is paused / aborted once it has completed this many lines. */
const STOP_AFTER_LINE = 2;
/** DATA chunk for the sequence case: small, so the 16-line plan spans several frames. */
const SMALL_CHUNK = 8;

/**
 * Time for the built-in plan at real speed: twice the estimate plus a minute (a ring: 10 min),
 * counted from the device's last progress (a STATUS with a new state, line or stored progress), so
 * a device that falls behind but keeps stringing is waited for.
 */
function planTimeoutMs(ctx: HilContext): number {
  const est = ctx.plan!.estimateS;
  return Number.isFinite(est) ? Math.round(est * 2000) + 60_000 : 600_000;
}

function statusFrames(ctx: HilContext, from: number): DeviceStatus[] {
  const out: DeviceStatus[] = [];
  for (let i = from; i < ctx.link.frames.length; i++) {
    const f = ctx.link.frames[i];
    if (f.type === T_STATUS && f.payload.length >= STATUS_BYTES) out.push(parseStatus(f.payload));
  }
  return out;
}

/**
 * Watch a machine at rest: until PAUSE_HOLD_MS have passed and HOLD_STATUSES STATUS frames have
 * arrived (a device or host that is slow for a while delivers them late, not never), at most
 * STOP_TIMEOUT_MS. Returns the STATUS frames seen meanwhile.
 */
async function watchAtRest(ctx: HilContext): Promise<DeviceStatus[]> {
  const from = ctx.link.mark();
  const t0 = ctx.link.now();
  await ctx.link.waitQuiet(STOP_TIMEOUT_MS, () => ctx.link.now() - t0 >= PAUSE_HOLD_MS && statusFrames(ctx, from).length >= HOLD_STATUSES);
  return statusFrames(ctx, from);
}

/** Round-trip times of the frames a case sent by hand (ms): the slowest goes into its detail. */
class AckTimes {
  max = 0;
  add(ms: number): void {
    this.max = Math.max(this.max, ms);
  }
  toString(): string {
    return `slowest answer ${Math.round(this.max)} ms`;
  }
}

function refusals(ctx: HilContext, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < ctx.link.frames.length; i++) {
    const f = ctx.link.frames[i];
    if (f.type === T_EVENT && f.payload[0] === EVT_REFUSED) out.push(`command ${f.payload[1]} refused in state ${stateName(f.payload[2])}`);
  }
  return out;
}

/**
 * Wait for a STATUS (arriving after frame index `from`) that satisfies `want`; a STATUS in a state
 * listed in `failOn` ends the wait at once with that reason. `whileProgress`: the limit counts from
 * the device's last progress (DeviceLink.progressAt).
 */
async function waitStatus(
  ctx: HilContext, what: string, timeoutMs: number, from: number, want: (s: DeviceStatus) => boolean,
  failOn: Record<number, string> = { [ST_ALARM]: 'the device raised an alarm' }, whileProgress = false,
): Promise<DeviceStatus> {
  let scanned = from;
  let bad: string | null = null;
  const s = await ctx.link.waitFor(what, timeoutMs, () => {
    for (; scanned < ctx.link.frames.length; scanned++) {
      const f = ctx.link.frames[scanned];
      if (f.type !== T_STATUS || f.payload.length < STATUS_BYTES) continue;
      const st = parseStatus(f.payload);
      if (want(st)) return st;
      if (failOn[st.state] !== undefined) {
        bad = `${failOn[st.state]} while waiting for ${what} (${describeStatus(st)})`;
        return st;
      }
    }
    return null;
  }, whileProgress);
  if (bad) throw new CaseFailure(bad);
  return s;
}

/** A fresh session: HELLO until HELLO_REPLY (reliable delivery restarts at sequence 0). */
async function openSession(ctx: HilContext): Promise<void> {
  const a = await ctx.link.hello(HANDSHAKE_MS);
  if (ctx.link.closedWhy) throw new CaseFailure(`the link closed: ${ctx.link.closedWhy}`);
  if (!a) throw new CaseFailure(`no reply to HELLO in ${HANDSHAKE_MS / 1000} s`);
  if (a.type !== T_HELLO_REPLY) throw new CaseFailure(`the device answered HELLO with ${a.type === T_REJECT ? `REJECT reason ${a.payload[0]}` : `frame type ${a.type}`}`);
}

/** Leave whatever job a failed case left behind: resume a pause (so abort can stop it), abort. */
async function stopAnyJob(ctx: HilContext): Promise<void> {
  const from = ctx.link.mark();
  ctx.link.cmd(CMD_STATUS);
  const s = await waitStatus(ctx, 'a STATUS', ACK_TIMEOUT_MS, from, () => true, {});
  if (s.state !== ST_RUNNING && s.state !== ST_PAUSED) return;
  const m = ctx.link.mark();
  if (s.state === ST_PAUSED) ctx.link.cmd(CMD_RESUME);
  ctx.link.cmd(CMD_ABORT);
  await waitStatus(ctx, 'the previous job to stop', STOP_TIMEOUT_MS, m, (st) => st.state !== ST_RUNNING && st.state !== ST_PAUSED, {});
}

/** HOME and wait for homing → idle; returns the idle STATUS. */
async function home(ctx: HilContext): Promise<{ status: DeviceStatus; sawHoming: boolean; ms: number }> {
  const from = ctx.link.mark();
  const t0 = ctx.link.now();
  ctx.link.cmd(CMD_HOME);
  let sawHoming = false;
  const status = await waitStatus(ctx, 'homing to finish (state idle)', HOMING_TIMEOUT_MS, from, (s) => {
    if (s.state === ST_HOMING) sawHoming = true;
    return sawHoming && s.state === ST_IDLE;
  });
  const r = refusals(ctx, from);
  if (r.length) throw new CaseFailure(`HOME: ${r.join('; ')}`);
  return { status, sawHoming, ms: ctx.link.now() - t0 };
}

/** Open a session, stop any leftover job, home. */
async function ready(ctx: HilContext): Promise<void> {
  await openSession(ctx);
  await stopAnyJob(ctx);
  await home(ctx);
}

/** Wait until the plan (its first HilPlan.headBytes sent) runs with at least `line` lines done. */
async function runningPastLine(ctx: HilContext, from: number, line: number): Promise<DeviceStatus> {
  return waitStatus(ctx, `the plan to run past line ${line}`, planTimeoutMs(ctx), from, (s) => s.state === ST_RUNNING && s.line >= line, {
    [ST_ALARM]: 'the device raised an alarm',
    [ST_DONE]: `the device reported done before line ${line} was seen running (it has not been sent the end of the stream yet)`,
  }, true);
}

function checkFinished(ctx: HilContext, s: DeviceStatus, problems: string[]): void {
  const plan = ctx.plan!;
  if (s.state !== ST_DONE) problems.push(`state ${stateName(s.state)}, expected done`);
  if (s.lineCount !== plan.lines) problems.push(`the device reports ${s.lineCount} lines, the plan has ${plan.lines}`);
  if (s.line !== plan.lines) problems.push(`the device reports line ${s.line}, expected ${plan.lines}`);
  if (s.hooksDone !== plan.hooks.length) problems.push(`stored progress ${s.hooksDone} hooks, expected ${plan.hooks.length}`);
}

function fail(problems: string[]): void {
  if (problems.length) throw new CaseFailure(problems.join('; '));
}

// ---- the cases ---------------------------------------------------------------------------------

const handshake: HilCase = {
  name: 'handshake',
  checks: 'HELLO is answered by a HELLO_REPLY: protocol version, firmware version, machine hash = --machine, capabilities, window, receive buffer, state, resume point',
  needsHandshake: false,
  needsMachine: false,
  async run(ctx) {
    const a = await ctx.link.hello(HANDSHAKE_MS);
    if (!a) {
      throw new UserError(`hil: the port ${ctx.port} does not answer: no reply to HELLO in ${HANDSHAKE_MS / 1000} s; check --port, --baud and that the device runs hookline firmware`);
    }
    if (a.type === T_REJECT) {
      throw new CaseFailure(a.payload[0] === REJECT_VERSION
        ? `the device rejected HELLO: it speaks link protocol version ${a.payload[1]}, this host ${PROTOCOL_VERSION}`
        : `the device rejected HELLO (reason ${a.payload[0]})`);
    }
    if (a.payload.length < HELLO_REPLY_BYTES) throw new CaseFailure(`HELLO_REPLY has ${a.payload.length} payload bytes, expected ${HELLO_REPLY_BYTES}`);
    const d = parseHelloReply(a.payload);
    ctx.device = d;
    const problems: string[] = [];
    const fatal: string[] = [];
    if (d.protocolVersion !== PROTOCOL_VERSION) fatal.push(`protocol version ${d.protocolVersion}, expected ${PROTOCOL_VERSION}`);
    if (ctx.machine && d.machineHash !== ctx.plan!.machineHash) {
      fatal.push(`machine hash mismatch: the device runs ${hex32(d.machineHash)}, ${ctx.machinePath} is ${hashText(ctx.plan!.machineHash)}`);
    }
    if (ctx.machine) {
      const want = (ctx.machine.kind === 'gantry' && ctx.machine.axes.z ? 2 : 0) | (ctx.machine.kind === 'ring' ? 4 : 0);
      if ((d.capabilities & 6) !== want) problems.push(`capabilities 0x${d.capabilities.toString(16)}: Z-axis/ring bits ${d.capabilities & 6}, ${ctx.machinePath} implies ${want}`);
    }
    if (d.window < 1 || d.window > 127) problems.push(`window ${d.window}, must be 1–127`);
    if (d.rxBuffer < MAX_PAYLOAD) problems.push(`receive buffer ${d.rxBuffer} bytes, smaller than one frame (${MAX_PAYLOAD})`);
    if (d.state > ST_ALARM) problems.push(`unknown state ${d.state}`);
    if (d.resumeLine === NO_LINE && d.streamCrc !== 0) problems.push(`stream identity 0x${d.streamCrc.toString(16)} without a resume point`);
    ctx.handshakeOk = fatal.length === 0;
    fail([...fatal, ...problems]);
    const resume = d.resumeLine === NO_LINE ? 'none' : `hook ${d.resumeLine} of stream 0x${d.streamCrc.toString(16).padStart(4, '0')}`;
    return `protocol ${d.protocolVersion}, firmware ${d.firmware}, machine ${hex32(d.machineHash)}${ctx.machine ? ' (matches)' : ' (not checked: no --machine)'}, capabilities 0x${d.capabilities.toString(16).padStart(2, '0')}, window ${d.window}, rx buffer ${d.rxBuffer}, state ${stateName(d.state)}, resume point ${resume}`;
  },
};

const homing: HilCase = {
  name: 'homing',
  checks: 'HOME: STATUS goes homing → idle without an alarm; the idle STATUS reports the session flag, no hook, line and pile',
  needsHandshake: true,
  needsMachine: false,
  async run(ctx) {
    await openSession(ctx);
    await stopAnyJob(ctx);
    const h = await home(ctx);
    const s = h.status;
    const problems: string[] = [];
    if (s.error !== 0) problems.push(`error ${s.error} after homing`);
    if (!s.session) problems.push('STATUS lacks the session flag after HELLO');
    fail(problems);
    return `homing → idle in ${(h.ms / 1000).toFixed(2)} s; reported: hook ${s.hook === 0xffff ? 'none' : s.hook}, line ${s.line}, pile ${s.pileMm} mm (STATUS carries no axis coordinates in protocol 1)`;
  },
};

const malformed: HilCase = {
  name: 'malformed-frames',
  checks: 'bad CRC, truncated, noise, oversize frames are dropped with an ACK that does not advance; HELLO of another protocol version → REJECT 1, HELLO naming another machine hash → REJECT 2; the session continues at the same sequence number',
  needsHandshake: true,
  needsMachine: false,
  async run(ctx) {
    const link = ctx.link;
    await openSession(ctx);
    link.dropSender(); // sequence numbers by hand from here (the session restarted at 0)
    const stateBefore = link.status?.state;
    let seq = 0;
    const problems: string[] = [];
    const seen: string[] = [];
    const times = new AckTimes();
    const nextAck = async (from: number): Promise<DeviceFrame | null> => {
      const t0 = link.now();
      const a = await link.waitQuiet(ACK_TIMEOUT_MS, () => link.find(from, (f) => f.type === T_ACK));
      if (a) times.add(a.at - t0);
      return a;
    };
    const frame = (type: number, s: number, payload: number[]) => {
      const b: number[] = [];
      encodeFrame(type, s, 0, payload, b);
      return b;
    };
    /** Write bytes, expect the next ACK to ask for `want`. */
    const probe = async (label: string, bytes: number[], want: number): Promise<boolean> => {
      const m = link.mark();
      link.writeRaw(bytes);
      const a = await nextAck(m);
      if (!a) problems.push(`${label}: no ACK within ${ACK_TIMEOUT_MS / 1000} s`);
      else if (a.ack !== want) {
        problems.push(`${label}: the ACK asks for sequence ${a.ack}, expected ${want}`);
        seq = a.ack; // carry on from where the device is
      } else {
        seen.push(label);
        return true;
      }
      return false;
    };
    const valid = async (label: string) => {
      if (await probe(label, frame(T_CMD, seq, [CMD_STATUS]), (seq + 1) % 256)) seq = (seq + 1) % 256;
    };
    const rejectProbe = async (label: string, payload: number[], reason: number, detail: (p: number[]) => string | null) => {
      const m = link.mark();
      const t0 = link.now();
      link.writeRaw(frame(T_HELLO, 0, payload));
      const a = await link.waitQuiet(ACK_TIMEOUT_MS, () => link.find(m, (f) => f.type === T_REJECT || f.type === T_HELLO_REPLY));
      if (a) times.add(a.at - t0);
      if (!a) problems.push(`${label}: no answer within ${ACK_TIMEOUT_MS / 1000} s, expected REJECT ${reason}`);
      else if (a.type === T_HELLO_REPLY) {
        problems.push(`${label}: accepted with a HELLO_REPLY, expected REJECT ${reason}`);
        seq = 0; // the device restarted the session
      } else if (a.payload[0] !== reason) problems.push(`${label}: REJECT reason ${a.payload[0]}, expected ${reason}`);
      else {
        const bad = detail(a.payload);
        if (bad) problems.push(`${label}: ${bad}`);
        else seen.push(label);
      }
    };

    await valid('valid CMD STATUS');
    const good = frame(T_CMD, seq, [CMD_STATUS]);
    const badCrc = good.slice();
    const at = badCrc.length - 2; // the last CRC byte (COBS keeps non-zero bytes as they are)
    badCrc[at] = badCrc[at] ^ 0x01 || 0x02;
    await probe('bad CRC', badCrc, seq);
    await probe('truncated', [...good.slice(0, good.length - 3), 0], seq);
    await probe('noise', [0x5a, 0x13, 0xc7, 0x99, 0x04, 0x61, 0xee, 0x2d, 0], seq);
    await probe('oversize', [...new Array(90).fill(0x77), 0], seq);
    await valid('valid CMD STATUS after the broken frames');
    await rejectProbe(`HELLO protocol version ${PROTOCOL_VERSION + 1}`, [PROTOCOL_VERSION + 1], REJECT_VERSION, (p) =>
      p[1] === PROTOCOL_VERSION ? null : `REJECT names version ${p[1]}, the device's HELLO_REPLY said ${PROTOCOL_VERSION}`);
    await valid('valid CMD STATUS after the version REJECT');
    const deviceHash = ctx.device!.machineHash;
    const wrongHash = (deviceHash ^ 0x5a5a5a5) >>> 0 || 1;
    const hashPayload = [PROTOCOL_VERSION];
    putUint(hashPayload, wrongHash, 4);
    await rejectProbe(`HELLO for machine ${hex32(wrongHash)}`, hashPayload, REJECT_PROFILE, (p) =>
      p.length >= 5 && getUint(p, 1, 4) === deviceHash ? null : `REJECT does not name the device's machine hash ${hex32(deviceHash)}`);
    await valid('valid CMD STATUS after the profile REJECT');
    const after = await waitStatus(ctx, 'a STATUS after the probes', ACK_TIMEOUT_MS, link.mark(), () => true, {});
    if (after.state !== stateBefore) problems.push(`state changed from ${stateName(stateBefore ?? -1)} to ${stateName(after.state)}`);
    fail(problems);
    return `${seen.length} probes as expected (${seen.join(', ')}); sequence continued at ${seq}, state ${stateName(after.state)}; ${times}`;
  },
};

const shortPlan: HilCase = {
  name: 'short-plan',
  checks: 'the built-in plan (16 lines on the machine\'s hooks) through HostSession: handshake, HOME, START 0, DATA; the device reports done, line = line count = the plan\'s, all hooks stored, EVENT done',
  needsHandshake: true,
  needsMachine: true,
  async run(ctx) {
    const plan = ctx.plan!;
    await openSession(ctx);
    await stopAnyJob(ctx);
    const from = ctx.link.mark();
    const t0 = ctx.link.now();
    const s = new HostSession(plan.stream, { byteMs: ctx.byteMs }, ctx.link.now());
    ctx.link.attachSession(s);
    try {
      await ctx.link.waitFor('the plan to finish (HostSession done)', planTimeoutMs(ctx) + HOMING_TIMEOUT_MS, () => s.phase === 'done' || s.phase === 'failed', true);
    } finally {
      ctx.link.attachSession(null);
    }
    if (s.phase === 'failed') throw new CaseFailure(`the host session failed: ${s.error}`);
    const problems: string[] = [];
    checkFinished(ctx, s.status!, problems);
    if (!ctx.link.find(from, (f) => f.type === T_EVENT && f.payload[0] === EVT_DONE)) problems.push('no EVENT done');
    fail(problems);
    return `${plan.lines} lines (${plan.stream.length} stream bytes) done in ${((ctx.link.now() - t0) / 1000).toFixed(2)} s including homing; device: line ${s.status!.line}/${s.status!.lineCount}, ${s.status!.hooksDone} hooks stored; ${s.sender.retransmissions} retransmissions`;
  },
};

const pauseResume: HilCase = {
  name: 'pause-resume',
  checks: `PAUSE after line ${STOP_AFTER_LINE} (the rest of the stream sent just before it): STATUS paused with a new pause id; no progress for ${PAUSE_HOLD_MS / 1000} s and ${HOLD_STATUSES} STATUS frames; RESUME runs on to done with every line`,
  needsHandshake: true,
  needsMachine: true,
  async run(ctx) {
    const link = ctx.link;
    const plan = ctx.plan!;
    await ready(ctx);
    const from = link.mark();
    link.startAndStream(plan.stream, 0, 60, plan.headBytes);
    const running = await runningPastLine(ctx, from, STOP_AFTER_LINE);
    const m = link.mark();
    link.streamFrom(plan.stream, plan.headBytes);
    link.cmd(CMD_PAUSE);
    const paused = await waitStatus(ctx, 'state paused', STOP_TIMEOUT_MS, m, (s) => s.state === ST_PAUSED && s.pauseId !== running.pauseId, {
      [ST_ALARM]: 'the device raised an alarm',
      [ST_DONE]: 'the plan finished before PAUSE took effect',
    });
    const r = refusals(ctx, m);
    if (r.length) throw new CaseFailure(`PAUSE: ${r.join('; ')}`);
    const during = await watchAtRest(ctx);
    const problems: string[] = [];
    if (during.length < HOLD_STATUSES) problems.push(`${during.length} STATUS frames in ${STOP_TIMEOUT_MS / 1000} s while paused, expected at least ${HOLD_STATUSES}`);
    for (const s of during) {
      if (s.state !== ST_PAUSED || s.line !== paused.line || s.hooksDone !== paused.hooksDone) {
        problems.push(`progress while paused: ${describeStatus(s)} after pausing at ${describeStatus(paused)}`);
        break;
      }
    }
    fail(problems);
    const m2 = link.mark();
    link.cmd(CMD_RESUME);
    const done = await waitStatus(ctx, 'the plan to finish after RESUME', planTimeoutMs(ctx), m2, (s) => s.state === ST_DONE, undefined, true);
    checkFinished(ctx, done, problems);
    fail(problems);
    return `paused at line ${paused.line}/${paused.lineCount} (PAUSE sent at line ${running.line}); ${during.length} STATUS frames over at least ${PAUSE_HOLD_MS / 1000} s without progress; resumed to done at line ${done.line}`;
  },
};

const abort: HilCase = {
  name: 'abort',
  checks: `ABORT while running and while paused (the rest of the stream sent just before it): the machine stops and goes idle (homed, job dropped, docs/runtime.md) without an alarm, the plan unfinished, and stays put for ${PAUSE_HOLD_MS / 1000} s and ${HOLD_STATUSES} STATUS frames`,
  needsHandshake: true,
  needsMachine: true,
  async run(ctx) {
    const link = ctx.link;
    const total = ctx.plan!.hooks.length;
    const notes: string[] = [];
    for (const whilePaused of [false, true]) {
      const label = whilePaused ? 'abort while paused' : 'abort while running';
      await ready(ctx);
      const from = link.mark();
      link.startAndStream(ctx.plan!.stream, 0, 60, ctx.plan!.headBytes);
      const running = await runningPastLine(ctx, from, STOP_AFTER_LINE);
      if (whilePaused) {
        const m = link.mark();
        link.cmd(CMD_PAUSE);
        await waitStatus(ctx, 'state paused', STOP_TIMEOUT_MS, m, (s) => s.state === ST_PAUSED && s.pauseId !== running.pauseId, {
          [ST_ALARM]: 'the device raised an alarm', [ST_DONE]: 'the plan finished before PAUSE took effect',
        });
      }
      const m = link.mark();
      link.streamFrom(ctx.plan!.stream, ctx.plan!.headBytes);
      link.cmd(CMD_ABORT);
      let last: DeviceStatus | null = null;
      const idle = await ctx.link.waitQuiet(STOP_TIMEOUT_MS, () => {
        const all = statusFrames(ctx, m);
        if (all.length) last = all[all.length - 1];
        return all.find((s) => s.state === ST_IDLE || s.state === ST_DONE || s.state === ST_ALARM) ?? null;
      });
      const r = refusals(ctx, m);
      if (r.length) throw new CaseFailure(`${label}: ABORT ${r.join('; ')}`);
      if (!idle) throw new CaseFailure(`${label}: still ${last ? describeStatus(last) : 'silent'} ${STOP_TIMEOUT_MS / 1000} s after ABORT; expected idle`);
      if (idle.state !== ST_IDLE) throw new CaseFailure(`${label}: ${describeStatus(idle)} after ABORT, expected idle`);
      if (idle.hooksDone >= total) throw new CaseFailure(`${label}: the plan completed (${idle.hooksDone} hooks) despite ABORT`);
      const during = await watchAtRest(ctx);
      if (during.length < HOLD_STATUSES) throw new CaseFailure(`${label}: ${during.length} STATUS frames in ${STOP_TIMEOUT_MS / 1000} s after ABORT, expected at least ${HOLD_STATUSES}`);
      for (const s of during) {
        if (s.state !== ST_IDLE || s.hooksDone !== idle.hooksDone) throw new CaseFailure(`${label}: after ABORT the device went on: ${describeStatus(s)}`);
      }
      notes.push(`${label}: idle after hook ${idle.hooksDone} of ${total}`);
    }
    return notes.join('; ');
  },
};

const sequence: HilCase = {
  name: 'sequence-order',
  checks: `the plan sent by hand in ${SMALL_CHUNK}-byte DATA frames with out-of-order, duplicate, stale and overlapping frames: each ACK asks for the right number, and the device finishes with every line (no byte taken twice, no gap: the stream's CRC and end marker check)`,
  needsHandshake: true,
  needsMachine: true,
  async run(ctx) {
    const link = ctx.link;
    const stream = ctx.plan!.stream;
    await ready(ctx);
    await openSession(ctx); // sequence numbers restart at 0; the device stays idle
    link.dropSender();
    const problems: string[] = [];
    const counts = { outOfOrder: 0, duplicate: 0, stale: 0, overlap: 0, frames: 0 };
    let seq = 0;
    const times = new AckTimes();
    const data = (off: number, end: number) => {
      const p: number[] = [];
      putUint(p, off, 4);
      for (let i = off; i < Math.min(end, stream.length); i++) p.push(stream[i]);
      return p;
    };
    const send = async (label: string, type: number, s: number, payload: number[], want: number) => {
      const m = link.mark();
      const t0 = link.now();
      link.writeFrame(type, s, payload);
      counts.frames++;
      const a = await link.waitQuiet(ACK_TIMEOUT_MS, () => link.find(m, (f) => f.type === T_ACK));
      if (!a) throw new CaseFailure(`${label}: no ACK within ${ACK_TIMEOUT_MS / 1000} s`);
      times.add(a.at - t0);
      if (a.ack !== want) throw new CaseFailure(`${label}: the ACK asks for sequence ${a.ack}, expected ${want}`);
    };
    const start = [CMD_START];
    putUint(start, 0, 4);
    await send('START', T_CMD, seq, start, 1);
    seq = 1;
    const chunks = Math.ceil(stream.length / SMALL_CHUNK);
    for (let i = 0; i < chunks; i++) {
      const off = i * SMALL_CHUNK;
      if (i + 1 < chunks && i % 2 === 0) {
        await send(`chunk ${i + 1} before chunk ${i}`, T_DATA, (seq + 1) % 256, data(off + SMALL_CHUNK, off + 2 * SMALL_CHUNK), seq);
        counts.outOfOrder++;
      }
      if (i % 4 === 3) {
        // An overlapping re-send under a new sequence number: the device skips the bytes it has.
        await send(`chunk ${i} overlapping chunk ${i - 1}`, T_DATA, seq, data(off - SMALL_CHUNK / 2, off + SMALL_CHUNK), (seq + 1) % 256);
        counts.overlap++;
      } else await send(`chunk ${i}`, T_DATA, seq, data(off, off + SMALL_CHUNK), (seq + 1) % 256);
      seq = (seq + 1) % 256;
      if (i % 3 === 1) {
        await send(`chunk ${i} again`, T_DATA, (seq + 255) % 256, data(off, off + SMALL_CHUNK), seq);
        counts.duplicate++;
      }
      if (i % 4 === 2) {
        await send(`chunk ${i - 1} again (stale)`, T_DATA, (seq + 254) % 256, data(off - SMALL_CHUNK, off), seq);
        counts.stale++;
      }
    }
    const done = await waitStatus(ctx, 'the plan to finish', planTimeoutMs(ctx), link.mark(), (s) => s.state === ST_DONE, undefined, true);
    checkFinished(ctx, done, problems);
    fail(problems);
    return `${counts.frames} frames for ${chunks} chunks: ${counts.outOfOrder} out of order, ${counts.duplicate} duplicates, ${counts.stale} stale, ${counts.overlap} overlapping, all answered right (${times}); done at line ${done.line}/${done.lineCount}, ${done.hooksDone} hooks`;
  },
};

export const HIL_CASES: HilCase[] = [handshake, homing, malformed, shortPlan, pauseResume, abort, sequence];
