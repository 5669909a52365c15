import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineHash } from '../host/stream/machine-hash';
import { junitXml, type HilReport } from '../host/hil/reports';
import { refGantry } from './helpers/rig';
import { repoRoot, runCli, tempDir } from './helpers/cli';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';
import { rig, samplePath } from './helpers/rig';
import { LinkSession } from '../device/link-session';
import { FR_OK, FrameDecoder, encodeFrame } from '../shared/link/frame';
import { CMD_STATUS, REJECT_PROFILE, REJECT_VERSION, T_ACK, T_CMD, T_HELLO, T_HELLO_REPLY, T_REJECT, getUint, putUint } from '../shared/link/protocol';
import { ST_IDLE, ST_PAUSED, ST_RUNNING } from '../device/runtime';
import { encodeStream } from '../shared/stream/encoder';

const CASES = ['handshake', 'homing', 'malformed-frames', 'short-plan', 'pause-resume', 'abort', 'sequence-order'];
/**
 * Limits for a hang, not for speed: the suite waits on protocol events (host/hil/cases.ts), so on a
 * busy machine it takes longer and still passes. Idle: ~11 s against the native device, ~12 s
 * Espruino, 45-80 s NodeMCU in fengari (CPU-bound: it falls behind real time × 20); several times
 * that at load 10 on 2 cores (NodeMCU: 282 s at load 12, its device getting ~12 % of a core).
 */
const SUITE_LIMIT_MS = 600_000;
const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** A strict little XML reader for the JUnit file: balanced tags, quoted attributes, known entities only. */
function parseXml(xml: string): XmlNode {
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/;
  if (!decl.test(xml)) throw new Error('no XML declaration');
  const body = xml.replace(decl, '');
  const unescape = (s: string) => {
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(s) || /[<>]/.test(s)) throw new Error(`bad character data: ${s}`);
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const root: XmlNode = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = re.exec(body))) {
    at = re.lastIndex;
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += unescape(m[5]);
      continue;
    }
    if (m[1]) {
      if (top.name !== m[2]) throw new Error(`</${m[2]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3].matchAll(/([\w.-]+)="([^"]*)"/g)) attrs[a[1]] = unescape(a[2]);
    const node: XmlNode = { name: m[2], attrs, children: [], text: '' };
    top.children.push(node);
    if (!m[4]) stack.push(node);
  }
  if (at !== body.length) throw new Error(`not XML at offset ${at}: ${body.slice(at, at + 40)}`);
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> not closed`);
  if (root.children.length !== 1 || root.text.trim() !== '') throw new Error('not exactly one root element');
  return root.children[0];
}

