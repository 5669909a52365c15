/**
 * The device end of a link session (docs/protocol.md sections 4–7): glues a LinkReceiver to the
 * Runtime. HELLO → HELLO_REPLY; DATA → a fixed receive ring whose free space is the credit, drained
 * into runtime.feed() while runtime.canAccept(); CMD → home / start (startAt) / pause / resume /
 * abort / status / jog (a refused command is answered with an EVENT); STATUS at most 4 per second
 * and on every state change; EVENTs for a colour-change pause, done and alarm.
 *
 * Progress for resume: the number of hook operations wrapped completely ("hooks") is written to
 * storage whenever it grows (checked on every tick(), which the target calls from its main loop
 * after every runtime event), together with the stream's identity ("stream", CRC-16 of its first
 * STREAM_ID_BYTES bytes). HELLO_REPLY reports it as resumeLine: the index of the first hook
 * operation not yet wrapped, which START takes as fromLine.
 *
 * Device-safe (ES5 and the Lua subset): fixed buffers, no Map/Set, nothing allocated per byte.
 */
import { Hal } from './hal';
import { Runtime, ST_ALARM, ST_DONE, ST_HOMING, ST_IDLE, ST_PAUSED } from './runtime';
import { LinkHandler, LinkReceiver } from '../shared/link/receiver';
import { CRC16_INIT, crc16Update } from '../shared/crc16';
import { byteTable } from '../shared/number-table';
import {
  CMD_ABORT, CMD_HOME, CMD_JOG, CMD_PAUSE, CMD_RESUME, CMD_START, CMD_STATUS, EVT_ALARM, EVT_COLOR, EVT_DONE,
  EVT_REFUSED, NO_LINE, PROTOCOL_VERSION, REJECT_PROFILE, REJECT_VERSION, STATUS_SESSION, STREAM_ID_BYTES, T_CMD, T_DATA,
  T_EVENT, T_HELLO_REPLY, T_REJECT, T_STATUS, getUint, putUint,
} from '../shared/link/protocol';

export const FIRMWARE_MAJOR = 0;
export const FIRMWARE_MINOR = 1;
/** Receive ring (stream bytes waiting for the runtime); its free space is the link credit. */
export const RX_BUFFER = 256;
export const LINK_WINDOW = 8;
/** At most 4 STATUS frames per second, unless the state changes. */
export const STATUS_EVERY_US = 250000;
export const KEY_HOOKS = 'hooks';
export const KEY_STREAM = 'stream';

export class LinkSession implements LinkHandler {
  readonly rx: LinkReceiver;
  /** The machine profile hash and capability bits this device reports. */
  machineHash: number;
  capabilities: number;
  private rt: Runtime;
  private hal: Hal;
  private ring: number[] = byteTable(RX_BUFFER);
  private head = 0;
  private count = 0;
  /** Next stream offset this device takes (DATA before it is a re-send and skipped). */
  private streamPos = 0;
  private jobActive = false;
  private pendingStart = -1;
  private sessionOpen = false;
  private storedHooks = -1;
  private storedStream = 0;
  private idCrc = CRC16_INIT;
  private lastStatusUs = -1e18;
  private lastState = -1;
  private pauseId = 0;
  private forceStatus = false;
  private pl: number[] = [];
  /** The receiver's expected sequence number before a HELLO reset it: a rejected HELLO restores it. */
  private seqBeforeHello = 0;

  constructor(rt: Runtime, hal: Hal, machineHash: number, capabilities: number, write: (bytes: number[]) => void) {
    this.rt = rt;
    this.hal = hal;
    this.machineHash = machineHash;
    this.capabilities = capabilities;
    this.rx = new LinkReceiver(this, write);
  }

  /** After runtime.boot(): read progress from storage and announce the boot (an unsolicited
   * HELLO_REPLY, so a connected host notices a reset at once). */
  boot(): void {
    this.storedHooks = this.hal.storageRead(KEY_HOOKS);
    this.storedStream = this.hal.storageRead(KEY_STREAM);
    if (this.storedStream < 0) this.storedStream = 0;
    this.lastState = this.rt.state;
    this.sendHelloReply();
  }

