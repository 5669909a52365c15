// The app's motion as a calibration case (realchips make-bench.mjs's harness, the same text in the
// real interpreter and in node:vm): the app's Runtime and LinkSession on its EspruinoHal
// (skipHoming: the Linux build has no endstops), the stream fed straight into runtime.feed, the
// session ticked every 20 ms as the app's main loop does, quit after `steps` motor steps.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { canonicalJson, machineHash } from '../../host/stream/machine-hash';

/** Windows of the app's motion the calibration counts (name, steps from, steps to). */
export const APP_WINDOWS = [['app-early', 1000, 4000], ['app-late', 4000, 10000], ['app-later', 20000, 40000]] as const;

/** The steps the harness reported (its HLBENCH line). */
export function benchSteps(printed: string[]): number {
  const l = printed.find((x) => x.startsWith('HLBENCH'));
  if (!l) throw new Error('the app harness printed no HLBENCH line');
  return (JSON.parse(l.slice(8)) as { steps: number }).steps;
}

const MACHINE = 'machines/ref-gantry.json';
const DIR = 'dist/realchips/plan30';

/** A 30-line plan of examples/coffee.png bound to ref-gantry, as bytes (latin1). */
export function appStream(): string {
  const hls = `${DIR}/plan.hls`;
  if (!existsSync(hls)) {
    mkdirSync(DIR, { recursive: true });
    execFileSync(process.execPath, ['bin/hookline.js', 'plan', 'examples/coffee.png', '-o', DIR, '--lines', '30', '--quiet']);
    execFileSync(process.execPath, ['bin/hookline.js', 'encode', `${DIR}/plan.json`, '-o', hls, '--machine', MACHINE]);
  }
  return readFileSync(hls).toString('latin1');
}

export function appHarness(stream: string, steps: number): string {
  const machine = JSON.parse(readFileSync(MACHINE, 'utf8'));
  const hash = machineHash(machine);
  return `
var HL_PROFILE = ${canonicalJson(machine)};
var HL_STREAM = atob("${Buffer.from(stream, 'latin1').toString('base64')}");
var HL_STEPS = ${steps};
(function () {
  var a = hooklineApp, h = new a.EspruinoHal();
  var faults = { skipHook: -1, reverseWrap: -1, skipHoming: true, ignoreSoftLimits: false, speedFactor: 1, exactStop: false };
  var rt = new a.Runtime(h, HL_PROFILE, faults);
  rt.setMachineHash(${hash});
  var frames = 0, sent = 0;
  var s = new a.LinkSession(rt, h, ${hash}, 2, function (bytes) { frames++; });
  rt.boot(); s.boot(); rt.home();
  function feed() { while (sent < HL_STREAM.length && rt.canAccept()) rt.feed(HL_STREAM.charCodeAt(sent) & 255) && sent++; }
  feed();
  var iv = setInterval(function () {
    s.tick(); feed();
    var st = rt.status();
    if (st.steps >= HL_STEPS || st.state === 6 || st.state === 7) {
      clearInterval(iv);
      print("HLBENCH " + JSON.stringify({ steps: st.steps, state: st.stateName, error: st.errorName, fed: sent, frames: frames }));
      quit();
    }
  }, 20);
})();
`;
}
