/**
 * The host end of a link session (docs/protocol.md sections 4–7), without I/O like LinkSender:
 * hand it the bytes that arrive (`receive`) and call `poll(now)` when time passes; it returns the
 * frames to write. It handshakes (HELLO every 250 ms, 10 s in all), refuses a device of another
 * protocol version or machine profile, homes, starts (from the device's resume point after a
 * reset), streams the file as DATA frames with offsets, follows STATUS, and answers colour-change
 * pauses through `continueAfterColour` (the caller prompts the operator or waits).
 *
 * A device reset shows as an unsolicited HELLO_REPLY (its boot announcement), a STATUS without the
 * session flag, or silence: the host handshakes again and resumes at the reported resumeLine.
 */
import { FR_BAD, FR_OK, FrameDecoder, MAX_PAYLOAD, encodeFrame } from '../../shared/link/frame';
import {
  CMD_ABORT, CMD_HOME, CMD_PAUSE, CMD_RESUME, CMD_START, EVT_ALARM, EVT_REFUSED, NO_LINE, PROTOCOL_VERSION,
  REJECT_PROFILE, REJECT_VERSION, T_ACK, T_CMD, T_DATA, T_EVENT, T_HELLO, T_HELLO_REPLY, T_REJECT,
  T_STATUS, STATUS_BYTES, getUint, putUint,
} from '../../shared/link/protocol';
import { EV_HEADER, DecoderField, StreamDecoder } from '../../shared/stream/decoder';
import { streamIdOf } from '../../device/link-session';
import { LinkSender } from './sender';
import { parseHelloReply, parseStatus } from './status';

export const HELLO_EVERY_MS = 250;
export const HANDSHAKE_MS = 10_000;
/** While damaged frames arrive (the device answers, but no reply gets through intact), HELLO goes
 * out this often and the handshake gives up only after NOISY_HANDSHAKE_MS. */
export const NOISY_HELLO_EVERY_MS = 50;
export const NOISY_HANDSHAKE_MS = 60_000;
/** No frame at all from a running device for this long: handshake again. */
export const SILENCE_MS = 2_000;
export const DATA_BYTES = MAX_PAYLOAD - 4;
/** Smallest stream chunk per DATA frame when the line is noisy (a frame of 1 stream byte is 14 bytes on the wire). */
export const MIN_DATA_BYTES = 1;
/** DATA frames prepared ahead of the sender (so a new frame size applies within a window). */
const DATA_AHEAD = 2;
/** Deliveries in a row without a resend before the DATA frame size doubles again. */
const GROW_AFTER = 8;

export interface DeviceInfo {
  protocolVersion: number;
  firmware: string;
  machineHash: number;
  capabilities: number;
  window: number;
  rxBuffer: number;
  state: number;
  resumeLine: number;
  streamCrc: number;
}

export interface DeviceStatus {
  state: number;
  error: number;
  line: number;
  lineCount: number;
  hook: number;
  color: number;
  pileMm: number;
  session: boolean;
  pauseId: number;
  hooksDone: number;
}

export interface HostSessionOptions {
  /** Time one byte takes on the line, ms. */
  byteMs: number;
  /** Resume at the device's stored progress if it belongs to this stream (else start at line 0). */
  resume?: boolean;
}

export type Phase = 'handshake' | 'running' | 'done' | 'failed';

/** Why a session failed on the link itself (not a refusal or an alarm): for a caller that knows the line better. */
export type LinkFailure = 'silent' | 'noisy' | 'lost';

/** Header facts of a stream the host needs: its machine hash, line count and identity. */
export function streamFacts(stream: Uint8Array): { machineHash: number; hookTotal: number; id: number } {
  const d = new StreamDecoder();
  for (let i = 0; i < stream.length; i++) {
    const ev = d.push(stream[i]);
    if (ev === EV_HEADER) return { machineHash: d.get(DecoderField.MACHINE_HASH), hookTotal: d.lineCount() + 1, id: streamIdOf(stream) };
    if (ev < 0) break;
  }
  throw new Error('not a hookline stream (no valid header)');
}