  /** One byte from the serial line. */
  push(b: number): void {
    this.rx.push(b);
  }

  // LinkHandler
  hello(payload: number[], length: number): void {
    // A HELLO of another protocol version, or naming another machine profile (optional
    // machineHash u32 after the version), is refused and leaves the open session as it was.
    const hash = length >= 5 ? getUint(payload, 1, 4) : 0;
    if (length < 1 || payload[0] !== PROTOCOL_VERSION || (hash !== 0 && hash !== this.machineHash)) {
      this.rx.expected = this.seqBeforeHello;
      this.pl.splice(0, this.pl.length);
      if (length >= 1 && payload[0] === PROTOCOL_VERSION) {
        this.pl.push(REJECT_PROFILE);
        putUint(this.pl, this.machineHash, 4);
      } else {
        this.pl.push(REJECT_VERSION);
        this.pl.push(PROTOCOL_VERSION);
      }
      this.rx.send(T_REJECT, this.pl);
      return;
    }
    this.seqBeforeHello = 0;
    this.sessionOpen = true;
    this.sendHelloReply();
  }

  credit(): number {
    return RX_BUFFER - this.count;
  }

  deliver(type: number, payload: number[], length: number): void {
    this.seqBeforeHello = this.rx.expected;
    if (type === T_DATA) {
      if (length < 4) return;
      const off = getUint(payload, 0, 4);
      for (let i = 4; i < length; i++) {
        const pos = off + i - 4;
        if (pos === this.streamPos) this.take(payload[i]);
      }
      return;
    }
    if (type !== T_CMD || length < 1) return;
    const c = payload[0];
    let ok = true;
    if (c === CMD_HOME) {
      ok = this.rt.home();
      if (ok) this.clearJob();
    } else if (c === CMD_START) {
      const s = this.rt.state;
      ok = length >= 5 && (s === ST_IDLE || s === ST_HOMING) && !this.jobActive;
      if (ok) this.pendingStart = getUint(payload, 1, 4);
    } else if (c === CMD_PAUSE) ok = this.rt.pause();
    else if (c === CMD_RESUME) ok = this.rt.resume();
    else if (c === CMD_ABORT) {
      ok = this.rt.abort();
      if (ok) this.clearJob();
    } else if (c === CMD_STATUS) this.forceStatus = true;
    else if (c === CMD_JOG) {
      // axis u8, steps i32 (two's complement)
      let steps = length >= 6 ? getUint(payload, 2, 4) : 0;
      if (steps >= 2147483648) steps = steps - 4294967296;
      ok = length >= 6 && this.rt.jog(payload[1], steps);
    } else ok = false; // unknown commands
    if (!ok) {
      this.pl.splice(0, this.pl.length);
      this.pl.push(EVT_REFUSED);
      this.pl.push(c);
      this.pl.push(this.rt.state);
      this.rx.send(T_EVENT, this.pl);
    }
    if (c === CMD_JOG) this.forceStatus = true;
  }