/** The simulated machine on one end of a fresh socat pty pair, as its own process (runCli blocks this one). */
async function simulatedDevice(machine: string, speed: number, out: string, target = 'native'): Promise<{ pty: PtyPair; proc: ChildProcess; exit: Promise<number | null>; stop(): void }> {
  const pty = await ptyPair();
  const proc = spawn(process.execPath, [join(repoRoot, 'bin/hookline.js'), 'device', '--port', pty.b, '--machine', machine, '--speed', String(speed), '-o', out, '--target', target], { cwd: repoRoot });
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => proc.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hookline device did not start: ${stderr}`)), 60_000);
    proc.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('waiting for a host')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { pty, proc, exit, stop: () => { proc.kill(); pty.close(); } };
}

describe('device behaviour the suite checks, in process', () => {
  /** LinkSession on the simulated machine; returns a function that sends one host frame and gives back the device's answers. */
  function device() {
    const m = refGantry();
    const r = rig(m);
    const hash = machineHash(m);
    r.rt.setMachineHash(hash);
    r.rt.boot();
    const answers: { type: number; ack: number; payload: number[] }[] = [];
    const dec = new FrameDecoder();
    const dev = new LinkSession(r.rt, r.hal, hash, 2, (bytes) => {
      for (const b of bytes) if (dec.push(b) === FR_OK) answers.push({ type: dec.type, ack: dec.ack, payload: dec.payload.slice(0, dec.length) });
    });
    dev.boot();
    const send = (type: number, seq: number, payload: number[]) => {
      answers.length = 0;
      const b: number[] = [];
      encodeFrame(type, seq, 0, payload, b);
      for (const x of b) dev.push(x);
      return answers.slice();
    };
    return { send, hash };
  }

  it('a HELLO of another version or for another machine is refused and leaves the session at its sequence number', () => {
    const { send, hash } = device();
    expect(send(T_HELLO, 0, [1])[0].type).toBe(T_HELLO_REPLY);
    expect(send(T_CMD, 0, [CMD_STATUS]).find((f) => f.type === T_ACK)!.ack).toBe(1);
    const v = send(T_HELLO, 0, [2]);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ type: T_REJECT, payload: [REJECT_VERSION, 1] });
    expect(send(T_CMD, 1, [CMD_STATUS]).find((f) => f.type === T_ACK)!.ack).toBe(2);
    const wrong = [1];
    putUint(wrong, hash ^ 0x10, 4);
    const p = send(T_HELLO, 0, wrong);
    expect(p[0].type).toBe(T_REJECT);
    expect(p[0].payload[0]).toBe(REJECT_PROFILE);
    expect(getUint(p[0].payload, 1, 4)).toBe(hash);
    expect(send(T_CMD, 2, [CMD_STATUS]).find((f) => f.type === T_ACK)!.ack).toBe(3);
    // Its own hash, or none (0), opens a session as before.
    const own = [1];
    putUint(own, hash, 4);
    expect(send(T_HELLO, 0, own)[0].type).toBe(T_HELLO_REPLY);
    expect(send(T_CMD, 0, [CMD_STATUS]).find((f) => f.type === T_ACK)!.ack).toBe(1);
  });

  it('ABORT while paused drops the job and goes idle at once', () => {
    const m = refGantry();
    const { rt, run, mcu } = rig(m);
    rt.setMachineHash(machineHash(m));
    rt.boot();
    rt.home();
    expect(run(() => rt.state === ST_IDLE)).toBe(true);
    const s = encodeStream(samplePath(3, 16), 160, [0], { version: 4, machineHash: machineHash(m) });
    let i = 0;
    while (rt.status().hooksWrapped < 3) {
      while (i < s.length && rt.canAccept()) rt.feed(s[i++]);
      mcu.runNext();
    }
    expect(rt.state).toBe(ST_RUNNING);
    expect(rt.pause()).toBe(true);
    expect(run(() => rt.state === ST_PAUSED)).toBe(true);
    expect(rt.abort()).toBe(true);
    expect(rt.state).toBe(ST_IDLE);
    expect(rt.home()).toBe(true);
  });
});

describe('hil JUnit writer', () => {
  it('escapes details so the XML stays well formed', () => {
    const r: HilReport = {
      format: 'hookline-hil-report', version: 1, suite: 'hookline hil', startedAt: '2026-01-01T00:00:00.000Z', port: '/dev/x"<1>', baud: 115200,
      machine: null, device: null,
      cases: [
        { name: 'a&b', ok: false, skipped: false, ms: 5, detail: 'CRC <0x12> & "quoted" \x01 \'x\'' },
        { name: 'c', ok: false, skipped: true, ms: 0, detail: 'skipped: <why>' },
        { name: 'd', ok: true, skipped: false, ms: 1234, detail: 'fine' },
      ],
      summary: { total: 3, passed: 1, failed: 1, skipped: 1, ms: 1239, ok: false },
    };
    const suite = parseXml(junitXml(r)).children[0];
    const [a, c, d] = suite.children.filter((n) => n.name === 'testcase');
    expect(a.attrs.name).toBe('a&b');
    expect(a.children[0].name).toBe('failure');
    expect(a.children[0].attrs.message).toBe('CRC <0x12> & "quoted"  \'x\'');
    expect(c.children[0].name).toBe('skipped');
    expect(d.attrs.time).toBe('1.234');
    expect(suite.attrs).toMatchObject({ tests: '3', failures: '1', skipped: '1' });
  });
});

describe.skipIf(!hasSocat())('hookline hil against the simulated device on a real pty pair (socat + serialport)', () => {
  it('passes every case; the JSON and JUnit reports are well formed; the device strung everything without a violation', async () => {
    const dir = tempDir();
    const dev = await simulatedDevice('machines/ref-gantry.json', 50, join(dir, 'device'));
    try {
      const r = runCli(['hil', '--port', dev.pty.a, '--machine', 'machines/ref-gantry.json', '-o', dir], { timeoutMs: SUITE_LIMIT_MS });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, -1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(CASES.map((c) => `PASS ${c}`));
      expect(lines[lines.length - 1]).toMatch(/^hil OK: 7 passed, 0 failed, 0 skipped in [\d.]+ s; wrote .*hil\.json, .*hil\.xml$/);
      expect(r.code).toBe(0);

      const json = JSON.parse(readFileSync(join(dir, 'hil.json'), 'utf8')) as HilReport;
      expect(json).toMatchObject({
        format: 'hookline-hil-report', version: 1, suite: 'hookline hil', port: dev.pty.a, baud: 115200,
        machine: { path: 'machines/ref-gantry.json', name: 'ref-gantry', hash: hex(machineHash(refGantry())) },
        device: { protocolVersion: 1, firmware: '0.1', machineHash: hex(machineHash(refGantry())), capabilities: 2, window: 8, rxBuffer: 256 },
        summary: { total: 7, passed: 7, failed: 0, skipped: 0, ok: true },
      });
      expect(json.cases.map((c) => c.name)).toEqual(CASES);
      for (const c of json.cases) {
        expect(c).toMatchObject({ ok: true, skipped: false });
        expect(c.ms).toBeGreaterThanOrEqual(0);
        expect(c.detail.length).toBeGreaterThan(10);
      }
      expect(json.cases[3].detail).toMatch(/^16 lines .* device: line 16\/16, 17 hooks stored/);
      expect(json.cases[6].detail).toMatch(/[1-9]\d* out of order, [1-9]\d* duplicates, [1-9]\d* stale, [1-9]\d* overlapping, all answered right \(slowest answer \d+ ms\)/);
      // Pause and abort get the end of the stream only with their command: the plan never finishes first.
      expect(json.cases[4].detail).toMatch(/^paused at line \d+\/16 .* resumed to done at line 16$/);
      expect(json.cases[5].detail).toMatch(/^abort while running: idle after hook \d+ of 17; abort while paused: idle after hook \d+ of 17$/);

      const suites = parseXml(readFileSync(join(dir, 'hil.xml'), 'utf8'));
      expect(suites.name).toBe('testsuites');
      const suite = suites.children[0];
      expect(suite.attrs).toMatchObject({ name: 'hookline hil', tests: '7', failures: '0', errors: '0', skipped: '0' });
      const cases = suite.children.filter((n) => n.name === 'testcase');
      expect(cases.map((n) => n.attrs.name)).toEqual(CASES);
      for (const n of cases) expect(n.children.map((k) => k.name)).toEqual(['system-out']);

      // The device goes quiet 1 s after the host does and reports what its machine did.
      expect(await dev.exit).toBe(0);
      const devReport = JSON.parse(readFileSync(join(dir, 'device', 'report.json'), 'utf8'));
      expect(devReport.state).toBe('done');
      expect(devReport.violations).toEqual([]);
    } finally {
      dev.stop();
    }
  }, SUITE_LIMIT_MS + 60_000);

  // The targets' built apps (their own main, link session and HAL) behind the pty: the NodeMCU Lua
  // runs in fengari, slower than real time × 20, so its device falls behind and the suite waits
  // (every wait is for a protocol event; an ACK may take seconds on a busy machine).
  it.each([['espruino', 50], ['nodemcu', 20]] as const)('passes every case against the %s firmware (hookline device --target)', async (target, speed) => {
    const dir = tempDir();
    const dev = await simulatedDevice('machines/ref-gantry.json', speed, join(dir, 'device'), target);
    try {
      const r = runCli(['hil', '--port', dev.pty.a, '--machine', 'machines/ref-gantry.json', '-o', dir], { timeoutMs: SUITE_LIMIT_MS });
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, -1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(CASES.map((c) => `PASS ${c}`));
      expect(r.code).toBe(0);
      expect(await dev.exit).toBe(0);
      const devReport = JSON.parse(readFileSync(join(dir, 'device', 'report.json'), 'utf8'));
      expect(devReport.state).toBe('done');
      expect(devReport.violations).toEqual([]);
    } finally {
      dev.stop();
    }
  }, SUITE_LIMIT_MS + 60_000);

  it('fails the handshake case (exit 1) when --machine is not the machine the device runs, and skips the rest', async () => {
    const dir = tempDir();
    const other = { ...refGantry(), name: 'other-gantry' };
    other.axes = { ...other.axes, x: { ...other.axes.x, maxSpeedMmS: 180 } };
    const otherPath = join(dir, 'other.json');
    writeFileSync(otherPath, JSON.stringify(other));
    const dev = await simulatedDevice('machines/ref-gantry.json', 50, join(dir, 'device'));
    try {
      const r = runCli(['hil', '--port', dev.pty.a, '--machine', otherPath, '--json', join(dir, 'r.json'), '--junit', join(dir, 'r.xml')], { timeoutMs: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const want = `machine hash mismatch: the device runs ${hex(machineHash(refGantry()))}, ${otherPath} is ${hex(machineHash(other))}`;
      expect(r.stdout.split('\n')[0]).toMatch(/^FAIL handshake \(\d+ ms\): /);
      expect(r.stdout.split('\n')[0]).toContain(want);
      expect(r.stdout).toMatch(/^hil FAILED: 0 passed, 1 failed, 6 skipped/m);
      const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as HilReport;
      expect(json.cases[0]).toMatchObject({ name: 'handshake', ok: false, skipped: false, detail: want });
      expect(json.cases.slice(1).every((c) => c.skipped && !c.ok && c.detail === 'skipped: the handshake case failed')).toBe(true);
      expect(json.summary).toMatchObject({ total: 7, passed: 0, failed: 1, skipped: 6, ok: false });
      const suite = parseXml(readFileSync(join(dir, 'r.xml'), 'utf8')).children[0];
      expect(suite.attrs).toMatchObject({ failures: '1', skipped: '6' });
      const first = suite.children.find((n) => n.name === 'testcase')!;
      expect(first.children[0]).toMatchObject({ name: 'failure', attrs: { message: want } });
    } finally {
      dev.stop();
    }
  }, 180_000);

  it('a port that does not answer ends the suite after 10 s of HELLOs with one line, exit 2', async () => {
    const pty = await ptyPair();
    try {
      // The 10 s are the suite's own (its message names them); the wall limit is for a hang only:
      // on a busy machine node's start-up alone can take seconds.
      const r = runCli(['hil', '--port', pty.a, '--machine', 'machines/ref-gantry.json'], { timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`hookline: hil: the port ${pty.a} does not answer: no reply to HELLO in 10 s; check --port, --baud and that the device runs hookline firmware\n`);
    } finally {
      pty.close();
    }
  }, 180_000);
});
