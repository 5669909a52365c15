/**
 * Runs the acceptance cases in order, one at a time, timing each: a case passes when it returns
 * (its detail says what it saw) and fails when it throws (the message is the reason). Cases that
 * need the handshake or the machine profile are skipped, with the reason, when those are missing.
 * A UserError (the port is silent or gone) ends the suite: the CLI exits 2.
 */
import { UserError } from '../errors';
import type { DeviceInfo } from '../link/session';
import type { AnyMachine } from '../machine/load';
import type { DeviceLink } from './device-link';
import type { HilPlan } from './plan';

export interface HilContext {
  link: DeviceLink;
  port: string;
  byteMs: number;
  machine: AnyMachine | null;
  machinePath: string | null;
  plan: HilPlan | null;
  /** Set by the handshake case when the device answered as this machine at this protocol version. */
  device: DeviceInfo | null;
  handshakeOk: boolean;
}

export interface HilCase {
  name: string;
  /** What the case checks, one line (docs/hil.md has the details). */
  checks: string;
  needsHandshake: boolean;
  needsMachine: boolean;
  run(ctx: HilContext): Promise<string>;
}

export interface CaseResult {
  name: string;
  ok: boolean;
  skipped: boolean;
  ms: number;
  detail: string;
}

export async function runCases(cases: HilCase[], ctx: HilContext, onResult: (r: CaseResult) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    let r: CaseResult;
    const skip = c.needsMachine && !ctx.machine
      ? 'skipped: needs --machine (the built-in plan is made for the machine profile)'
      : c.needsHandshake && !ctx.handshakeOk ? 'skipped: the handshake case failed' : null;
    if (skip) r = { name: c.name, ok: false, skipped: true, ms: 0, detail: skip };
    else {
      const t0 = performance.now();
      try {
        const detail = await c.run(ctx);
        r = { name: c.name, ok: true, skipped: false, ms: Math.round(performance.now() - t0), detail };
      } catch (e) {
        if (e instanceof UserError) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        r = { name: c.name, ok: false, skipped: false, ms: Math.round(performance.now() - t0), detail: msg };
      }
    }
    results.push(r);
    onResult(r);
  }
  return results;
}
