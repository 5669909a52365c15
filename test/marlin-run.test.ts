/**
 * `hookline run --target marlin` AGAINST AN IMITATION OF MARLIN, NOT MARLIN: there is no Marlin
 * firmware on this machine (../shared/realchips has Grbl 1.1h and ConfigurableFirmata only), so the
 * controller here is test/helpers/fake-marlin.ts, Marlin 2.1's serial protocol written from its
 * source (queue.cpp, M114, M115, M503, M0/M108, M410) behind a real pty (socat). What real Marlin
 * would need: docs/targets/marlin.md. The protocol pieces (framing, resend bookkeeping) are checked
 * with fast-check below.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './fast-check-seed';
import { validateGantry } from '../host/machine/load';
import { generateGcode } from '../host/gcode/generate';
import type { Plan } from '../host/plan/types';
import { checkFramedLine, frameLine, marlinChecksum, parseMarlinLine } from '../host/controller/marlin-protocol';
import { MarlinLink } from '../host/controller/marlin-link';
import type { ByteLink } from '../host/link/serial';
import { repoRoot, runCli, spawnCli, stderrLines, tempDir } from './helpers/cli';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';
import { fakeMarlinOnPort, type ArcRecord, type FakeMarlin, type FakeMarlinOptions } from './helpers/fake-marlin';

const machinePath = join(repoRoot, 'machines/ref-gantry.json');
const machine = validateGantry(JSON.parse(readFileSync(machinePath, 'utf8')), machinePath);
/** The imitation's clock runs this much faster than the wall's (a 4-line job takes ~20 s of machine time). */
const SPEED = 4;

interface Rig { pty: PtyPair; marlin: FakeMarlin; close(): Promise<void> }
async function rig(opts: FakeMarlinOptions): Promise<Rig> {
  const pty = await ptyPair();
  const { marlin, close } = await fakeMarlinOnPort(pty.b, machine, { speed: SPEED, ...opts });
  return { pty, marlin, close: async () => { await close(); pty.close(); } };
}

/** Turns as the plan's turns: centre (the G-code rounds it to 0.001 mm) and direction, else null. */
const asPlanned = (turns: [number, number, number][], planned: [number, number, number][]) =>
  turns.map((t, i) => (planned[i] && Math.abs(planned[i][0] - t[0]) < 0.01 && Math.abs(planned[i][1] - t[1]) < 0.01 && planned[i][2] === t[2] ? i : null));

/** Whole turns the imitation ran: both half turns of a hook, every segment. */
function wholeTurns(arcs: ArcRecord[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i + 1 < arcs.length; i += 2) {
    const [a, b] = [arcs[i], arcs[i + 1]];
    if (a.ran === a.segments && b.ran === b.segments) out.push([a.cx, a.cy, a.turn]);
  }
  return out;
}

