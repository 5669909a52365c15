/**
 * G-code for existing GRBL / Marlin gantries (docs/gcode.md).
 *
 * Per hook of the plan's path, in machine mm (board mm + board.originMm), the same wrap geometry
 * as the device runtime (shared/geometry/wrap.ts): come in to I = P − R·u inside the ring at
 * travel height, cross over the ring to O = P + R·u, drop below the hook head, one full turn
 * around P as two G2/G3 half turns (direction: the planned flank's, or the way the thread turns; sim/verify.ts
 * hooksAndDirections), rise, leave back to I.
 */
import { UserError } from '../errors';
import type { Plan } from '../plan/types';
import { nailsPerHook, planPath } from '../plan/types';
import { type MachineProfile, hookXMm, hookYMm } from '../../shared/machine';
import { hooksAndDirections } from '../../sim/verify';
import { hookLabel, pathPlace } from '../numbering';
import { grblSettings, grblWorkOffset } from './grbl-settings';
import { GcodeTimer } from './timing';

export type Dialect = 'grbl' | 'marlin';

export interface LiftOptions {
  /** 'z' (default): lift with the Z axis; 'servo': a servo lifts the nozzle, Z stays put. */
  mode: 'z' | 'servo';
  /** Servo value for "up" (above the hook heads) and "down" (winding), GRBL `M3 S…` / Marlin `M280 P0 S…`. */
  servoUp: number;
  servoDown: number;
}

export interface GcodeOptions {
  dialect: Dialect;
  lift: LiftOptions;
  /** Name shown in the header comment (the plan file). */
  planName: string;
  /**
   * Resume: the path index to start at (hooks before it are already wound: their thread pile is
   * counted, nothing is emitted for them). 0 or absent: the whole path.
   */
  startAt?: number;
}

/** What a sender needs to know about one G-code line it streams (the header's and comments excluded). */
export interface ProgramLine {
  /** The line as sent (no comment). */
  text: string;
  /** The path index of the hook this line works on; -1 before the first hook and after the last. */
  hook: number;
  /** Motion in work mm (G1/G2/G3): where it starts and ends; arcs also their centre and turn (+1 G3, −1 G2). */
  from?: [number, number, number];
  to?: [number, number, number];
  centre?: [number, number];
  turn?: 1 | -1;
  /** The second half turn of a hook: when it is done, that hook is wound. */
  woundAfter?: boolean;
  /** M0: a colour change (thread colour index to load). */
  loadColor?: number;
}

/**
 * The job a G-code file strings, machine-side: the hook path (machine hook indices), the
 * winding direction per hook, the colour of each line (line i runs from path[i] to path[i+1]).
 */
export interface GcodeJob {
  path: number[];
  dirs: number[];
  lineColors: number[];
  colors: string[];
  /** Flanked plan: hooks are labelled with their winding side (host/numbering.ts). */
  flanked: boolean;
}

/** The job of a plan: its path on the machine's hooks, sides as planned (or as the thread turns). */
export function planJob(plan: Plan, m: MachineProfile): GcodeJob {
  const { hooks, dirs } = hooksAndDirections(m, planPath(plan), nailsPerHook(plan));
  return { path: hooks, dirs, lineColors: plan.lines.map((l) => l[0]), colors: plan.colors, flanked: plan.flanks === 2 };
}

export interface GcodeResult {
  text: string;
  /** The lines a sender streams, in order, with what each does. */
  program: ProgramLine[];
  /** Estimated run time, seconds: hookline's motion planner (as `hookline estimate`) over the G-code's moves. */
  seconds: number;
  /** Distance / feed per move plus dwells, acceleration ignored (the header's figure before). */
  fullFeedSeconds: number;
  threadMm: number;
}

const SERVO_DWELL_S = 0.3;

