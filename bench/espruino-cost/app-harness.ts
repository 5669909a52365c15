// The app's motion as a calibration case (realchips make-bench.mjs's harness, the same text in the
// real interpreter and in node:vm): the app's Runtime and LinkSession on its EspruinoHal
// (skipHoming: the Linux build has no endstops), the stream fed straight into runtime.feed, the
// session ticked every 20 ms as the app's main loop does, quit after `steps` motor steps.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { canonicalJson, machineHash } from '../../host/stream/machine-hash';

/** Windows of the app's motion the calibration counts (name, steps from, steps to, step segments). */
export const APP_WINDOWS = [
  ['app-early', 1000, 4000, false],
  ['app-late', 4000, 10000, false],
  ['app-later', 20000, 40000, false],
  ['app-segments', 10000, 60000, true],
] as const;

/**
 * A step generator in JavaScript for the segment windows (the same text runs in both
 * interpreters, so its own cost is in both counts): the queues hold each segment's end time; a
 * segment is done when the clock passes it (position interpolates within the current one). The
 * app's stepper refills it as it would refill the native step routine (device/stepper.ts).
 */
const FAKE_GENERATOR = `
function HlGen() { this.leadUs = 2e5; this.refillUs = 5e4; this.maxErrorUs = 20; this.tickUs = 1; this.n = 0; this.start(0); }
HlGen.prototype.setup = function () {};
HlGen.prototype.start = function (at) { this.t0 = at; this.q = [[], [], []]; this.base = [0, 0, 0]; this.last = [0, 0, 0]; };
HlGen.prototype.adv = function (a) {
  var n = getTime() * 1e6 - this.t0, q = this.q[a], h = 0;
  while (h < q.length && q[h] <= n) { this.base[a] += q[h + 1]; h += 3; }
  if (h > 0) q.splice(0, h);
  return n;
};
HlGen.prototype.free = function (a) { this.adv(a); return 16 - this.q[a].length / 3; };
HlGen.prototype.push = function (a, dir, iv, count, add) {
  var s = this.last[a], e = s + count * iv + add * count * (count - 1) / 2;
  this.last[a] = e; this.q[a].push(e, dir * count, s); this.n++;
};
HlGen.prototype.position = function (a) {
  var n = this.adv(a), q = this.q[a], p = this.base[a];
  if (q.length > 0 && n > q[2]) p += Math.floor(q[1] * (n - q[2]) / (q[0] - q[2]));
  return p;
};
HlGen.prototype.stop = function () { for (var a = 0; a < 3; a++) { this.base[a] = this.position(a); this.q[a] = []; } };
`;

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

export function appHarness(stream: string, steps: number, segments = false): string {
  const machine = JSON.parse(readFileSync(MACHINE, 'utf8'));
  const hash = machineHash(machine);
  return `
var HL_PROFILE = ${canonicalJson(machine)};
var HL_STREAM = atob("${Buffer.from(stream, 'latin1').toString('base64')}");
var HL_STEPS = ${steps};
${segments ? FAKE_GENERATOR : ''}
(function () {
  var a = hooklineApp, h = new a.EspruinoHal();
  ${segments ? 'h.steps = new HlGen();' : ''}
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
      print("HLBENCH " + JSON.stringify({ steps: st.steps, state: st.stateName, error: st.errorName, fed: sent, frames: frames${segments ? ', segments: h.steps.n' : ''} }));
      quit();
    }
  }, 20);
})();
`;
}
