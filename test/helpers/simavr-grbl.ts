/**
 * Stock Grbl 1.1h on a simulated Arduino Uno (simavr), from ../shared/realchips/avr: the bridge
 * (simavr-bridge.ts) started as run-grbl.sh does.
 * A Grbl sender in TypeScript (character counting on Grbl's 128-byte RX buffer; `$` lines
 * send-response), so the tests need no Python packages.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REALCHIPS_AVR, bridgeUnavailable, startBridge, type Bridge, type BridgeStatus } from './simavr-bridge';

export { REALCHIPS_AVR, type Bridge, type BridgeStatus } from './simavr-bridge';

export const GRBL_HEX = join(REALCHIPS_AVR, 'hex/grbl-1.1h-atmega328p-16MHz.hex');

/** Why the real-Grbl tests cannot run here (one line), or null when they can. */
export function grblUnavailable(): string | null {
  return bridgeUnavailable('Grbl', GRBL_HEX);
}

/**
 * Power on a simulated Uno running stock Grbl, wired as run-grbl.sh wires it: X/Y/Z step 2/3/4,
 * dir 5/6/7 (low = +), limits X min D9, Y min D10, Z max D12 (Grbl 1.1's Z limit with variable
 * spindle), 20/20/400 steps/mm, travel 700/700/30 mm, power-on position `at` (switch-side mm;
 * default 100/100/10: a machine that stands where a power cut left it is given that position).
 * `-P 0x88=0xff`: OCR1AL preset, the simavr work-around for Grbl's first stepper wake-up (README).
 */
export function startGrblBridge(work: string, eeprom: string, at: [number, number, number] = [100, 100, 10], trace?: string): Promise<Bridge> {
  return startBridge({
    hex: GRBL_HEX, work, eeprom, name: 'grbl', extra: ['-P', '0x88=0xff'], trace,
    axes: [`x,2,5,9,20,min,${at[0]},low,700`, `y,3,6,10,20,min,${at[1]},low,700`, `z,4,7,12,400,max,${at[2]},low,30`],
  });
}

export interface StatusSample {
  state: string;
  mpos: [number, number, number];
  wallMs: number;
}

export interface LineAnswer {
  line: string;
  answer: string;
}

export interface StreamResult {
  answers: LineAnswer[];
  /** Everything Grbl said that is not ok/error/status: ALARM:N, [MSG:…], the banner. */
  messages: string[];
  alarms: string[];
  samples: StatusSample[];
  lastState: string;
}

/** A Grbl 1.1 sender on a serial port (here the bridge's pty). */
export class GrblSender {
  private buf = '';
  private pending: { line: string; bytes: number }[] = [];
  /** When Grbl last answered a line or reported its state (other chatter, e.g. a boot loop's banners, does not count). */
  private lastRx = Date.now();
  readonly answers: LineAnswer[] = [];
  readonly messages: string[] = [];
  readonly alarms: string[] = [];
  readonly samples: StatusSample[] = [];
  private lastState = '';
  private waiters: (() => void)[] = [];

  private constructor(private port: { write(b: Buffer): void; close(cb: () => void): void; isOpen: boolean }) {}

