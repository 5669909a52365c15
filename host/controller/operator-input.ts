/**
 * The operator's keys during a controller run: single keys on a terminal (raw mode), or one line
 * per command when stdin is a pipe (the first character counts; an empty line is Enter), and Ctrl-C.
 */
import { createInterface, type Interface } from 'node:readline';

export class OperatorInput {
  private keyFns: ((k: string) => void)[] = [];
  private interruptFn: (() => void) | null = null;
  private enterWaiters: (() => void)[] = [];
  private rl: Interface | null = null;
  private raw = false;
  private readonly onData = (d: Buffer) => {
    for (const ch of d.toString('utf8')) {
      if (ch === '\x03') this.interrupt();
      else this.key(ch === '\r' || ch === '\n' ? 'enter' : ch.toLowerCase());
    }
  };
  private readonly onSigint = () => this.interrupt();

  constructor() {
    const stdin = process.stdin;
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      this.raw = true;
      stdin.on('data', this.onData);
      stdin.resume();
    } else {
      this.rl = createInterface({ input: stdin, terminal: false });
      this.rl.on('line', (l) => {
        const t = l.trim().toLowerCase();
        this.key(t === '' ? 'enter' : t[0]);
      });
    }
    process.on('SIGINT', this.onSigint);
  }

  private key(k: string) {
    if (k === 'enter') {
      const w = this.enterWaiters.shift();
      if (w) return w();
    }
    for (const f of this.keyFns) f(k);
  }

  private interrupt() {
    if (this.interruptFn) return this.interruptFn();
    // Before the run is under way (identify, settings, homing): nothing to save; leave the terminal as it was.
    this.close();
    process.stderr.write('\ninterrupted before the job started\n');
    process.exit(130);
  }

  onKey(fn: (k: string) => void): void {
    this.keyFns.push(fn);
  }

  onInterrupt(fn: () => void): void {
    this.interruptFn = fn;
  }

  /** Show `prompt` on stderr and wait for Enter. */
  ask(prompt: string): Promise<void> {
    process.stderr.write(prompt);
    return new Promise((resolve) => this.enterWaiters.push(() => {
      process.stderr.write('\n');
      resolve();
    }));
  }

  close(): void {
    process.removeListener('SIGINT', this.onSigint);
    const stdin = process.stdin;
    if (this.raw) {
      stdin.removeListener('data', this.onData);
      stdin.setRawMode(false);
    }
    this.rl?.close();
    stdin.pause();
    (stdin as { unref?: () => void }).unref?.();
  }
}
