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
import { FR_OK, FrameDecoder, MAX_PAYLOAD, encodeFrame } from '../../shared/link/frame';
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
/** No frame at all from a running device for this long: handshake again. */
export const SILENCE_MS = 2_000;
export const DATA_BYTES = MAX_PAYLOAD - 4;

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
      if (this.frames.push(bytes[i]) === FR_OK) this.frame(now);
    }
  }

  /** Frames to write now. */
  poll(now: number): Uint8Array[] {
    if (this.phase === 'done' || this.phase === 'failed') return [];
    if (this.phase === 'handshake') {
      if (now - this.handshakeFrom >= HANDSHAKE_MS) {
        this.fail(
          this.everStarted
            ? `the device stopped answering (no reply to HELLO for ${HANDSHAKE_MS / 1000} s after it went silent); check the cable and power, then run again with --resume`
            : `the port does not answer: no reply to HELLO in ${HANDSHAKE_MS / 1000} s; check --port, --baud and that the device runs hookline firmware`,
        );
        return [];
      }
      if (now >= this.nextHello) {
        this.nextHello = now + HELLO_EVERY_MS;
        const b: number[] = [];
        encodeFrame(T_HELLO, 0, 0, [PROTOCOL_VERSION], b);
        return [Uint8Array.from(b)];
      }
      return [];
    }
    if (now - this.lastHeard >= SILENCE_MS) {
      this.events.push(`${(now / 1000).toFixed(3)} silence: handshake again`);
      this.startHandshake(now);
      return this.poll(now);
    }
    return this.sender.poll(now);
  }

  /** When poll must be called next even if nothing arrives (ms). */
  nextDeadline(): number {
    if (this.phase === 'handshake') return Math.min(this.nextHello, this.handshakeFrom + HANDSHAKE_MS);
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

  abort(): void {
    this.sender.send(T_CMD, [CMD_ABORT]);
  }

  private startHandshake(now: number): void {
    this.phase = 'handshake';
    this.handshakeFrom = now;
    this.nextHello = now;
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
    for (let off = 0; off < this.stream.length; off += DATA_BYTES) {
      const payload: number[] = [];
      putUint(payload, off, 4);
      const end = Math.min(this.stream.length, off + DATA_BYTES);
      for (let i = off; i < end; i++) payload.push(this.stream[i]);
      this.sender.send(T_DATA, payload);
    }
  }
}