  static async open(path: string): Promise<GrblSender> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const s = new GrblSender(port);
    port.on('data', (d: Buffer) => s.onData(d.toString('latin1')));
    return s;
  }

  private onData(text: string) {
    this.buf += text;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (line) this.onLine(line);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private onLine(line: string) {
    if (line.startsWith('<') || line === 'ok' || line.startsWith('error:') || line.startsWith('ALARM:')) this.lastRx = Date.now();
    if (line.startsWith('<')) {
      const m = /^<([A-Za-z]+)[^|]*\|MPos:(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)/.exec(line);
      if (m) {
        this.lastState = m[1];
        this.samples.push({ state: m[1], mpos: [Number(m[2]), Number(m[3]), Number(m[4])], wallMs: Date.now() });
      }
      return;
    }
    if (line === 'ok' || line.startsWith('error:')) {
      const p = this.pending.shift();
      this.answers.push({ line: p ? p.line : '(unmatched)', answer: line });
      return;
    }
    if (line.startsWith('ALARM:')) this.alarms.push(line);
    this.messages.push(line);
  }

  private waitRx(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  /** Wake the board: a newline (its `ok` is not a line of ours) and the banner. */
  async wake(): Promise<void> {
    this.pending.push({ line: '(wake)', bytes: 1 });
    this.port.write(Buffer.from('\n')); // one line end: "\r\n" would be two empty lines, two oks
    const t0 = Date.now();
    while (this.pending.length && Date.now() - t0 < 60_000) await this.waitRx(100);
    await new Promise((r) => setTimeout(r, 300));
    this.answers.length = 0;
  }

  /**
   * Stream lines: comments and blank lines stripped as senders do, `$` lines after every earlier
   * line is answered; G-code by character counting. A `?` every pollMs (realtime: does not use the
   * RX buffer) records the position, and the stream ends when Grbl is Idle again; pollMs 0: no
   * polling, ends at the last answer. Stops at the first ALARM. `stallMs`: a limit for a hang.
   */
  async stream(lines: string[], pollMs = 40, stallMs = 120_000): Promise<void> {
    let polling = true;
    const poll = (async () => {
      while (polling && pollMs > 0) {
        this.port.write(Buffer.from('?'));
        await new Promise((r) => setTimeout(r, pollMs));
      }
    })();
    try {
      for (const raw of lines) {
        const line = raw.replace(/\(.*?\)/g, '').split(';')[0].trim();
        if (!line) continue;
        const bytes = line.length + 1;
        const sync = line.startsWith('$');
        while (this.alarms.length === 0) {
          const inflight = this.pending.reduce((s, p) => s + p.bytes, 0);
          if (sync ? this.pending.length === 0 : inflight + bytes <= 128) break;
          if (Date.now() - this.lastRx > stallMs) throw new Error(`Grbl stopped answering (waiting to send '${line}')`);
          await this.waitRx(200);
        }
        if (this.alarms.length) return;
        this.pending.push({ line, bytes });
        this.port.write(Buffer.from(line + '\n'));
      }
      while (this.pending.length && this.alarms.length === 0) {
        if (Date.now() - this.lastRx > stallMs) throw new Error('Grbl stopped answering (draining)');
        await this.waitRx(200);
      }
      // Until the motion is done: Idle (or Alarm) after the last line's ok.
      const n0 = this.samples.length;
      while (pollMs > 0 && this.alarms.length === 0) {
        const last = this.samples[this.samples.length - 1];
        if (this.samples.length > n0 && last && last.state !== 'Run' && last.state !== 'Home') break;
        if (Date.now() - this.lastRx > stallMs) throw new Error('Grbl stopped answering (waiting for Idle)');
        await this.waitRx(200);
      }
    } finally {
      polling = false;
      await poll;
    }
  }

  /** Send lines one by one, each after the previous answer (settings). */
  async sendEach(lines: string[]): Promise<void> {
    for (const l of lines) await this.stream([l], 0, 30_000);
  }

  state(): string {
    return this.lastState;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** A G-code file run on a configured Grbl: what the test and bench:realchips judge. */
export interface GrblJob {
  /** The sender of power-on 1 (the settings and their answers). */
  setup: GrblSender;
  /** The sender of power-on 2 (the banner, the file's answers, alarms, position samples). */
  job: GrblSender;
  /** The file's first line (stock Grbl with homing on needs `$H` there). */
  firstLine: string;
  /** Bridge status after homing and at the end (simulated time, step counts, peaks). */
  homed: BridgeStatus;
  end: BridgeStatus;
  /** Wall seconds from `$H` to Idle. */
  wallSeconds: number;
  /** Power-on 2's step trace (readStepTrace) and where the axes stood at power-on. */
  trace: string;
  traceStart: [number, number, number];
}

/**
 * Power-on 1 with a new EEPROM takes `settings` one at a time; power-on 2 boots from that EEPROM
 * (alarm-locked with homing on), runs the file's first line (`$H`), then streams the rest with a
 * `?` every 10 ms until Idle. The bridges are stopped whatever happens.
 */
export async function runGrblJob(work: string, settings: string[], gcode: string): Promise<GrblJob> {
  const eeprom = join(work, 'grbl.eeprom');
  rmSync(eeprom, { force: true });
  let bridge: Bridge | null = null;
  try {
    bridge = await startGrblBridge(work, eeprom);
    const setup = await GrblSender.open(bridge.pty);
    await setup.wake();
    await setup.sendEach(settings);
    await setup.close();
    await bridge.stop();

    const trace = join(work, 'job-steps.txt');
    const traceStart: [number, number, number] = [100, 100, 10];
    bridge = await startGrblBridge(work, eeprom, traceStart, trace);
    const job = await GrblSender.open(bridge.pty);
    await job.wake();
    const lines = gcode.split('\n');
    const first = lines.findIndex((l) => l.trim() !== '' && !l.startsWith(';'));
    const wall0 = Date.now();
    await job.stream([lines[first]]);
    await new Promise((r) => setTimeout(r, 1200)); // the bridge rewrites its status file every ~0.5 s wall
    const homed = bridge.status()!;
    await job.stream(lines.slice(first + 1), 10);
    const wallSeconds = (Date.now() - wall0) / 1000;
    await job.close();
    await bridge.stop();
    const end = bridge.status()!;
    bridge = null;
    return { setup, job, firstLine: lines[first], homed, end, wallSeconds, trace, traceStart };
  } finally {
    await bridge?.stop();
  }
}
