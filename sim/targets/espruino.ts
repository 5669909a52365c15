/**
 * The Espruino target: the built app bundle (dist/espruino/app.js, the file `hookline flash
 * --target espruino` stores on the board) runs in node:vm over the Espruino API shim. The runtime
 * is constructed inside the VM on the bundle's own EspruinoHal (device/espruino/hal.ts), so every
 * pin edge and timer is the compiled ES5 code's.
 */
import { SEEK_POLL_US } from '../../device/stepper';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { builtArtifact } from '../../host/package-root';
import { espruinoShim } from './espruino-shim';
import { storageFile } from '../../device/espruino/hal';
import { LEAD_US, MAX_ERROR_US, PERIOD_UNITS, REFILL_US, SLOTS } from '../../device/espruino/step-generator';
import { UNITS_PER_S, stepRoutineUsed } from './espruino-timer';
import type { StepGeneratorSpec } from '../step-generator';
import type { DeviceRuntime, FirmwareApp, SimTarget } from './target';
import type { VirtualMcu } from '../mcu';
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';
import { HASH_FILE, PROFILE_FILE } from '../../host/flash/espruino-upload';
import { canonicalJson, machineHash } from '../../host/stream/machine-hash';
import { ESPRUINO_COST_MODELS, espruinoCharging, type EspruinoCharging } from './espruino-cost';

export const ESPRUINO_APP = 'dist/espruino/app.js';
/**
 * The Espruino step generator's parameters as sim/step-generator.ts takes them (native-phases
 * with these makes the same segments): 15 segments per axis ring, one call period's resolution,
 * each phase of constant acceleration integrated by the routine.
 */
export const ESPRUINO_GENERATOR: StepGeneratorSpec = { queueLength: SLOTS - 1, tickUs: (PERIOD_UNITS * 1e6) / UNITS_PER_S, leadUs: LEAD_US, refillUs: REFILL_US, maxErrorUs: MAX_ERROR_US, phases: true };
/**
 * Step-time error of the Espruino step routine: a step comes at the first call at or after its
 * time, or one call later when that call ended the axis' previous pulse or wrote DIR (or when a
 * phase was queued before the routine's first call told JavaScript when its calls are): two call periods.
 */
export const STEP_JITTER_US = 2 * ESPRUINO_GENERATOR.tickUs;
/** The shim offers USB, so the app takes it for the link (a Pico's host port). */
const HOST_PORT = 'USB';

let script: vm.Script | null = null;

function appScript(): vm.Script {
  if (!script) {
    const path = builtArtifact(ESPRUINO_APP);
    script = new vm.Script(readFileSync(path, 'utf8'), { filename: path });
  }
  return script;
}

/**
 * The app bundle run in ctx; with a chip (mcu.cpu, hookline sim --chip pico) instrumented so its
 * interpreter work is charged (sim/targets/espruino-cost.ts), else as built.
 */
function loadApp(ctx: vm.Context, charging: EspruinoCharging | null, globals: string[]): void {
  if (!charging) return void appScript().runInContext(ctx);
  const path = builtArtifact(ESPRUINO_APP);
  charging.wrapGlobals(ctx, globals);
  charging.load(readFileSync(path, 'utf8'), path, ctx);
  // (the shim's timer module lives on the MCU the shim was given: charging.shimMcu)
  charging.watchTimer(ctx, () => stepRoutineUsed(charging.shimMcu));
}

