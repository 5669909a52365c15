/**
 * A simulation target: how the device runtime is brought up on the virtual microcontroller.
 * `native` constructs the TypeScript Runtime directly; the others load a *built artifact*
 * (the Espruino ES5 bundle in node:vm, the NodeMCU Lua in a Lua VM, the Johnny-Five runtime over
 * Firmata) behind an API shim of that platform, wired to the same VirtualMcu, so the verifier judges
 * exactly what would run on the board.
 */
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';
import type { RuntimeFaults, RuntimeStatus } from '../../device/runtime';
import type { VirtualMcu } from '../mcu';
import type { CostSource } from '../chip/cpu';

/** The part of device/runtime.ts's Runtime that the simulator's host side drives. */
export interface DeviceRuntime {
  readonly state: number;
  setMachineHash(hash: number): void;
  boot(): void;
  home(): boolean;
  canAccept(): boolean;
  feed(byte: number): boolean;
  resume(): boolean;
  pause(): boolean;
  abort(): boolean;
  status(): RuntimeStatus;
}

export interface TargetDevice {
  runtime: DeviceRuntime;
  /** Lines the firmware printed (time-stamped by the shim), oldest first. */
  log: string[];
  /** Persistent storage as the firmware left it (-1 when unset). */
  storageRead(key: string): number;
  /** Flash writes the firmware made, or -1 where the target does not model its flash. */
  storageWrites(): number;
}

/** A board's firmware running its own main on the virtual MCU, its serial port bridged to a host. */
export interface FirmwareApp {
  /** Bytes from the host for the firmware's serial port. */
  receive(bytes: Uint8Array): void;
  /** Lines the firmware printed. */
  log: string[];
}

export interface SimTarget {
  name: string;
  /**
   * The target's homing seeks start and stop at their speed (Johnny-Five: the board's AccelStepper
   * runs them with runSpeed), so acceleration is judged from the start of the job, not the first
   * step. The runtime's own stepper ramps its seeks (device/stepper.ts).
   */
  homingAtSpeed?: boolean;
  /**
   * The target's seeks towards a switch are stopped by a host on the switch's report (Johnny-Five:
   * the board's digital report, then STOP), so an axis runs past its switch for that round trip:
   * while homing the verifier lets it go that many ms of its seek speed (+1 step) beyond the switch.
   */
  homingOvertravelMs?: number;
  // (Both read after create(): a target may resolve its board there.)
  /**
   * How late a step may come on the target's board, µs, when the verifier judges velocity from step
   * intervals (default 1 µs: the runtime times its own steps). Johnny-Five: a step due while the Uno
   * runs another axis' AccelStepper pass waits for it.
   */
  stepJitterUs?: number;
  /**
   * The chips whose cost this target can charge (`hookline sim --chip NAME`), each with where its
   * figures come from. When mcu.cpu is set (sim/chip/cpu.ts) the target charges the interpreter's
   * work to it as the work happens. A target without a model for the chip is refused by the sim
   * rather than run uncharged.
   */
  costModels?: Record<string, CostSource>;
  /**
   * Bring the runtime up on mcu: its pins and its timer (timer slot 0; slot 1 belongs to the
   * simulator's operator). The runtime is constructed but not booted. `ring` is given for a ring
   * machine (then `machine` is its axes, shared/geometry/ring.ts ringAxes).
   */
  create(mcu: VirtualMcu, machine: MachineProfile, ring: RingProfile | null, faults: RuntimeFaults): TargetDevice;
}
