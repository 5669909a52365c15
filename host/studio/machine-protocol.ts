/**
 * What the studio server and its page say to each other about the machine (docs/studio.md, "Run the
 * machine"). Type-only: the page imports these too, so nothing here may touch Node.
 */
import type { BoardShape } from './protocol';

/** The simulated machine's port id in the list (the page's choice; never a path). */
export const SIM_PORT = 'sim';

/**
 * What drives the machine: the hookline device over the link protocol (docs/protocol.md), a Firmata
 * board driven by the runtime on the host (Johnny-Five), or a G-code controller (Grbl 1.1, Marlin 2)
 * streamed the plan's G-code as `hookline run --target grbl|marlin` does.
 */
export type MachineTarget = 'hookline' | 'johnny-five' | 'grbl' | 'marlin';
export const MACHINE_TARGETS: readonly MachineTarget[] = ['hookline', 'johnny-five', 'grbl', 'marlin'];

/** GET /api/machine/ports: the ports the server found (and the simulated machine). Only these can be opened. */
export interface PortInfo {
  /** What the page sends back to connect: the path, or SIM_PORT. */
  id: string;
  /** Shown in the list. */
  label: string;
  sim: boolean;
}

/** Where a run is. */
export type RunPhase =
  | 'starting' // handshake, homing, start (the HostSession's handshake and HOME)
  | 'running'
  | 'pausing' // pause sent, the machine finishes its planned moves
  | 'paused'
  | 'colour' // paused for a thread change: the operator confirms in the page
  | 'aborting'
  | 'done'
  | 'aborted'
  | 'failed'
  | 'interrupted'; // the port went away, or the server stopped: resume continues at the machine's stored line

export interface RunView {
  /** Changes with every new run: the page fetches the drawing (GET /api/machine/drawing) once per id. */
  id: string;
  phase: RunPhase;
  /** Lines the machine reports done, of lineCount. */
  line: number;
  lineCount: number;
  /** Colour index the machine strings now, and the plan's palette (#rrggbb). */
  color: number;
  palette: string[];
  /** Seconds left (motion estimate scaled by the machine's pace; colour changes not counted), null while unknown. */
  etaS: number | null;
  /** Machine state as the device reports it (boot, homing, running, paused, done, alarm…). */
  deviceState: string | null;
  /** A colour change waits for the operator: the colour to thread next. */
  colourPrompt: { index: number; value: string } | null;
  /** Device resets (power cuts) the run came through, and the line each start began at. */
  resets: number;
  startedAt: number[];
  machine: string;
  port: string;
  /** What runs it (the connection's target when the run started). */
  target: MachineTarget;
  /** Where the controller last reported the nozzle (Grbl's status report), board mm; null: not reported (the page shows the last hook). */
  nozzle: [number, number] | null;
  /** After a run on the simulated machine: what its verifier saw (the hooks it actually wrapped). */
  simReport: { wrapped: number; planned: number; exact: boolean; violations: number } | null;
}

export interface MachineState {
  /** This server's start (a restarted server counts seq from 0 again). */
  server: string;
  /** Grows with every change (the page ignores older snapshots of the same server). */
  seq: number;
  /** The tab (client id) that controls the machine; the others see it read-only. null: nobody yet. */
  controller: string | null;
  connection: 'off' | 'connecting' | 'connected';
  /** The connected port (id from the list) and its label, target and machine profile. */
  port: string | null;
  portLabel: string | null;
  target: MachineTarget | null;
  machine: string | null;
  /** The device's answer to the handshake. */
  device: { firmware: string; state: string; homed: boolean } | null;
  /** Homing under way (the Home button). */
  homing: boolean;
  run: RunView | null;
  /** One line for the page: what went wrong (or what happened), where, and how to go on. */
  message: { text: string; error: boolean } | null;
}

/** GET /api/machine/drawing: the run's board and lines (plan.json's), to draw progress and the nozzle. */
export interface RunDrawing extends BoardShape {
  id: string;
  lines: [number, number, number][];
}

/** POST /api/machine/connect body. */
export interface ConnectRequest {
  port: string;
  target: MachineTarget;
  /** A machine profile's name from GET /api/machines. */
  machine: string;
  /** The simulated machine's speed, × real time (1–100). */
  speed?: number;
  /** G-code controllers: write the profile's settings to the controller when they differ (the CLI's --apply-settings). */
  applySettings?: boolean;
}

/** POST /api/machine/run body: a finished plan of this server (its job id). */
export interface RunRequest {
  job: string;
  /** String only the plan's first N lines (the page's "first lines only"; absent or null: all). */
  firstLines?: number | null;
}
