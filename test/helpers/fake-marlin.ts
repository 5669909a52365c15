/**
 * AN IMITATION OF MARLIN 2.1, NOT MARLIN. There is no real Marlin firmware on this machine
 * (../shared/realchips has Grbl and ConfigurableFirmata only), so `hookline run --target marlin` is
 * tested against this: Marlin's serial protocol as written in its source, behind a real pty.
 *
 * From Marlin/src/gcode/queue.cpp: lines are read into a BUFSIZE (4) command queue only while it has
 * room (the rest waits in a 128-byte RX buffer, overflow is lost); `N<n> … *<xor>` lines are checked
 * (number = last+1 unless M110, then the checksum), a refused line answers
 * `Error:<why>, Last Line: L`, the RX buffer is flushed, then `Resend: L+1` and an `ok`; each command
 * is answered `ok` when it has been processed (a move: when it is in the planner). The planner holds
 * 16 blocks (BLOCK_BUFFER_SIZE on an AVR) and runs them at constant speed (no acceleration) in
 * simulated time, `speed` times faster than the wall clock; arcs are cut into 1 mm segments. M114
 * reports `X: Y: Z: E: Count X: Y: Z:` of the planner's end position (Marlin 2's "projected" report;
 * `M114 R` the real one when `realtime`), M400/G4/G28/M0 wait for the planner to empty, M0 then
 * waits for M108, which EMERGENCY_PARSER takes from the bytes as they arrive (as M410's quick stop:
 * planner emptied, moves dropped for 1 s), `busy: processing` / `busy: paused for user` every 2 s
 * while a command blocks, M503 prints `M92`/`M203`/`M201`/`M205` as Marlin 2.1 does, M115 the
 * FIRMWARE_NAME and Cap: lines; M2 is unknown (Marlin has no M2). Faults: a line corrupted on the
 * wire (→ checksum mismatch → Resend), a kill, a power cut. Not modelled: acceleration and
 * look-ahead, the real timing of an AVR, endstops, EEPROM, temperatures.
 */
import { SerialPort } from 'serialport';
import type { MachineProfile } from '../../shared/machine';
import { checkFramedLine } from '../../host/controller/marlin-protocol';

export interface FakeMarlinOptions {
  /** 'marlin' (default); 'silent', 'garbage', 'grbl': what a wrong port does. */
  mode?: 'marlin' | 'silent' | 'garbage' | 'grbl';
  /** M503 at power-on: a fresh Marlin's defaults (Configuration.h of a 3D printer) or the profile's. */
  settings?: 'defaults' | 'profile';
  emergencyParser?: boolean;
  /** M114 R gives the real position (M114_REALTIME). */
  realtime?: boolean;
  /** Simulated time per wall time. */
  speed?: number;
  /** Line numbers whose first arrival is corrupted (one byte changed before the checksum). */
  corruptLines?: number[];
}

type V3 = [number, number, number];
interface Block { from: V3; to: V3; ms: number; arc?: number }
/** A G2/G3 line: its centre and direction, and whether all of its segments ran. */
export interface ArcRecord { cx: number; cy: number; turn: 1 | -1; segments: number; ran: number }

const BUFSIZE = 4;
const BLOCKS = 16;
const RX_BUFFER = 128;

export class FakeMarlin {
  private rx = '';
  private queue: string[] = [];
  private lastN = 0;
  private blocks: Block[] = [];
  private blockT = 0;
  private current: { text: string; step: () => boolean } | null = null;
  private waitForUser = false;
  private dropUntil = -1;
  private corrupt: Set<number>;
  private timer: NodeJS.Timeout;
  private lastWall = Date.now();
  private lastBusy = Date.now();
  private killed = false;
  private said = false;
  /** Simulated ms since power-on. */
  simMs = 0;
  /** The real position (mm), and the end of what is planned. */
  pos: V3 = [350, 350, 15];
  planned: V3 = [350, 350, 15];
  homed = false;
  steps: V3;
  maxFeed: V3;
  accel: V3;
  junction = 0.01;
  /** Commands processed, in order (without numbers and checksums). */
  readonly commands: string[] = [];
  readonly arcs: ArcRecord[] = [];
  /** Resend requests sent. */
  resends = 0;
  readonly opts: Required<FakeMarlinOptions>;