export const espruinoTarget: SimTarget = {
  name: 'espruino',
  costModels: ESPRUINO_COST_MODELS,
  // The step routine makes a step at its first call at or after the step's time (one call period,
  // device/espruino/step-generator.ts), after the stepper's compression error.
  stepJitterUs: STEP_JITTER_US,
  // Seeks on the step generator read the switch every SEEK_POLL_US (device/stepper.ts), and on a
  // charged Pico the poll comes late and takes milliseconds of interpreter time before it reads the
  // switch: the axis may run on for up to two polls (one poll's allowance was met by a step or two
  // only as long as nothing in the stepper's seek path changed).
  homingOvertravelMs: (2 * SEEK_POLL_US) / 1000,
  create(mcu, machine, ring, faults) {
    // An ordinary global (not contextified: that would serve each of the bundle's global look-ups,
    // Math and getTime included, through a C++ interceptor), with the per-step shim compiled in it.
    // Node < 20.18 has no DONT_CONTEXTIFY: a contextified global then, same behaviour, slower.
    const ctx = vm.createContext(vm.constants?.DONT_CONTEXTIFY ?? {}) as vm.Context;
    const charging = mcu.cpu ? espruinoCharging(mcu, mcu.cpu) : null;
    const shim = espruinoShim(charging ? charging.shimMcu : mcu, 0, { context: ctx });
    Object.assign(ctx, shim.globals);
    loadApp(ctx, charging, Object.keys(shim.globals));
    // Plain data crosses into the VM as JSON, as it would come out of the board's Storage.
    ctx.__args = JSON.stringify({ machine, ring, faults });
    const make = () =>
      vm.runInContext(
        `(function (a) {
        var app = hooklineApp;
        return new app.Runtime(new app.EspruinoHal(), a.machine, a.faults, a.ring ? new app.RingPath(a.ring) : undefined);
      })(JSON.parse(__args))`,
        ctx,
      ) as DeviceRuntime;
    const runtime = charging ? chargedRuntime(charging.charged(make), charging) : make();
    return {
      runtime,
      log: shim.log,
      storageWrites: () => [...shim.storageWrites.values()].reduce((a, b) => a + b, 0),
      storageRead(key) {
        const s = shim.storage.get(storageFile(key));
        return s === undefined ? -1 : parseInt(s, 10);
      },
    };
  },
};

/**
 * The Espruino app as on a board: Storage holding the profile and its hash (as `hookline flash
 * --target espruino` writes them), boot ('init'), the host port (USB) bridged to `send`.
 */
export function espruinoApp(mcu: VirtualMcu, o: { machine: MachineProfile | RingProfile; send(bytes: Uint8Array): void }): FirmwareApp {
  const storage = new Map<string, string>([
    [PROFILE_FILE, canonicalJson(o.machine)],
    [HASH_FILE, String(machineHash(o.machine))],
  ]);
  const ctx = vm.createContext(vm.constants?.DONT_CONTEXTIFY ?? {}) as vm.Context;
  const charging = mcu.cpu ? espruinoCharging(mcu, mcu.cpu) : null;
  const shim = espruinoShim(charging ? charging.shimMcu : mcu, 0, {
    context: ctx,
    storage,
    serial: {
      write: (device, bytes) => {
        if (device === HOST_PORT) o.send(Uint8Array.from(bytes));
      },
      console: () => {},
    },
  });
  Object.assign(ctx, shim.globals);
  loadApp(ctx, charging, Object.keys(shim.globals));
  if (charging) charging.charged(() => shim.emit('init'));
  else shim.emit('init');
  const receive = (bytes: Uint8Array) => void shim.receive(HOST_PORT, String.fromCharCode(...bytes));
  return {
    receive: charging ? (bytes) => charging.charged(() => receive(bytes), true) : receive,
    log: shim.log,
  };
}

/**
 * With a chip: the simulator's commands and stream bytes are entries into the app, charged without
 * the event loop's dispatch (on a board the bytes come in serial data events of many bytes, whose
 * dispatch espruinoApp charges); reading the state for the simulator is not charged.
 */
function chargedRuntime(rt: DeviceRuntime, c: EspruinoCharging): DeviceRuntime {
  return {
    get state() {
      return c.uncharged(() => rt.state);
    },
    setMachineHash: (h) => c.charged(() => rt.setMachineHash(h)),
    boot: () => c.charged(() => rt.boot()),
    home: () => c.charged(() => rt.home()),
    canAccept: () => c.uncharged(() => rt.canAccept()),
    feed: (b) => c.charged(() => rt.feed(b)),
    resume: () => c.charged(() => rt.resume()),
    pause: () => c.charged(() => rt.pause()),
    abort: () => c.charged(() => rt.abort()),
    status: () => c.uncharged(() => rt.status()),
  };
}