  /** Call from the main loop (the simulator: after every runtime event). */
  tick(): void {
    const rt = this.rt;
    if (this.pendingStart >= 0 && rt.state === ST_IDLE) {
      rt.startAt(this.pendingStart);
      this.storedHooks = this.pendingStart;
      this.hal.storageWrite(KEY_HOOKS, this.storedHooks);
      this.pendingStart = -1;
      this.jobActive = true;
    }
    if (this.jobActive) {
      while (this.count > 0 && rt.canAccept()) {
        const b = this.ring[this.head];
        this.head = (this.head + 1) % RX_BUFFER;
        this.count = this.count - 1;
        rt.feed(b);
      }
    }
    this.rx.poll();
    const st = rt.status();
    if (this.jobActive && st.hooksWrapped > this.storedHooks) {
      this.storedHooks = st.hooksWrapped;
      this.hal.storageWrite(KEY_HOOKS, this.storedHooks);
    }
    if (st.state !== this.lastState) {
      this.lastState = st.state;
      this.forceStatus = true;
      this.pl.splice(0, this.pl.length);
      if (st.state === ST_PAUSED) {
        this.pauseId = (this.pauseId + 1) % 256;
        this.pl.push(EVT_COLOR);
        this.pl.push(st.color);
      } else if (st.state === ST_DONE) {
        this.jobActive = false;
        this.pl.push(EVT_DONE);
      } else if (st.state === ST_ALARM) {
        this.jobActive = false;
        this.pl.push(EVT_ALARM);
        this.pl.push(st.error);
      }
      if (this.pl.length > 0) this.rx.send(T_EVENT, this.pl);
    }
    const now = this.hal.micros();
    if (this.forceStatus || now - this.lastStatusUs >= STATUS_EVERY_US - 1) {
      this.forceStatus = false;
      this.lastStatusUs = now;
      const p = this.pl;
      p.splice(0, p.length);
      p.push(st.state);
      p.push(st.error);
      putUint(p, st.line, 4);
      putUint(p, st.lineCount, 4);
      putUint(p, st.hook < 0 ? 0xffff : st.hook, 2);
      p.push(st.color);
      putUint(p, Math.min(0xffff, Math.round(st.pileMm * 100)), 2);
      p.push(this.sessionOpen ? STATUS_SESSION : 0);
      p.push(this.pauseId);
      putUint(p, this.storedHooks < 0 ? NO_LINE : this.storedHooks, 4);
      this.rx.send(T_STATUS, p);
    }
  }

  /** Hook operations wrapped completely, as stored (−1 none). */
  get progress(): number {
    return this.storedHooks;
  }

  /** When tick() must run next at the latest (µs, the target's clock). */
  nextStatusUs(): number {
    return this.lastStatusUs + STATUS_EVERY_US;
  }

  private take(b: number): void {
    if (this.count >= RX_BUFFER) return; // cannot happen: the receiver checks the credit
    this.ring[(this.head + this.count) % RX_BUFFER] = b;
    this.count = this.count + 1;
    if (this.streamPos < STREAM_ID_BYTES) {
      this.idCrc = crc16Update(this.idCrc, b);
      if (this.streamPos === STREAM_ID_BYTES - 1) {
        this.storedStream = this.idCrc;
        this.hal.storageWrite(KEY_STREAM, this.idCrc);
      }
    }
    this.streamPos = this.streamPos + 1;
  }

  private clearJob(): void {
    this.head = 0;
    this.count = 0;
    this.streamPos = 0;
    this.idCrc = CRC16_INIT;
    this.jobActive = false;
    this.pendingStart = -1;
  }

  private sendHelloReply(): void {
    const p = this.pl;
    p.splice(0, p.length);
    p.push(PROTOCOL_VERSION);
    p.push(FIRMWARE_MAJOR);
    p.push(FIRMWARE_MINOR);
    putUint(p, this.machineHash, 4);
    p.push(this.capabilities);
    p.push(LINK_WINDOW);
    putUint(p, RX_BUFFER, 2);
    p.push(this.rt.state);
    putUint(p, this.storedHooks < 0 ? NO_LINE : this.storedHooks, 4);
    putUint(p, this.storedHooks < 0 ? 0 : this.storedStream, 2);
    this.rx.send(T_HELLO_REPLY, p);
  }
}

/** Stream identity as the device computes it (CRC-16 of the first STREAM_ID_BYTES bytes). */
export function streamIdOf(bytes: ArrayLike<number>): number {
  let c = CRC16_INIT;
  for (let i = 0; i < bytes.length && i < STREAM_ID_BYTES; i++) c = crc16Update(c, bytes[i]);
  return c;
}
