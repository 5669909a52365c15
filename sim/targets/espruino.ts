/**
 * The Espruino target: the built app bundle (dist/espruino/app.js, the file `hookline flash
 * --target espruino` stores on the board) runs in node:vm over the Espruino API shim. The runtime
 * is constructed inside the VM on the bundle's own EspruinoHal (device/espruino/hal.ts), so every
 * pin edge and timer is the compiled ES5 code's.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { builtArtifact } from '../../host/package-root';
import { espruinoShim } from './espruino-shim';
import { storageFile } from '../../device/espruino/hal';
import type { DeviceRuntime, FirmwareApp, SimTarget } from './target';
import type { VirtualMcu } from '../mcu';
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';
import { HASH_FILE, PROFILE_FILE } from '../../host/flash/espruino-upload';
import { canonicalJson, machineHash } from '../../host/stream/machine-hash';

export const ESPRUINO_APP = 'dist/espruino/app.js';
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

export const espruinoTarget: SimTarget = {
  name: 'espruino',
  create(mcu, machine, ring, faults) {
    // An ordinary global (not contextified: that would serve each of the bundle's global look-ups,
    // Math and getTime included, through a C++ interceptor), with the per-step shim compiled in it.
    // Node < 20.18 has no DONT_CONTEXTIFY: a contextified global then, same behaviour, slower.
    const ctx = vm.createContext(vm.constants?.DONT_CONTEXTIFY ?? {}) as vm.Context;
    const shim = espruinoShim(mcu, 0, { context: ctx });
    Object.assign(ctx, shim.globals);
    appScript().runInContext(ctx);
    // Plain data crosses into the VM as JSON, as it would come out of the board's Storage.
    ctx.__args = JSON.stringify({ machine, ring, faults });
    const runtime = vm.runInContext(
      `(function (a) {
        var app = hooklineApp;
        return new app.Runtime(new app.EspruinoHal(), a.machine, a.faults, a.ring ? new app.RingPath(a.ring) : undefined);
      })(JSON.parse(__args))`,
      ctx,
    ) as DeviceRuntime;
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
  const shim = espruinoShim(mcu, 0, {
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
  appScript().runInContext(ctx);
  shim.emit('init');
  return {
    receive: (bytes) => void shim.receive(HOST_PORT, String.fromCharCode(...bytes)),
    log: shim.log,
  };
}
