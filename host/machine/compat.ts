import { UserError } from '../errors';
import { type Plan, planHooks, planPath } from '../plan/types';
import { type MachineProfile, hookXMm, hookYMm } from '../../shared/machine';
import { ringAxes } from '../../shared/geometry/ring';
import { Pile } from '../../shared/motion/pile';
import type { AnyMachine } from './load';

/**
 * Where a plan meets a machine (encode --machine, sim --plan, gcode): the one check that the plan
 * can be built on that machine, naming the first mismatch and the fix (docs/machines.md
 * "Plan and machine"). Throws a one-line UserError.
 *
 * - frame: a machine's hooks are a circle, so the plan's frame must be `circle`;
 * - hook count: the same;
 * - hook circle and every hook: within a quarter of the machine's hook diameter of the machine's
 *   hook (a thread drawn to the plan's hook lands on the middle half of the real shaft); a board
 *   size that differs by more is named as such;
 * - hook diameter (flanked plans): within max(0.5 mm, 25 %) of the machine's, so a flank (the plan's
 *   tangent point, hook radius + half the thread from the centre) is within 0.25 mm of the real one;
 * - thread: the plan's thread width within a factor 2 of the profile's thread.widthMm (the planner's
 *   darkness model draws every line that wide: a factor 2 is a different picture);
 * - pile: the path never piles thread up to the hook heads (pileOverflow: the runtime's own rule).
 */
export function checkPlanOnMachine(plan: Plan, machine: AnyMachine, planName: string, machineName: string): void {
  const geo: MachineProfile = machine.kind === 'ring' ? ringAxes(machine) : machine;
  const m = `machine ${machine.name} (${machineName})`;
  const h = machine.hooks;
  const fail = (what: string, fix: string): never => {
    throw new UserError(`${planName} cannot be built on ${m}: ${what}; ${fix}`);
  };
  const size = Math.min(plan.board.widthMm, plan.board.heightMm);
  const replan = `re-plan with --hooks ${h.count} --board-mm ${fmt(h.diameterMm)} --frame circle`;
  if (plan.board.frame !== 'circle') {
    fail(`the plan is for a ${fmt(plan.board.widthMm)}×${fmt(plan.board.heightMm)} mm rect frame, the machine has a ${fmt(h.diameterMm)} mm circle of ${h.count} hooks`, `${replan} or use the matching --machine`);
  }
  const hooks = planHooks(plan);
  if (hooks.length !== h.count) {
    fail(`the plan has ${hooks.length} hooks but the machine has ${h.count} (hooks.count)`, `plan with --hooks ${h.count} or use the matching --machine`);
  }
  const tol = positionToleranceMm(machine);
  let worst = -1;
  let worstD = 0;
  hooks.forEach(([x, y], i) => {
    const d = Math.hypot(x - hookXMm(geo, i), y - hookYMm(geo, i));
    if (!(d <= tol) && !(d <= worstD)) {
      worst = i;
      worstD = d;
    }
  });
  if (worst >= 0) {
    const at = (k: number) => `hook ${k} at (${hooks[k][0].toFixed(2)}, ${hooks[k][1].toFixed(2)}) mm is ${Math.hypot(hooks[k][0] - hookXMm(geo, k), hooks[k][1] - hookYMm(geo, k)).toFixed(2)} mm from the machine's hook ${k} at (${hookXMm(geo, k).toFixed(2)}, ${hookYMm(geo, k).toFixed(2)})`;
    if (Math.abs(size - h.diameterMm) > 2 * tol) {
      fail(`the plan is for a ${fmt(size)} mm circle board, the machine has a ${fmt(h.diameterMm)} mm circle of hooks (${at(0)})`, `${replan} or use the matching --machine`);
    }
    fail(`${at(worst)} (more than ${fmt(tol)} mm, a quarter of hooks.hookDiameterMm)`, `${replan}, or give the machine's hook positions with --layout`);
  }
  if (plan.hookDiameterMm !== undefined) {
    const d = plan.hookDiameterMm;
    const slack = Math.max(0.5, 0.25 * h.hookDiameterMm);
    if (Math.abs(d - h.hookDiameterMm) > slack) {
      fail(`the plan is for ${fmt(d)} mm hooks, the machine's are ${fmt(h.hookDiameterMm)} mm (hooks.hookDiameterMm; at most ${fmt(slack)} mm apart)`, `re-plan with --hook-mm ${fmt(h.hookDiameterMm)} or use the matching --machine`);
    }
  }
  const t = plan.threadWidthMm;
  const mt = machine.thread.widthMm;
  if (t > 2 * mt || t < mt / 2) {
    fail(`the plan is for ${fmt(t)} mm thread, the profile's is ${fmt(mt)} mm (thread.widthMm; within a factor 2)`, `re-plan with --thread-mm ${fmt(mt)}, or set thread.widthMm to the thread you load`);
  }
  const path = planPath(plan);
  const over = pileOverflow(geo, plan.flanks === 2 ? path.map((n) => n >> 1) : path);
  if (over) fail(over.what, over.fix);
}

/** How far (mm) a plan's hook may be from the machine's: a quarter of the hook diameter. */
export function positionToleranceMm(machine: AnyMachine): number {
  return Math.max(0.01, machine.hooks.hookDiameterMm / 4);
}

/**
 * The runtime's pile rule (device/runtime.ts, shared/motion/pile.ts: alarm pile-full) over a hook
 * path, without moving: after each wrap the nozzle's run height (highest pile + clearance, at
 * least wrap.wrapHeightMm) must stay at or below hooks.headHeightMm − clearance. The first wrap that
 * breaks it, in words, or null. The same rule for sim (the runtime alarms), estimate and gcode.
 */
export function pileOverflow(m: MachineProfile, hooks: number[]): { index: number; hook: number; what: string; fix: string } | null {
  const pile = new Pile(m);
  for (let i = 0; i < hooks.length; i++) {
    pile.add(hooks[i]);
    if (!pile.fits()) {
      const layer = m.thread.widthMm * m.pile.packing;
      const room = m.hooks.headHeightMm - 2 * m.pile.clearanceMm;
      const wraps = Math.max(0, Math.floor(room / layer + 1e-9));
      return {
        index: i, hook: hooks[i],
        what: `wrap ${i + 1} of ${hooks.length} (hook ${hooks[i]}) piles thread ${fmt(pile.maxMm())} mm high and the nozzle would run at ${fmt(pile.runHeightMm())} mm, above the hook heads less the clearance (hooks.headHeightMm ${fmt(m.hooks.headHeightMm)} − pile.clearanceMm ${fmt(m.pile.clearanceMm)}): a hook holds ${wraps} wrap${wraps === 1 ? '' : 's'} of ${fmt(m.thread.widthMm)} mm thread (× packing ${fmt(m.pile.packing)}), the machine would stop with pile-full`,
        fix: 'use fewer lines, more hooks, thinner thread or longer hooks',
      };
    }
  }
  return null;
}

function fmt(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}
