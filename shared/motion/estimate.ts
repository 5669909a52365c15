/**
 * Machine time without stepping: the runtime's own path (JobPath), pile and look-ahead planner, with
 * every block's planned duration summed instead of executed. Blocks are taken when the planner is
 * full, as the runtime takes them, so this agrees with the simulated machine up to the start of the
 * job and the homing (docs/runtime.md, "Estimates"). Also the floor (the bound no machine with these
 * axes can beat) and the thread length.
 */
import { MachineProfile, hookXMm, hookYMm, mmToSteps } from '../machine';
import { wrapDirection } from '../geometry/wrap';
import { Pile } from './pile';
import { JobPath, PT_STRIDE, PathMaker } from './job';
import { Planner } from './planner';
import { Profile } from './profile';

export interface MotionEstimate {
  /** Motion time of the job from the homed position to the end (s); colour pauses not counted. */
  seconds: number;
  blocks: number;
  /** Highest pile on any hook at the end (mm). */
  pileMm: number;
  /**
   * Motion time (s) from the homed position until line i (0 = the start, hooks.length − 1 = the last
   * line) has been handed to the planner: blocks are timed as the runtime takes them, so each figure
   * lags its line by the planner's look-ahead (a few lines), and the last one is `seconds`.
   */
  lineSeconds: number[];
}

/**
 * Run the job's path through the planner. ops: hooks ≥ 0 and colour changes −(c+1) in stream order
 * (a colour change stops the machine). exactStop: look-ahead off. dirs: the winding direction of
 * each hook in order when the plan fixes them (flanks), else the way the thread turns.
 */
export function estimateMotion(m: MachineProfile, ops: number[], exactStop: boolean, pathMaker?: PathMaker, dirs?: number[]): MotionEstimate {
  const pl = new Planner(m);
  pl.lookAhead = !exactStop;
  const path = pathMaker ? pathMaker : new JobPath(m);
  const pile = new Pile(m);
  const prof = new Profile();
  // After homing: the homed axes backed off their switches, z (when homed) at travel height.
  const homed = function (name: string): boolean {
    for (let i = 0; i < m.homingOrder.length; i++) if (m.homingOrder[i] === name) return true;
    return false;
  };
  const hx = homed('x') ? m.axes.x.homing.backoffMm : 0;
  const hy = homed('y') ? m.axes.y.homing.backoffMm : 0;
  pl.reset(mmToSteps(m.axes.x, hx), mmToSteps(m.axes.y, hy), homed('z') ? mmToSteps(m.axes.z, m.wrap.travelHeightMm) : 0);
  let us = 0;
  let blocks = 0;
  const take = function (): void {
    const k = pl.head;
    if (pl.dwell[k] > 0) us = us + pl.dwell[k];
    else {
      prof.plan(pl.len[k], pl.vEntry[k], pl.vNom[k], pl.headExit(), pl.acc[k]);
      us = us + Math.floor(prof.totalTime * 1000000 + 0.5);
    }
    pl.pop();
    blocks = blocks + 1;
  };
  const push = function (n: number): void {
    for (let i = 0; i < n; i++) {
      const j = i * PT_STRIDE;
      while (pl.full()) take();
      if (path.pts[j + 4] < 0) pl.addDwell(path.pts[j + 3], -1, 0, -1);
      else pl.add(path.pts[j], path.pts[j + 1], path.pts[j + 2], path.pts[j + 3], path.pts[j + 4], -1);
    }
  };
  const flush = function (): void {
    while (pl.count > 0) take();
  };
  push(path.start(hx - m.board.originMm[0], hy - m.board.originMm[1], m.wrap.travelHeightMm, pile.runHeightMm()));
  const hooks: number[] = [];
  const stopAfter: boolean[] = [];
  let color = -1;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op >= 0) {
      hooks.push(op);
      stopAfter.push(false);
    } else {
      const c = -op - 1;
      if (hooks.length > 0 && c !== color) stopAfter[hooks.length - 1] = true;
      color = c;
    }
  }
  const lineSeconds: number[] = [0];
  for (let i = 0; i < hooks.length; i++) {
    const h = hooks[i];
    const prev = i > 0 ? hooks[i - 1] : -1;
    const next = i + 1 < hooks.length ? hooks[i + 1] : -1;
    const next2 = i + 2 < hooks.length ? hooks[i + 2] : -1;
    const dir = dirs ? dirs[i] : wrapDirection(m, prev, h, next);
    let nextDir = 0;
    if (next >= 0) nextDir = dirs ? dirs[i + 1] : wrapDirection(m, h, next, next2);
    pile.add(h);
    push(path.hook(h, dir, next, nextDir, pile.runHeightMm()));
    if (stopAfter[i]) flush();
    if (i > 0) lineSeconds.push(us / 1000000);
  }
  push(path.finish(pile.runHeightMm(), m.wrap.travelHeightMm));
  flush();
  if (lineSeconds.length > 1) lineSeconds[lineSeconds.length - 1] = us / 1000000;
  return { seconds: us / 1000000, blocks: blocks, pileMm: pile.maxMm(), lineSeconds: lineSeconds };
}

/**
 * The floor: Σ over the lines of max over the axes of |Δ position between the two hooks' centres| /
 * that axis' maxSpeedMmS: no machine with these axes strings the lines faster, whatever it does at
 * the hooks.
 */
export function floorSeconds(m: MachineProfile, hooks: number[]): number {
  let t = 0;
  for (let i = 1; i < hooks.length; i++) {
    const dx = Math.abs(hookXMm(m, hooks[i]) - hookXMm(m, hooks[i - 1])) / m.axes.x.maxSpeedMmS;
    const dy = Math.abs(hookYMm(m, hooks[i]) - hookYMm(m, hooks[i - 1])) / m.axes.y.maxSpeedMmS;
    t = t + (dx > dy ? dx : dy);
  }
  return t;
}

/**
 * Thread used, mm: the straight lines between hook centres plus one turn around every hook's shaft
 * (π·(hookDiameterMm + thread.widthMm) per wrap).
 */
export function threadMm(m: MachineProfile, hooks: number[]): number {
  let t = 0;
  for (let i = 1; i < hooks.length; i++) {
    const dx = hookXMm(m, hooks[i]) - hookXMm(m, hooks[i - 1]);
    const dy = hookYMm(m, hooks[i]) - hookYMm(m, hooks[i - 1]);
    t = t + Math.sqrt(dx * dx + dy * dy);
  }
  return t + hooks.length * Math.PI * (m.hooks.hookDiameterMm + m.thread.widthMm);
}