describe.skipIf(!hasSocat())('hookline run --target marlin (against a Marlin 2.1 imitation, not real Marlin)', () => {
  const dir = tempDir('hookline-marlin-run-');
  let hls: string;
  /** The hook turns of the whole plan, from the generator: centre and direction. */
  let planned: [number, number, number][];
  const rigs: Rig[] = [];
  beforeAll(() => {
    expect(runCli(['plan', 'examples/coffee.png', '--lines', '4', '-o', join(dir, 'p'), '--quiet']).code).toBe(0);
    hls = join(dir, 'p/plan.hls');
    expect(runCli(['encode', join(dir, 'p/plan.json'), '--machine', machinePath, '-o', hls]).code).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, 'p/plan.json'), 'utf8')) as Plan;
    const prog = generateGcode(plan, machine, { dialect: 'marlin', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: 'p' }).program;
    planned = prog.filter((l) => l.woundAfter).map((l) => [l.centre![0], l.centre![1], l.turn!]);
  }, 60_000);
  afterAll(async () => {
    for (const r of rigs) await r.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (opts: FakeMarlinOptions) => {
    const r = await rig(opts);
    rigs.push(r);
    return r;
  };
  const run = (port: string, out: string, extra: string[] = []) =>
    spawnCli(['run', hls, '--target', 'marlin', '--port', port, '--machine', machinePath, '--yes', '-o', out, ...extra], 120_000);

  it('silence, garbage, a Grbl banner: one line each, exit 2, within 10 s', async () => {
    const [silent, garbage, grbl] = await Promise.all([start({ mode: 'silent' }), start({ mode: 'garbage' }), start({ mode: 'grbl' })]);
    const rs = await Promise.all([silent, garbage, grbl].map((r, i) => run(r.pty.a, join(dir, `id${i}`)).done));
    for (const r of rs) {
      expect(r.code, r.stderr).toBe(2);
      expect(stderrLines(r.stderr)).toHaveLength(1);
      expect(r.ms).toBeLessThan(10_000 + 3000); // + the node start of a busy machine
    }
    expect(rs[0].stderr).toMatch(/^hookline: run --target marlin: nothing answered on .* within 5 s \(M110 and M115 sent\); .*--baud/);
    expect(rs[1].stderr).toMatch(/^hookline: run --target marlin: .* answered, but not as Marlin \(got '.*'…?\); check --baud/);
    expect(rs[2].stderr).toMatch(/^hookline: run --target marlin: .* is a Grbl board \(it said 'Grbl 1\.1h \['\$' for help\]'\), not Marlin; use --target grbl$/m);
  }, 40_000);

  it('a Marlin with its default settings: the differences in one line, exit 2, nothing moved', async () => {
    const r0 = await start({ settings: 'defaults' });
    const r = await run(r0.pty.a, join(dir, 'r0')).done;
    expect(r.code, r.stderr).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hookline: run --target marlin: Marlin's settings differ from .*ref-gantry\.json: M92 X80 \(profile 20: x steps\/mm\), .*M203 Z5 \(profile 20: z max feedrate, mm\/s\).*M201 Z100 \(profile 200: z max acceleration, mm\/s²\); nothing was moved; .*--apply-settings/);
    expect(r0.marlin.commands.filter((c) => /^G[0-3]\b|^G28/.test(c))).toEqual([]);
    expect(r0.marlin.homed).toBe(false);
  }, 30_000);

  it('--apply-settings, G28, the plan to done with a corrupted line resent; every hook turned once, in order', async () => {
    const r0 = await start({ settings: 'defaults', corruptLines: [20] });
    const out = join(dir, 'r1');
    const r = await run(r0.pty.a, out, ['--apply-settings']).done;
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/^marlin: Marlin 2\.1\.2\.1 on .*; sent \d+ settings from .*ref-gantry\.json \(M92\/M203\/M201\/M205, not saved: no M500; .*\); EMERGENCY_PARSER on; homing$/m);
    expect(r.stdout).toMatch(/^run OK: 4 lines done on Marlin; job [\d.]+ s after homing, \d+ G-code lines, 1 resent$/m);
    expect(r0.marlin.resends).toBe(1);
    expect(r0.marlin.commands).not.toContain('M500');
    expect(r0.marlin.steps).toEqual([20, 20, 400]);
    expect(asPlanned(wholeTurns(r0.marlin.arcs), planned)).toEqual(planned.map((_, i) => i));
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep).toMatchObject({ ok: true, wound: planned.length, resent: 1 });
    expect(rep.events).toContain('Resend: 20');
    expect(JSON.parse(readFileSync(`${hls}.resume.json`, 'utf8'))).toMatchObject({ target: 'marlin', why: 'done', wound: planned.length });
  }, 60_000);

  it('a power cut mid-job: the run stops with --resume in the message; --resume re-homes and finishes, every hook turned exactly once', async () => {
    const a = await start({ settings: 'profile' });
    const outA = join(dir, 'r2');
    const p = run(a.pty.a, outA);
    await p.waitStderr(/homed in/);
    // Cut when the second hook is wound (M400 answered after it), mid-way through the third.
    const t0 = Date.now();
    while (wholeTurns(a.marlin.arcs).length < 2 && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => setTimeout(res, 300));
    a.marlin.powerCut();
    await a.close();
    const ra = await p.done;
    expect(ra.code, ra.stderr + ra.stdout).toBe(1);
    const last = stderrLines(ra.stderr).pop()!;
    expect(last).toMatch(/^hookline: (?:the controller disconnected|Marlin stopped answering) at line (\d+) of 4.*; run again with --resume to re-home and continue at line \1 of 4$/);
    const point = JSON.parse(readFileSync(`${hls}.resume.json`, 'utf8'));
    const turnsA = wholeTurns(a.marlin.arcs);
    expect(point.wound).toBeGreaterThanOrEqual(2);
    expect(point.wound).toBeLessThanOrEqual(turnsA.length);

    const b = await start({ settings: 'profile' });
    const rb = await run(b.pty.a, join(dir, 'r3'), ['--resume']).done;
    expect(rb.code, rb.stderr + rb.stdout).toBe(0);
    expect(rb.stderr).toMatch(new RegExp(`^marlin: resuming at line ${point.wound} of 4`, 'm'));
    expect(b.marlin.homed).toBe(true);
    expect(b.marlin.commands.indexOf('G28')).toBeLessThan(b.marlin.commands.findIndex((c) => /^G[23]\b/.test(c)));
    // Hooks wound before the cut and confirmed, then the rest: each once, in the plan's order.
    expect(asPlanned(turnsA.slice(0, point.wound).concat(wholeTurns(b.marlin.arcs)), planned)).toEqual(planned.map((_, i) => i));
  }, 60_000);
});