/** Where a DATA payload's bytes end in the stream. */
export function dataEnd(payload: number[]): number {
  return getUint(payload, 0, 4) + payload.length - 4;
}

/**
 * New payloads for DATA frames in flight (contiguous, oldest first), at most `dataBytes` stream
 * bytes each and each no longer than the frame it replaces, from the first one's offset. The
 * second bound is what makes re-cutting safe: the device may already hold the old frame of any
 * number (its ACK lost), so the new frames up to each number must reach no further than the old
 * ones did, or the ACK for a new frame would cover bytes the device never took.
 */
export function recutData(stream: Uint8Array, old: number[][], dataBytes: number): number[][] {
  const fresh: number[][] = [];
  let off = old.length ? getUint(old[0], 0, 4) : 0;
  for (let i = 0; i < old.length; i++) {
    const end = Math.min(stream.length, off + Math.min(dataBytes, old[i].length - 4));
    const p: number[] = [];
    putUint(p, off, 4);
    for (let j = off; j < end; j++) p.push(stream[j]);
    fresh.push(p);
    off = end;
  }
  return fresh;
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

export class HostSession {
  phase: Phase = 'handshake';
  error: string | null = null;
  device: DeviceInfo | null = null;
  status: DeviceStatus | null = null;
  /** A colour-change pause waits for continueAfterColour(); the colour index. */
  awaitingColour = -1;
  /** Device resets noticed, handshakes done, the lines each start began at. */
  resets = 0;
  handshakes = 0;
  readonly startedAt: number[] = [];
  readonly events: string[] = [];
  readonly sender: LinkSender;
  /** Frames from the device that arrived damaged (CRC, length or COBS wrong). */
  damagedFrames = 0;
  /** Set when the session failed on the link: the port never answered, answered only with damaged frames, or went away. */
  linkFailure: LinkFailure | null = null;
  /** Stream bytes per DATA frame now: halved on every resend round, doubled after GROW_AFTER clean deliveries. */
  dataBytes = DATA_BYTES;
  private dataOffset = 0;
  private dataOn = false;
  private seenResends = 0;
  private seenDelivered = 0;
  private cleanRun = 0;
  private deliveredAtResend = -1;
  private damagedInHandshake = 0;
  private frames = new FrameDecoder();
  private facts: { machineHash: number; hookTotal: number; id: number };
  private handshakeFrom = 0;
  private nextHello = 0;
  private lastHeard = 0;
  private everStarted = false;
  private homeDelivered = false;
  /** pause() was called: the next PAUSED is the operator's, not a colour change. */
  private pauseRequested = false;
  private handledPause = 0;
  private acceptedAt = -Infinity;

  constructor(private stream: Uint8Array, private opts: HostSessionOptions, now = 0) {
    this.facts = streamFacts(stream);
    this.sender = new LinkSender({ window: 8, timeoutMs: 60, maxTimeoutMs: 500, initialCredit: 0, byteMs: opts.byteMs });
    this.startHandshake(now);
  }

  get lineCount(): number {
    return this.facts.hookTotal - 1;
  }

  /** Bytes from the device. */
  receive(bytes: ArrayLike<number>, now: number): void {
    for (let i = 0; i < bytes.length; i++) {
      const r = this.frames.push(bytes[i]);
      if (r === FR_OK) this.frame(now);
      else if (r === FR_BAD) {
        // A damaged frame is still a sign of life: the device is there and talking.
        this.damagedFrames++;
        if (this.phase === 'handshake') this.damagedInHandshake++;
        else this.lastHeard = now;
      }
    }
  }

  /** Frames to write now. */
  poll(now: number): Uint8Array[] {
    if (this.phase === 'done' || this.phase === 'failed') return [];
    if (this.phase === 'handshake') {
      const noisy = this.damagedInHandshake > 0;
      const limit = noisy ? NOISY_HANDSHAKE_MS : HANDSHAKE_MS;
      if (now >= this.handshakeFrom + limit) { // (the same sum as nextDeadline(): now − from can round below it)
        this.linkFailure = noisy ? 'noisy' : this.everStarted ? 'lost' : 'silent';
        this.fail(
          noisy
            ? `the device answers but none of its frames arrived intact in ${limit / 1000} s (${this.damagedInHandshake} damaged)${this.everStarted ? ' after the link went quiet' : ''}; check that --baud matches the firmware and the cable, then run again${this.everStarted ? ' with --resume' : ''}`
            : this.everStarted
              ? `the device stopped answering (no reply to HELLO for ${limit / 1000} s after it went silent); check the cable and power, then run again with --resume`
              : `the port does not answer: no reply to HELLO in ${limit / 1000} s; check --port, --baud and that the device runs hookline firmware`,
        );
        return [];
      }
      if (now >= this.nextHello) {
        this.nextHello = now + (noisy ? NOISY_HELLO_EVERY_MS : HELLO_EVERY_MS);
        const b: number[] = [];
        encodeFrame(T_HELLO, 0, 0, [PROTOCOL_VERSION], b);
        return [Uint8Array.from(b)];
      }
      return [];
    }
    if (now >= this.lastHeard + SILENCE_MS) {
      this.events.push(`${(now / 1000).toFixed(3)} silence: handshake again`);
      this.startHandshake(now);
      return this.poll(now);
    }
    this.feedData();
    return this.sender.poll(now);
  }

  /**
   * Queue the next DATA frames, a few ahead of the sender, sized for the line: every resend round
   * (a frame lost or damaged) halves the chunk, GROW_AFTER deliveries in a row without one double
   * it. A 64-byte frame survives 10 % corrupted bytes 0.1 % of the time, a 1-byte one 23 %; the
   * machine consumes a few bytes a second, so small frames cost nothing it would notice.
   */
  private feedData(): void {
    if (!this.dataOn) return;
    const tx = this.sender;
    if (tx.resends > this.seenResends) {
      this.seenResends = tx.resends;
      this.cleanRun = 0;
      // A resend round right after a delivery may be spurious (a repeated ACK answering a damaged
      // duplicate): shrink only on a second round without any delivery in between.
      const stuck = tx.delivered === this.deliveredAtResend;
      this.deliveredAtResend = tx.delivered;
      if (!stuck) {
        this.seenDelivered = tx.delivered;
        return this.queueData();
      }
      this.dataBytes = Math.max(MIN_DATA_BYTES, this.dataBytes >> 1);
      // Cut up the frames not yet through as well: a big frame that keeps failing would otherwise
      // be resent as it is for ever. Only DATA may be re-cut (by offset; the device skips bytes it
      // has): while a command is pending, the frames stay as they are until the next resend round.
      if (tx.pendingTypes().every((t) => t === T_DATA) && tx.pendingPayloadMax() > this.dataBytes + 4) {
        // The frames in flight keep their sequence numbers and get consecutive chunks from the first
        // one's offset, each no longer than the one it replaces: then whatever the device took under
        // a number (old frame or new) reaches at least as far as the new frames up to it, so an ACK
        // for a new frame never covers bytes the device does not have. The queue is refilled after.
        const old = tx.inFlightPayloads();
        const queued = tx.queuedPayloads();
        const fresh = recutData(this.stream, old, this.dataBytes);
        const off = fresh.length ? dataEnd(fresh[fresh.length - 1]) : queued.length ? getUint(queued[0], 0, 4) : this.dataOffset;
        tx.replaceInFlight(fresh);
        this.dataOffset = off;
      }
    } else if (tx.delivered > this.seenDelivered) {
      this.cleanRun += tx.delivered - this.seenDelivered;
      if (this.cleanRun >= GROW_AFTER) {
        this.cleanRun = 0;
        this.dataBytes = Math.min(DATA_BYTES, this.dataBytes * 2);
      }
    }
    this.seenDelivered = tx.delivered;
    this.queueData();
  }

  private queueData(): void {
    const tx = this.sender;
    while (tx.queued < DATA_AHEAD && this.dataOffset < this.stream.length) {
      const off = this.dataOffset;
      const end = Math.min(this.stream.length, off + this.dataBytes);
      tx.send(T_DATA, this.dataPayload(off, end));
      this.dataOffset = end;
    }
  }

  /** A DATA payload: offset u32 and the stream bytes [off, end). */
  private dataPayload(off: number, end: number): number[] {
    const payload: number[] = [];
    putUint(payload, off, 4);
    for (let i = off; i < end; i++) payload.push(this.stream[i]);
    return payload;
  }

  /** When poll must be called next even if nothing arrives (ms). */
  nextDeadline(): number {
    if (this.phase === 'handshake') return Math.min(this.nextHello, this.handshakeFrom + (this.damagedInHandshake > 0 ? NOISY_HANDSHAKE_MS : HANDSHAKE_MS));
    if (this.phase !== 'running') return Infinity;
    return Math.min(this.sender.nextDeadline(), this.lastHeard + SILENCE_MS);
  }

  /** The operator changed the thread (or the simulated delay passed): continue. */
  continueAfterColour(): void {
    if (this.awaitingColour < 0) return;
    this.awaitingColour = -1;
    this.sender.send(T_CMD, [CMD_RESUME]);
  }

  /** Ask the machine to stop at the next safe point (Ctrl-C), or to abort the job. */
  pause(): void {
    this.pauseRequested = true;
    this.awaitingColour = -1;
    this.sender.send(T_CMD, [CMD_PAUSE]);
  }

  /** Continue after pause() once the machine reported PAUSED (the studio's Resume button). */
  resume(): void {
    this.pauseRequested = false;
    this.sender.send(T_CMD, [CMD_RESUME]);
  }

  abort(): void {
    this.sender.send(T_CMD, [CMD_ABORT]);
  }

  private startHandshake(now: number): void {
    this.phase = 'handshake';
    this.handshakeFrom = now;
    this.nextHello = now;
    this.damagedInHandshake = 0;
    this.dataOn = false;
    this.sender.clear();
  }

  private fail(message: string): void {
    this.phase = 'failed';
    this.error = message;
  }

  private frame(now: number): void {
    const f = this.frames;
    const p = f.payload;
    this.lastHeard = now;
    if (f.type === T_HELLO_REPLY && f.length >= 18) {
      const info = parseHelloReply(p);
      if (this.phase === 'handshake') this.accept(info, now);
      else if (this.phase === 'running' && now - this.acceptedAt >= 2 * HELLO_EVERY_MS) {
        // (A reply within 2 HELLO periods of the accepted one answers one of our own HELLOs.)
        // The device announced a boot: it was reset (power cut) and lost its RAM.
        this.resets++;
        this.events.push(`${(now / 1000).toFixed(3)} device reset (boot announcement)`);
        this.startHandshake(now);
      }
    } else if (f.type === T_REJECT && f.length >= 1) {
      if (p[0] === REJECT_VERSION) this.fail(`the device speaks link protocol version ${f.length > 1 ? p[1] : '?'}, this host version ${PROTOCOL_VERSION}; update the firmware or the host`);
      else if (p[0] === REJECT_PROFILE) this.fail('the device refused the machine profile; load the matching profile on the device');
      else this.fail(`the device refused the session (reason ${p[0]})`);
    } else if (f.type === T_ACK && f.length >= 2) {
      if (this.phase !== 'running') return;
      if (f.ack !== 0) this.homeDelivered = true;
      this.sender.acked(f.ack, getUint(p, 0, 2), now);
    } else if (f.type === T_STATUS && f.length >= STATUS_BYTES) {
      const s = parseStatus(p);
      this.status = s;
      if (this.phase !== 'running') return;
      if (!s.session && now - this.acceptedAt >= 2 * HELLO_EVERY_MS) {
        // (Right after a handshake, a STATUS sent before our HELLO arrived may still lack the flag.)
        this.resets++;
        this.events.push(`${(now / 1000).toFixed(3)} device reset (status without a session)`);
        this.startHandshake(now);
        return;
      }
      if (!this.homeDelivered) return;
      if (s.state === 6 && s.hooksDone >= this.facts.hookTotal) this.phase = 'done'; // (frames still unacknowledged are re-sends the finished device no longer needs)
      else if (s.state === 7) this.fail(`the machine raised alarm ${s.error} at line ${s.line}; see the device log, home it and run again with --resume`);
      else if (s.state === 5 && s.pauseId !== this.handledPause) {
        this.handledPause = s.pauseId;
        // A pause this host asked for (Ctrl-C) is not a thread change: it must not be resumed.
        if (!this.pauseRequested) this.awaitingColour = s.color;
      }
    } else if (f.type === T_EVENT && f.length >= 1) {
      const what = p[0] === EVT_REFUSED ? `refused command ${p[1]} in state ${p[2]}` : p[0] === EVT_ALARM ? `alarm ${p[1]}` : `event ${p[0]} ${p[1] ?? ''}`;
      this.events.push(`${(now / 1000).toFixed(3)} ${what}`);
    }
  }

  private accept(d: DeviceInfo, now: number): void {
    this.device = d;
    this.handshakes++;
    if (d.protocolVersion !== PROTOCOL_VERSION) {
      this.fail(`the device speaks link protocol version ${d.protocolVersion}, this host version ${PROTOCOL_VERSION}; update the firmware or the host`);
      return;
    }
    const want = this.facts.machineHash;
    if (want !== 0 && d.machineHash !== 0 && want !== d.machineHash) {
      this.fail(`the device runs machine profile ${hex(d.machineHash)} but the stream is for ${hex(want)}; encode the plan with this machine's --machine profile`);
      return;
    }
    this.phase = 'running';
    this.acceptedAt = now;
    this.lastHeard = now;
    this.homeDelivered = false;
    this.handledPause = 0;
    this.awaitingColour = -1;
    this.sender.reset(d.rxBuffer, d.window);
    this.sender.clear();
    const ours = d.streamCrc === this.facts.id && d.resumeLine !== NO_LINE;
    const running = d.state === 4 || d.state === 5;
    if (ours && (this.everStarted || this.opts.resume) && d.resumeLine >= this.facts.hookTotal) {
      // The device has already wrapped every hook of this stream (it finished while the host was not
      // listening: a lost DONE status, then silence and a new handshake; or a reset after the end).
      // Homing and starting again would re-run a finished machine: the job is done.
      this.events.push(`${(now / 1000).toFixed(3)} the device already finished this stream (${d.resumeLine} hooks stored)`);
      this.everStarted = true;
      this.phase = 'done';
      return;
    }
    if (running && ours && this.everStarted) {
      // A reconnect to a device still in the job: re-send the stream; it skips what it has.
      this.homeDelivered = true;
    } else {
      const from = (this.everStarted || this.opts.resume) && ours ? Math.min(d.resumeLine, this.facts.hookTotal) : 0;
      this.startedAt.push(from);
      this.sender.send(T_CMD, [CMD_HOME]);
      const start = [CMD_START];
      putUint(start, from, 4);
      this.sender.send(T_CMD, start);
    }
    this.everStarted = true;
    // The stream from offset 0 (the device skips what it has), in DATA frames that feedData()
    // queues as the sender takes them.
    this.dataOffset = 0;
    this.dataOn = true;
    this.seenResends = this.sender.resends;
    this.seenDelivered = this.sender.delivered;
    this.cleanRun = 0;
  }
}