function fmt(v: number): string {
  const s = v.toFixed(3).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

export function generateGcode(plan: Plan, m: MachineProfile, opts: GcodeOptions): GcodeResult {
  return generateJobGcode(planJob(plan, m), m, opts);
}

export function generateJobGcode(job: GcodeJob, m: MachineProfile, opts: GcodeOptions): GcodeResult {
  const { dialect, lift } = opts;
  const startAt = opts.startAt ?? 0;
  if (dialect === 'grbl' && lift.mode === 'servo') {
    throw new UserError("gcode: --lift servo with --dialect grbl: stock Grbl's M3 S… is spindle PWM (~1 kHz on D11), not a 50 Hz hobby-servo pulse; use --lift z (the Z axis), or --dialect marlin (M280)");
  }
  const ox = m.board.originMm[0];
  const oy = m.board.originMm[1];
  const R = m.wrap.radiusMm;
  const ax = m.axes;
  const xyFeed = Math.min(ax.x.maxSpeedMmS, ax.y.maxSpeedMmS) * 60;
  // Round the arc: centripetal acceleration v²/R within the smaller XY acceleration.
  const arcFeed = Math.min(xyFeed, Math.sqrt(Math.min(ax.x.accelMmS2, ax.y.accelMmS2) * R) * 60);
  const zFeed = ax.z.maxSpeedMmS * 60;
  const { path, dirs } = job;
  if (startAt < 0 || startAt >= Math.max(1, path.length)) throw new UserError(`gcode: cannot start at hook ${startAt} of a path of ${path.length}`);

  const out: string[] = [];
  const program: ProgramLine[] = [];
  /** The path index the lines pushed now belong to. */
  let atHook = -1;
  const emit = (text: string, info: Omit<ProgramLine, 'text' | 'hook'> = {}) => {
    out.push(text);
    program.push({ text, hook: atHook, ...info });
  };
  let seconds = 0;
  // Where homing leaves each axis: its pull-off from the switch (Grbl: one $27 for all axes).
  const grblPullOff = dialect === 'grbl' ? grblSettings(m).pullOffMm : 0;
  const homed = (a: MachineProfile['axes']['x']) => {
    const off = dialect === 'grbl' ? grblPullOff : a.homing.backoffMm;
    return a.homing.toMax === true ? a.travelMaxMm - off : a.travelMinMm + off;
  };
  // Grbl: hard limits are on, so nothing goes nearer a switch than the pull-off (soft limits are the travel).
  const lo = (a: MachineProfile['axes']['x']) => a.travelMinMm + (a.homing.toMax === true ? 0 : grblPullOff);
  const hi = (a: MachineProfile['axes']['x']) => a.travelMaxMm - (a.homing.toMax === true ? grblPullOff : 0);
  const kept = grblPullOff > 0 ? ` mm (the travel, kept the ${fmt(grblPullOff)} mm pull-off away from the endstops)` : '';
  let x = homed(ax.x);
  let y = homed(ax.y);
  let z = homed(ax.z);
  const timer = new GcodeTimer(m, x, y, z);
  let servoUp = true;

  const checkXY = (px: number, py: number, what: string) => {
    if (px < lo(ax.x) - 1e-9 || px > hi(ax.x) + 1e-9 || py < lo(ax.y) - 1e-9 || py > hi(ax.y) + 1e-9) {
      throw new UserError(`gcode: ${what} at (${fmt(px)}, ${fmt(py)}) mm is outside the travel x ${fmt(lo(ax.x))}..${fmt(hi(ax.x))}, y ${fmt(lo(ax.y))}..${fmt(hi(ax.y))}${kept}; fix board.originMm or the axes' travel in the profile`);
    }
  };
  const checkZ = (pz: number, what: string) => {
    if (pz < lo(ax.z) - 1e-9 || pz > hi(ax.z) + 1e-9) {
      throw new UserError(`gcode: ${what}: z ${fmt(pz)} mm is outside the z travel ${fmt(lo(ax.z))}..${fmt(hi(ax.z))}${kept}; fix the wrap heights or axes.z travel in the profile`);
    }
  };
  const moveXY = (px: number, py: number, what: string) => {
    checkXY(px, py, what);
    const d = Math.hypot(px - x, py - y);
    if (d < 1e-6) return;
    emit(`G1 X${fmt(px)} Y${fmt(py)} F${fmt(xyFeed)}`, { from: [x, y, z], to: [px, py, z] });
    seconds += d / (xyFeed / 60);
    timer.line(px, py, z, xyFeed / 60);
    x = px;
    y = py;
  };
  const moveZ = (pz: number, what: string) => {
    checkZ(pz, what);
    if (Math.abs(pz - z) < 1e-6) return;
    emit(`G1 Z${fmt(pz)} F${fmt(zFeed)}`, { from: [x, y, z], to: [x, y, pz] });
    seconds += Math.abs(pz - z) / (zFeed / 60);
    timer.line(x, y, pz, zFeed / 60);
    z = pz;
  };
  const servo = (up: boolean) => {
    if (servoUp === up) return;
    const s = up ? lift.servoUp : lift.servoDown;
    emit(dialect === 'grbl' ? `M3 S${fmt(s)}` : `M280 P0 S${fmt(s)}`);
    emit(`G4 P${dialect === 'grbl' ? fmt(SERVO_DWELL_S) : fmt(SERVO_DWELL_S * 1000)}`);
    seconds += SERVO_DWELL_S;
    timer.stop(SERVO_DWELL_S);
    servoUp = up;
  };
  const up = () => (lift.mode === 'z' ? moveZ(m.wrap.travelHeightMm, 'lift') : servo(true));
  const down = (h: number, hook: number) => (lift.mode === 'z' ? moveZ(h, `drop at hook ${hook}`) : servo(false));

  // Thread length: centre to centre plus one turn per hook (what the runtime's estimate counts too).
  let threadMm = 0;
  for (let i = 1; i < path.length; i++) {
    threadMm += Math.hypot(hookXMm(m, path[i]) - hookXMm(m, path[i - 1]), hookYMm(m, path[i]) - hookYMm(m, path[i - 1]));
  }
  threadMm += path.length * 2 * Math.PI * R;

  // Pile: each wrap adds thread.widthMm × packing to its hook; the nozzle runs above the highest pile.
  const pile = new Float64Array(m.hooks.count);
  let highest = 0;
  const ceiling = m.hooks.headHeightMm - m.pile.clearanceMm;

  const body: string[] = [];
  const colors = job.colors;
  const lineColors = job.lineColors;
  const colorName = (c: number) => `${colors[c]} (colour ${c + 1} of ${colors.length})`;
  const multi = new Set(lineColors).size > 1;
  const pause = (c: number, first: boolean) => {
    out.push(`; ---- ${first ? '' : 'colour change: '}load thread ${colorName(c)}`);
    emit(dialect === 'grbl' ? 'M0' : `M0 Load thread ${colors[c]}`, { loadColor: c });
    timer.stop();
  };

  // Header is assembled after the body (it carries the estimated time).
  if (lift.mode === 'servo') {
    emit(dialect === 'grbl' ? `M3 S${fmt(lift.servoUp)}` : `M280 P0 S${fmt(lift.servoUp)}`);
    emit(`G4 P${dialect === 'grbl' ? fmt(SERVO_DWELL_S) : fmt(SERVO_DWELL_S * 1000)}`);
  } else {
    moveZ(m.wrap.travelHeightMm, 'travel height');
  }
  if (startAt === 0 && multi && lineColors.length) pause(lineColors[0], true);

  // Resume: the hooks before startAt are wound; only their pile counts.
  for (let i = 0; i < startAt; i++) {
    pile[path[i]] += m.thread.widthMm * m.pile.packing;
    if (pile[path[i]] > highest) highest = pile[path[i]];
  }
  if (startAt > 0) out.push(`; ---- resume at hook ${hookLabel(path[startAt], job.flanked ? dirs[startAt] : null)} (line ${startAt} of ${path.length - 1}); the thread on the nozzle: ${colorName(lineColors[startAt - 1])}`);

  for (let i = startAt; i < path.length; i++) {
    atHook = i;
    const h = path[i];
    const px = hookXMm(m, h) + ox;
    const py = hookYMm(m, h) + oy;
    let ux = hookXMm(m, h) - m.hooks.centerMm[0];
    let uy = hookYMm(m, h) - m.hooks.centerMm[1];
    const ul = Math.hypot(ux, uy);
    ux /= ul;
    uy /= ul;
    const s = dirs[i];
    const runZ = Math.max(m.wrap.wrapHeightMm, highest + m.pile.clearanceMm);
    if (runZ > ceiling + 1e-9) {
      throw new UserError(`gcode: hook ${h} (${pathPlace(i)}): the thread pile (${fmt(highest)} mm) reaches the hook heads (hooks.headHeightMm ${m.hooks.headHeightMm}, clearance ${m.pile.clearanceMm}); use fewer lines or longer hooks`);
    }
    // As the instructions number them (host/numbering.ts): the winding after the hook on flanked plans, lines from 1.
    out.push(`; hook ${hookLabel(h, job.flanked ? s : null)} (${i === 0 ? 'start' : `line ${i} of ${path.length - 1}`}), ${s > 0 ? 'G3' : 'G2'}`);
    // The whole wrap circle must be inside the travel (the arc's extreme points).
    checkXY(px - R, py - R, `hook ${h}'s wrap circle`);
    checkXY(px + R, py + R, `hook ${h}'s wrap circle`);
    up();
    moveXY(px - R * ux, py - R * uy, `inside point of hook ${h}`);
    moveXY(px + R * ux, py + R * uy, `outside point of hook ${h}`);
    down(runZ, h);
    // One full turn as two half turns: O → I (centre offset P − O), then I → O (centre offset P − I).
    // Not one arc with end point = start point: Grbl computes the angle of such an arc in float32
    // from (O + I/J) − O, which is a few 1e-5 rad off zero far from the origin, and then turns by
    // that much instead of 360° when the sign comes out the wrong way (seen on stock Grbl 1.1h:
    // about half of the hooks were not wound, every line ok). A half turn is ±π either way.
    const g = s > 0 ? 'G3' : 'G2';
    const turn = s > 0 ? 1 : -1;
    emit(`${g} X${fmt(px - R * ux)} Y${fmt(py - R * uy)} I${fmt(-R * ux)} J${fmt(-R * uy)} F${fmt(arcFeed)}`, { from: [x, y, z], to: [px - R * ux, py - R * uy, z], centre: [px, py], turn });
    emit(`${g} X${fmt(x)} Y${fmt(y)} I${fmt(R * ux)} J${fmt(R * uy)}`, { from: [px - R * ux, py - R * uy, z], to: [x, y, z], centre: [px, py], turn, woundAfter: true });
    seconds += (2 * Math.PI * R) / (arcFeed / 60);
    timer.arc(x, y, px, py, s > 0 ? 2 * Math.PI : -2 * Math.PI, z, arcFeed / 60);
    pile[h] += m.thread.widthMm * m.pile.packing;
    if (pile[h] > highest) highest = pile[h];
    up();
    moveXY(px - R * ux, py - R * uy, `inside point of hook ${h}`);
    // Colour change between line i−1 (ending here) and line i (leaving from here).
    if (i < lineColors.length && i > 0 && lineColors[i] !== lineColors[i - 1]) pause(lineColors[i], false);
  }

  // End: lift, park where homing left X and Y (off the switches by the pull-off), end of program.
  atHook = -1;
  out.push('; ---- end');
  up();
  moveXY(homed(ax.x), homed(ax.y), 'park');
  // Marlin has no M2 (program end; unknown there): M400 waits until the last move is done.
  emit(dialect === 'grbl' ? 'M2' : 'M400');
  body.push(...out);

  const planned = timer.seconds();
  const hours = Math.floor(planned / 3600);
  const mins = Math.round((planned - hours * 3600) / 60);
  const header = [
    `; hookline gcode (${dialect}) for machine ${m.name}`,
    `; plan: ${opts.planName}`,
    `; lines: ${lineColors.length}, hooks in path: ${path.length}, colours: ${colors.join(' ')}`,
    `; thread: ${fmt(threadMm / 1000)} m`,
    `; estimated time: ${hours} h ${mins} min (${fmt(Math.round(planned))} s: hookline's motion planner over these moves, as hookline estimate; at full feed ${fmt(Math.round(seconds))} s)`,
    `; feeds: XY ${fmt(xyFeed)} mm/min, arcs ${fmt(arcFeed)} mm/min, Z ${fmt(zFeed)} mm/min; lift: ${lift.mode === 'z' ? 'Z' : `servo up S${fmt(lift.servoUp)} down S${fmt(lift.servoDown)}`}`,
    ...(dialect === 'grbl'
      ? [
        '; coordinates: work (G54) mm = board mm + board.originMm, Z = height above the board; stock Grbl homes to machine',
        `; positions -travel..0, G10 L2 P1 puts work = profile travel (X ${ax.x.travelMinMm}..${ax.x.travelMaxMm}, Y ${ax.y.travelMinMm}..${ax.y.travelMaxMm}, Z ${ax.z.travelMinMm}..${ax.z.travelMaxMm}); $ settings: hookline gcode --settings`,
        '$H',
        'G21',
        'G90',
        'G17',
        `G10 L2 P1 X${fmt(grblWorkOffset(m)[0])} Y${fmt(grblWorkOffset(m)[1])} Z${fmt(grblWorkOffset(m)[2])}`,
        'G54',
      ]
      : [
        '; coordinates: machine mm = board mm + board.originMm, Z = height above the board; G28 homes to the profile travel ends',
        'G21',
        'G90',
        'G17',
        'G28',
      ]),
  ];
  const headerProgram: ProgramLine[] = header.filter((l) => !l.startsWith(';')).map((text) => ({ text, hook: -1 }));
  return { text: header.concat(body).join('\n') + '\n', program: headerProgram.concat(program), seconds: planned, fullFeedSeconds: seconds, threadMm };
}