describe('Marlin line framing and resends (fast-check)', () => {
  it('a framed line passes Marlin\'s checks; one changed byte before the checksum fails them', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.stringMatching(/^[A-Z][0-9A-Z .\-]{0,40}$/).filter((t) => !t.includes('M110')), fc.nat(), (n, text, at) => {
      const framed = frameLine(n, text);
      const r = checkFramedLine(framed, n - 1);
      expect(r).toEqual({ ok: true, n, command: text });
      const star = framed.lastIndexOf('*');
      const i = 1 + (at % (star - 1)); // not the N itself: a line without N is taken unchecked (as Marlin does)
      const bad = framed.slice(0, i) + String.fromCharCode(framed.charCodeAt(i) ^ 0x01) + framed.slice(i + 1);
      expect(checkFramedLine(bad, n - 1).ok).toBe(false);
      expect(marlinChecksum(framed.slice(0, star))).toBe(Number(framed.slice(star + 1)));
    }));
  });

  it('Marlin\'s answers are read as Marlin means them', () => {
    expect(parseMarlinLine('ok')).toEqual({ kind: 'ok' });
    expect(parseMarlinLine('ok N12 P15 B3')).toEqual({ kind: 'ok' });
    expect(parseMarlinLine('Resend: 7')).toEqual({ kind: 'resend', n: 7 });
    expect(parseMarlinLine('rs N7')).toEqual({ kind: 'resend', n: 7 });
    expect(parseMarlinLine('Error:checksum mismatch, Last Line: 6').kind).toBe('line-error');
    expect(parseMarlinLine('Error:Printer halted. kill() called!')).toEqual({ kind: 'error', text: 'Printer halted. kill() called!' });
    expect(parseMarlinLine('echo:busy: processing')).toEqual({ kind: 'busy', text: 'processing' });
    expect(parseMarlinLine('X:10.00 Y:20.00 Z:13.00 E:0.00 Count X:200 Y:400 Z:5200')).toEqual({ kind: 'position', count: [200, 400, 5200], xyz: [10, 20, 13] });
    expect(parseMarlinLine('FIRMWARE_NAME:Marlin 2.1.2.1 (Jan  1 2024) SOURCE_CODE_URL:x')).toMatchObject({ kind: 'firmware', name: 'Marlin', version: '2.1.2.1' });
    expect(parseMarlinLine('echo:Unknown command: "M2"')).toEqual({ kind: 'unknown-command', command: 'M2' });
  });

  it('resend bookkeeping: over a line that corrupts any lines (one at a time, as ping-pong sends), every command runs once, in order, and each send resolves', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.stringMatching(/^G1 X[0-9]{1,3}$/), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), async (cmds, faults) => {
      // Marlin's reading of the line (queue.cpp), replying at once; `faults[k]`: the k-th line arriving is damaged.
      let lastN = 0;
      let arrivals = 0;
      let damagedLast = false;
      const ran: string[] = [];
      let dataFn: (b: Uint8Array) => void = () => {};
      const reply = (s: string) => queueMicrotask(() => dataFn(Buffer.from(s)));
      const link: ByteLink = {
        write(bytes) {
          for (const raw of Buffer.from(bytes).toString('latin1').split('\n').filter(Boolean)) {
            // Never twice running: a line refused 10 times is the sender's limit for a noisy line.
            const damaged = faults[arrivals++ % faults.length] && !damagedLast;
            damagedLast = damaged;
            const line = damaged ? raw.replace(/\*/, '0*') : raw;
            const r = checkFramedLine(line, lastN);
            if (!r.ok) {
              reply(`Error:checksum mismatch, Last Line: ${lastN}\nResend: ${lastN + 1}\nok\n`);
              continue;
            }
            if (r.n !== null) lastN = r.n;
            if (!/^M110/.test(r.command)) ran.push(r.command);
            reply('ok\n');
          }
        },
        onData(fn) { dataFn = fn; },
        onClose() {},
        close: async () => {},
      };
      const g = new MarlinLink(link);
      await g.resetNumbering();
      for (const c of cmds) await g.send(c);
      expect(ran).toEqual(cmds);
      expect(g.inflight()).toBe(0);
    }), { numRuns: 200 });
  });
});