  constructor(private readonly m: MachineProfile, private readonly out: (s: string) => void, opts: FakeMarlinOptions = {}) {
    this.opts = { mode: 'marlin', settings: 'defaults', emergencyParser: true, realtime: false, speed: 1, corruptLines: [], ...opts };
    this.corrupt = new Set(this.opts.corruptLines);
    const a = m.axes;
    if (this.opts.settings === 'profile') {
      this.steps = [a.x.stepsPerMm, a.y.stepsPerMm, a.z.stepsPerMm];
      this.maxFeed = [a.x.maxSpeedMmS, a.y.maxSpeedMmS, a.z.maxSpeedMmS];
      this.accel = [a.x.accelMmS2, a.y.accelMmS2, a.z.accelMmS2];
      this.junction = m.motion.junctionDeviationMm;
    } else {
      // Marlin 2.1's Configuration.h defaults.
      this.steps = [80, 80, 400];
      this.maxFeed = [300, 300, 5];
      this.accel = [3000, 3000, 100];
      this.junction = 0.013;
    }
    this.timer = setInterval(() => this.tick(), 4);
  }

  private send(s: string) {
    if (!this.killed) this.out(s + '\n');
  }

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    if (this.killed) return;
    const s = Buffer.from(bytes).toString('latin1');
    if (this.opts.mode === 'silent') return;
    if (this.opts.mode === 'garbage') {
      this.out(String.fromCharCode(...Array.from({ length: 24 }, (_, i) => (i * 37 + s.length * 11) % 256)));
      return;
    }
    if (this.opts.mode === 'grbl') {
      if (!this.said) this.out("\r\nGrbl 1.1h ['$' for help]\r\n");
      this.said = true;
      for (const ch of s) if (ch === '\n') this.out('error:20\r\n');
      return;
    }
    // EMERGENCY_PARSER: M108 / M410 / M112 act as the bytes arrive, before the queue sees them.
    if (this.opts.emergencyParser) {
      for (const line of s.split('\n')) {
        const cmd = line.replace(/^N-?\d+\s*/, '').replace(/\*.*$/, '').trim();
        if (/^M108\b/.test(cmd)) this.waitForUser = false;
        if (/^M410\b/.test(cmd)) this.quickStop();
        if (/^M112\b/.test(cmd)) this.kill('Printer halted. kill() called!');
      }
    }
    const room = RX_BUFFER - this.rx.length;
    this.rx += s.slice(0, Math.max(0, room)); // an overflowing RX buffer loses bytes
  }

  /** The firmware stops everything (kill()): one line, then silence. */
  kill(text = 'Printer halted. kill() called!'): void {
    this.send(`Error:${text}`);
    this.killed = true;
    this.blocks = [];
  }

  /** Power lost: nothing more moves or answers. */
  powerCut(): void {
    this.killed = true;
    this.blocks = [];
    clearInterval(this.timer);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private quickStop() {
    this.blocks = [];
    this.blockT = 0;
    this.planned = [...this.pos];
    this.dropUntil = this.simMs + 1000;
  }

  /** Marlin's get_serial_commands(): complete lines into the queue while it has room. */
  private readSerial() {
    let i: number;
    while (this.queue.length < BUFSIZE && (i = this.rx.search(/[\r\n]/)) >= 0) {
      let line = this.rx.slice(0, i).replace(/;.*$/, '').trim();
      this.rx = this.rx.slice(i + 1);
      if (!line) continue;
      const nm = /^N(\d+)/.exec(line);
      if (nm && this.corrupt.delete(Number(nm[1]))) {
        const star = line.lastIndexOf('*');
        line = line.slice(0, star - 1) + String.fromCharCode(line.charCodeAt(star - 1) ^ 0x02) + line.slice(star);
      }
      const r = checkFramedLine(line, this.lastN);
      if (!r.ok) {
        const why = r.error === 'line' ? 'Line Number is not Last Line Number+1, Last Line: ' : r.error === 'checksum' ? 'checksum mismatch, Last Line: ' : 'No Checksum with line number, Last Line: ';
        this.send(`Error:${why}${this.lastN}`);
        this.rx = ''; // while (read_serial() != -1) {}: what else was received is gone
        this.resends++;
        this.send(`Resend: ${this.lastN + 1}`);
        this.send('ok');
        return;
      }
      if (r.n !== null) this.lastN = r.n;
      this.queue.push(r.command);
    }
  }

  private tick() {
    if (this.killed) return;
    const now = Date.now();
    const dt = (now - this.lastWall) * this.opts.speed;
    this.lastWall = now;
    this.simMs += dt;
    this.move(dt);
    for (let guard = 0; guard < 50; guard++) {
      this.readSerial();
      if (!this.current) {
        const text = this.queue.shift();
        if (text === undefined) break;
        this.current = { text, step: this.start(text) };
        this.lastBusy = now;
      }
      if (!this.current.step()) {
        if (now - this.lastBusy >= 2000) {
          this.lastBusy = now;
          this.send(this.waitForUser ? 'echo:busy: paused for user' : 'echo:busy: processing');
        }
        break;
      }
      this.commands.push(this.current.text);
      this.current = null;
      this.send('ok');
    }
  }

  private move(dt: number) {
    let left = dt;
    while (left > 0 && this.blocks.length) {
      const b = this.blocks[0];
      const take = Math.min(left, b.ms - this.blockT);
      this.blockT += take;
      left -= take;
      const f = b.ms > 0 ? this.blockT / b.ms : 1;
      this.pos = [0, 1, 2].map((k) => b.from[k] + (b.to[k] - b.from[k]) * f) as V3;
      if (this.blockT >= b.ms - 1e-9) {
        this.pos = [...b.to];
        if (b.arc !== undefined) this.arcs[b.arc].ran++;
        this.blocks.shift();
        this.blockT = 0;
      }
    }
  }

  private plan(to: V3, feedMmS: number, arc?: number): void {
    const from = this.planned;
    this.planned = to;
    if (this.simMs < this.dropUntil) return; // quick stop: moves dropped for a second
    const d = [0, 1, 2].map((k) => to[k] - from[k]);
    const len = Math.hypot(d[0], d[1], d[2]);
    if (len < 1e-9) return;
    let v = feedMmS;
    for (let k = 0; k < 3; k++) if (Math.abs(d[k]) > 0) v = Math.min(v, (this.maxFeed[k] * len) / Math.abs(d[k]));
    this.blocks.push({ from, to, ms: (len / v) * 1000, arc });
  }

  private feed = 50;

  /** What a command does: a step function, true when it is done (then its ok is sent). */
  private start(text: string): () => boolean {
    const word = text.split(/\s+/)[0].toUpperCase();
    const arg = (c: string) => {
      const m = new RegExp(`\\b${c}(-?[\\d.]+)`).exec(text.slice(word.length));
      return m ? Number(m[1]) : undefined;
    };
    const done = () => true;
    const drained = () => this.blocks.length === 0;
    switch (word) {
      case 'G21': case 'G90': case 'G17': return done;
      case 'G0': case 'G1': {
        const f = arg('F');
        if (f !== undefined) this.feed = f / 60;
        const to: V3 = [arg('X') ?? this.planned[0], arg('Y') ?? this.planned[1], arg('Z') ?? this.planned[2]];
        return () => {
          if (this.blocks.length >= BLOCKS) return false;
          this.plan(to, this.feed);
          return true;
        };
      }
      case 'G2': case 'G3': {
        const f = arg('F');
        if (f !== undefined) this.feed = f / 60;
        const s = this.planned;
        const c = [s[0] + (arg('I') ?? 0), s[1] + (arg('J') ?? 0)];
        const e = [arg('X') ?? s[0], arg('Y') ?? s[1]];
        const turn = word === 'G3' ? 1 : -1;
        const r = Math.hypot(s[0] - c[0], s[1] - c[1]);
        const a0 = Math.atan2(s[1] - c[1], s[0] - c[0]);
        let sweep = Math.atan2(e[1] - c[1], e[0] - c[0]) - a0;
        if (turn > 0 && sweep <= 1e-9) sweep += 2 * Math.PI;
        if (turn < 0 && sweep >= -1e-9) sweep -= 2 * Math.PI;
        const n = Math.max(1, Math.ceil((Math.abs(sweep) * r) / 1));
        const idx = this.arcs.push({ cx: c[0], cy: c[1], turn, segments: n, ran: 0 }) - 1;
        let k = 1;
        return () => {
          while (k <= n && this.blocks.length < BLOCKS) {
            const a = a0 + (sweep * k) / n;
            const p: V3 = k === n ? [e[0], e[1], s[2]] : [c[0] + r * Math.cos(a), c[1] + r * Math.sin(a), s[2]];
            this.plan(p, this.feed, idx);
            k++;
          }
          return k > n;
        };
      }
      case 'G4': {
        const ms = arg('P') ?? (arg('S') ?? 0) * 1000;
        let until = -1;
        return () => {
          if (!drained()) return false;
          if (until < 0) until = this.simMs + ms;
          return this.simMs >= until;
        };
      }
      case 'G28': {
        let until = -1;
        return () => {
          if (!drained()) return false;
          const ax = [this.m.axes.x, this.m.axes.y, this.m.axes.z];
          const home = ax.map((a) => (a.homing.toMax === true ? a.travelMaxMm - a.homing.backoffMm : a.travelMinMm + a.homing.backoffMm)) as V3;
          if (until < 0) until = this.simMs + 500 + ax.reduce((t, a, k) => t + (Math.abs(this.pos[k] - home[k]) / a.homing.seekSpeedMmS) * 1000, 0);
          if (this.simMs < until) return false;
          this.pos = [...home];
          this.planned = [...home];
          this.homed = true;
          return true;
        };
      }
      case 'M400': return drained;
      case 'M0': case 'M1': {
        if (!this.opts.emergencyParser) return this.unknown(text);
        let waiting = false;
        return () => {
          if (!drained()) return false;
          if (!waiting) {
            waiting = true;
            this.waitForUser = true;
            this.send(`echo:${text.slice(2).trim() || 'Click to resume...'}`);
          }
          return !this.waitForUser;
        };
      }
      case 'M108':
        if (!this.opts.emergencyParser) this.waitForUser = false;
        return done;
      case 'M410':
        if (!this.opts.emergencyParser) this.quickStop();
        return done;
      case 'M110': {
        const n = arg('N');
        if (n !== undefined) this.lastN = n;
        return done;
      }
      case 'M114': {
        const real = this.opts.realtime && /\bR\b/.test(text);
        const p = real ? this.pos : this.planned;
        const f = (v: number) => v.toFixed(2);
        this.send(`X:${f(p[0])} Y:${f(p[1])} Z:${f(p[2])} E:0.00 Count X:${Math.round(p[0] * this.steps[0])} Y:${Math.round(p[1] * this.steps[1])} Z:${Math.round(p[2] * this.steps[2])}`);
        return done;
      }
      case 'M115':
        this.send('FIRMWARE_NAME:Marlin 2.1.2.1 (Jan  1 2024 00:00:00) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:3D Printer EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff');
        this.send('Cap:SERIAL_XON_XOFF:0');
        this.send('Cap:EEPROM:1');
        this.send(`Cap:EMERGENCY_PARSER:${this.opts.emergencyParser ? 1 : 0}`);
        this.send('Cap:ARCS:1');
        return done;
      case 'M503': {
        const f = (v: number) => v.toFixed(2);
        this.send('echo:; Linear Units:');
        this.send('echo:  G21 ; (mm)');
        this.send('echo:; Steps per unit:');
        this.send(`echo:  M92 X${f(this.steps[0])} Y${f(this.steps[1])} Z${f(this.steps[2])} E500.00`);
        this.send('echo:; Max feedrates (units/s):');
        this.send(`echo:  M203 X${f(this.maxFeed[0])} Y${f(this.maxFeed[1])} Z${f(this.maxFeed[2])} E25.00`);
        this.send('echo:; Max Acceleration (units/s2):');
        this.send(`echo:  M201 X${f(this.accel[0])} Y${f(this.accel[1])} Z${f(this.accel[2])} E10000.00`);
        this.send('echo:; Acceleration (units/s2) (P<print-accel> R<retract-accel> T<travel-accel>):');
        this.send('echo:  M204 P3000.00 R3000.00 T3000.00');
        this.send('echo:; Advanced (B<min_segment_time_us> S<min_feedrate> T<min_travel_feedrate> J<junc_dev>):');
        this.send(`echo:  M205 B20000.00 S0.00 T0.00 J${f(this.junction)}`);
        this.send('echo:; Home offset:');
        this.send('echo:  M206 X0.00 Y0.00 Z0.00');
        return done;
      }
      case 'M92': case 'M203': case 'M201': {
        const t = word === 'M92' ? this.steps : word === 'M203' ? this.maxFeed : this.accel;
        ['X', 'Y', 'Z'].forEach((c, k) => {
          const v = arg(c);
          if (v !== undefined) t[k] = v;
        });
        return done;
      }
      case 'M205': {
        const j = arg('J');
        if (j !== undefined) this.junction = j;
        return done;
      }
      default:
        return this.unknown(text);
    }
  }

  private unknown(text: string): () => boolean {
    this.send(`echo:Unknown command: "${text}"`);
    return () => true;
  }
}

/** The fake on a serial device (one end of a socat pty pair), through the real binding. */
export async function fakeMarlinOnPort(path: string, m: MachineProfile, opts: FakeMarlinOptions = {}): Promise<{ marlin: FakeMarlin; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const marlin = new FakeMarlin(m, (s) => void port.write(Buffer.from(s, 'latin1')), opts);
  port.on('data', (d: Buffer) => marlin.receive(new Uint8Array(d.buffer, d.byteOffset, d.length)));
  return {
    marlin,
    close: async () => {
      marlin.stop();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    },
  };
}
