// A gantry's endstop switches for the real Espruino interpreter (../shared/realchips/espruino). The
// Linux build has no switches: its pins read back what was written, so an input_pullup endstop reads
// 1 for ever and homing fails. This model gives the interpreter switches that close where the
// simulator's plant (sim/plant.ts) closes them, so the app can home and string a plan in it.
//
// How it gets in: Storage `.boot0`, written through the REPL before the upload (the upload itself
// stays the exact bytes `hookline flash --target espruino` sends; it never erases other files).
// Espruino's load() evaluates `.boot0`..`.boot3` before the boot code `.bootcde`
// (src/jsflash.c jsfLoadBootCodeFromFlash at c5ff787b), so the model is in place before the app's
// code runs. It defines global functions named like the built-ins, which Espruino finds first
// (root variables before built-in functions); each one does its bookkeeping and calls the real one,
// so the pins, and the patched build's pin edge counters (ESPRUINO_PIN_STATS=1), see every edge.
//
// HOOK POINTS: the only Espruino functions the model wraps. They are the ones
// device/espruino/hal.ts drives the machine with; a HAL that emits steps another way (the timer
// module's SET tasks, E.nativeCall, Pin methods, the Stepper class) needs its call added here, or
// the axes do not move in the model (homing then fails with "homing failed": loud, not silent).
//   1. digitalPulse(pin, value, time | times)  STEP pins: one step per rising edge it makes
//   2. digitalWrite(pin, value)                 DIR and ENABLE levels; STEP pins written high step too
//   3. digitalRead(pin)                         ENDSTOP inputs: pressed at/below the switch (min), at/above it (max)
// Everything else (Storage, timers, serial) is the interpreter's own.
//
// MERGED PULSES: Espruino's digitalPulse (src/jswrap_io.c) does not start a new pulse on a pin whose
// previous pulse is still queued on the utility timer: it extends that pulse (one rising edge for
// two calls). On a board the timer interrupt ends a 2 µs pulse long before JavaScript can pulse
// again; the Linux build runs the utility timer only between main-loop passes, so when the app is
// late and two steps of one axis run in one pass, the second merges into the first. The model
// counts per STEP pin the pulses asked for (`n`) and those asked while the pin still read high
// (`m`, the merged ones), so the test can tell that artifact from a lost step: `__hlSwitches`.
//
// Physics, as sim/plant.ts: position in whole steps of machine coordinates (0 = where a min switch
// closes; a max switch closes at the travel maximum), starting at `startMm`; a rising STEP edge
// moves the axis one step in the DIR pin's direction while the drivers are enabled; DIR pins start
// low. The test judges the run from the interpreter's pin edge counters and the link, not from here.
import { axisAt, homeSign, maxSteps, mmToSteps, type MachineProfile } from '../../shared/machine';

/** The `.boot0` source (ES5, for the real interpreter) modelling `m`'s switches with the axes at `startMm` at power-on. */
export function switchModelBoot0(m: MachineProfile, startMm: number[]): string {
  if (startMm.length !== 3 || startMm.some((v) => !Number.isFinite(v))) throw new RangeError(`startMm must be 3 numbers (x, y, z mm), got ${JSON.stringify(startMm)}`);
  const axes = [0, 1, 2].map((i) => {
    const a = axisAt(m, i);
    const toMax = homeSign(a) > 0;
    return {
      s: a.pins.step,
      d: a.pins.dir,
      e: a.pins.endstop,
      plus: a.invertDir ? 0 : 1, // DIR level that moves toward +
      act: a.endstopActiveLow ? 0 : 1, // ENDSTOP level when pressed
      max: toMax,
      sw: toMax ? maxSteps(a) : 0,
      p: mmToSteps(a, startMm[i]),
      sg: a.invertDir ? 1 : -1, // DIR low at power-on
      n: 0, // step pulses the app asked for
      m: 0, // of them, asked while the pin was still high (see MERGED PULSES)
    };
  });
  const en = { pin: m.motors.enablePin, on: m.motors.enableActiveLow ? 0 : 1 };
  // (Plain ES5: this runs in the interpreter before the app, with no bundler in between.)
  return `(function(){
var A=${JSON.stringify(axes)},EN=${en.pin},ENON=${en.on},on=false;
var dp=digitalPulse,dw=digitalWrite,dr=digitalRead;
function by(k,pin){for(var i=0;i<3;i++)if(A[i][k]===pin)return A[i];return null;}
function step(a){if(on)a.p+=a.sg;}
global.digitalPulse=function(pin,v,t){var a=by("s",pin);if(a&&v){var n=typeof t==="number"?1:Math.ceil(t.length/2);a.n+=n;if(dr(pin))a.m++;for(var i=0;i<n;i++)step(a);}return dp(pin,v,t);};
global.digitalWrite=function(pin,v){var a;v=v?1:0;if(pin===EN)on=v===ENON;else if((a=by("d",pin)))a.sg=v===a.plus?1:-1;else if(v&&(a=by("s",pin))&&!dr(pin))step(a);return dw(pin,v);};
global.digitalRead=function(pin){var a=by("e",pin);if(!a)return dr(pin);var pressed=a.max?a.p>=a.sw:a.p<=0;return pressed?a.act:1-a.act;};
global.__hlSwitches=A;
})();
`;
}
