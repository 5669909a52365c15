/**
 * The thread pile: every wrap adds a layer of thread to its hook, thread.widthMm × pile.packing high
 * (packing > 1: turns do not lie perfectly). The nozzle runs at one height for crossing the board and
 * circling a hook, run height = max(wrap.wrapHeightMm, highest pile + pile.clearanceMm): above
 * every thread already strung (threads leave their hooks at most at the top of the pile) and below
 * the hook heads. When that height would reach hooks.headHeightMm − pile.clearanceMm the hooks are
 * full (alarm pile-full). Device-safe: one number per hook.
 */
import { MachineProfile } from '../machine';
import { numberTable } from '../number-table';

export class Pile {
  readonly wraps: number[];
  maxWraps = 0;
  private layerMm: number;
  private m: MachineProfile;

  constructor(m: MachineProfile) {
    this.m = m;
    this.layerMm = m.thread.widthMm * m.pile.packing;
    this.wraps = numberTable(m.hooks.count);
  }

  reset(): void {
    for (let i = 0; i < this.wraps.length; i++) this.wraps[i] = 0;
    this.maxWraps = 0;
  }

  add(hook: number): void {
    const w = this.wraps[hook] + 1;
    this.wraps[hook] = w;
    if (w > this.maxWraps) this.maxWraps = w;
  }

  heightMm(hook: number): number {
    return this.wraps[hook] * this.layerMm;
  }

  maxMm(): number {
    return this.maxWraps * this.layerMm;
  }

  /** Nozzle height for crossing and wrapping with the pile as it is. */
  runHeightMm(): number {
    const h = this.maxMm() + this.m.pile.clearanceMm;
    return h > this.m.wrap.wrapHeightMm ? h : this.m.wrap.wrapHeightMm;
  }

  /** Whether the run height still leaves the clearance below the hook heads. */
  fits(): boolean {
    return this.runHeightMm() <= this.m.hooks.headHeightMm - this.m.pile.clearanceMm;
  }
}
