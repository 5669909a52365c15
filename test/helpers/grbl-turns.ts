/**
 * Judging a G-code job by what the controller reported: the turns a G-code file asks for, and the
 * turns the machine made according to its own position reports.
 */
import type { MachineProfile } from '../../shared/machine';

export interface Arc { cx: number; cy: number; dir: number }

/** The G2/G3 turns of a G-code file, in order: centre (work mm) and direction (G3 = +1). */
export function arcsOf(gcode: string): Arc[] {
  const arcs: Arc[] = [];
  let x = 0;
  let y = 0;
  let lastWasArc = false;
  for (const raw of gcode.split('\n')) {
    const line = raw.split(';')[0].trim();
    const w = new Map(line.split(/\s+/).slice(1).map((t) => [t[0], Number(t.slice(1))] as const));
    const g = line.split(/\s+/)[0];
    if (g === 'G2' || g === 'G3') {
      const arc = { cx: Math.round((x + w.get('I')!) * 1000) / 1000, cy: Math.round((y + w.get('J')!) * 1000) / 1000, dir: g === 'G3' ? 1 : -1 };
      const last = arcs[arcs.length - 1];
      // A turn is written as two half turns; the next one starts after a lift.
      if (!(last && lastWasArc && Math.hypot(last.cx - arc.cx, last.cy - arc.cy) < 0.005 && last.dir === arc.dir)) arcs.push(arc);
    }
    if (line) lastWasArc = g === 'G2' || g === 'G3';
    if (/^G[0-3]$/.test(g)) {
      x = w.get('X') ?? x;
      y = w.get('Y') ?? y;
    }
  }
  return arcs;
}

export interface Turn {
  cx: number;
  cy: number;
  sweep: number;
  /** Steps between reports close together (≤ 2.5 rad) that turned the G-code's way, and against it. */
  agreeing: number;
  opposed: number;
}

/**
 * The turns the machine made, from positions it reported (work mm): runs of samples below the
 * middle of run and travel height, near one of the arcs' centres at the wrap radius; the sum of
 * the angle steps around that centre gives the direction and how far it went.
 */
export function turnsSeen(points: readonly (readonly number[])[], arcs: readonly Arc[], m: MachineProfile): Turn[] {
  const zMid = (m.wrap.wrapHeightMm + m.wrap.travelHeightMm) / 2;
  const R = m.wrap.radiusMm;
  const out: (Turn & { a: number })[] = [];
  let cur: (Turn & { a: number }) | null = null;
  for (const [x, y, z] of points) {
    const c = z < zMid ? arcs.find((a) => Math.abs(Math.hypot(x - a.cx, y - a.cy) - R) < 0.5) : undefined;
    if (!c) {
      cur = null;
      continue;
    }
    const ang = Math.atan2(y - c.cy, x - c.cx);
    if (!cur || cur.cx !== c.cx || cur.cy !== c.cy) {
      cur = { cx: c.cx, cy: c.cy, sweep: 0, agreeing: 0, opposed: 0, a: ang };
      out.push(cur);
      continue;
    }
    let d = ang - cur.a;
    while (d > Math.PI) d -= 2 * Math.PI;
    while (d <= -Math.PI) d += 2 * Math.PI;
    // Two reports more than ~140° apart (the host was late to ask: a busy machine) say nothing
    // about the way round; such a step is counted the way the G-code turns. The steps between
    // reports close together decide the sign of the sweep.
    if (Math.abs(d) > 2.5) d = c.dir > 0 ? (d + 2 * Math.PI) % (2 * Math.PI) : -((-d + 2 * Math.PI) % (2 * Math.PI));
    else if (Math.abs(d) > 1e-6) {
      if (Math.sign(d) === c.dir) cur.agreeing++;
      else cur.opposed++;
    }
    cur.sweep += d;
    cur.a = ang;
  }
  return out.map(({ cx, cy, sweep, agreeing, opposed }) => ({ cx, cy, sweep, agreeing, opposed }));
}
