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
import type { DeviceRuntime, SimTarget } from './target';

export const ESPRUINO_APP = 'dist/espruino/app.js';

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
    const shim = espruinoShim(mcu, 0);
    const ctx = vm.createContext({ ...shim.globals });
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
      storageRead(key) {
        const s = shim.storage.get(storageFile(key));
        return s === undefined ? -1 : parseInt(s, 10);
      },
    };
  },
};
