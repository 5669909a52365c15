// Calibration workloads for the Espruino cost model (sim/targets/espruino-cost.ts): the kinds of
// code the device runtime runs, each a global `hlWork(n)` doing n units of work. Each runs twice
// (n0 and n1 units) in the real interpreter and in node:vm; the differences cancel boot, lexing of
// the script and the harness. Sources are minified by esbuild and pretokenised by EspruinoTools,
// as the app is. `async`: the work runs from the event loop and calls quit() itself when done.
export interface Workload {
  name: string;
  /** ES5 source defining hlWork(n). */
  src: string;
  n0: number;
  n1: number;
  async?: boolean;
  /** What it stands for. */
  what: string;
}

// A module scope like the bundle's IIFE: many names before the ones the hot code uses.
const filler = (k: number) => Array.from({ length: k }, (_, i) => `var m${i}=${i};`).join('');

export const WORKLOADS: Workload[] = [
  { name: 'loop', what: 'empty for loop', n0: 2000, n1: 20000, src: `function hlWork(n){for(var i=0;i<n;i++){}}` },
  {
    name: 'arith', what: 'integer arithmetic and bit operations (CRC, step counters)', n0: 1000, n1: 10000,
    src: `function hlWork(n){var x=1,y=0;for(var i=0;i<n;i++){x=(x*13+7)&1023;y+=x>>2;if(y>100000)y-=100000;}return y}`,
  },
  {
    name: 'float', what: 'floating point and Math (planner, trapezoids)', n0: 500, n1: 5000,
    src: `function hlWork(n){var a=0,b=0;for(var i=0;i<n;i++){a+=Math.sqrt(i)*0.5;b=Math.round(a/3.7);a=Math.abs(b-a)+a*0.25;}return a}`,
  },
  {
    name: 'calls', what: 'small function calls', n0: 500, n1: 5000,
    src: `function add(a,b){return a+b}function hlWork(n){var s=0;for(var i=0;i<n;i++){s=add(s,i);}return s}`,
  },
  {
    name: 'methods', what: 'method calls on an object with many fields (Runtime, Stepper)', n0: 300, n1: 3000,
    src: `var hlWork=(function(){${filler(20)}function S(){this.a=0;this.b=1;this.c=2;this.d=3;this.e=4;this.f=5;this.g=6;this.h=7;this.i=8;this.j=9;this.k=10;this.pos=0;this.left=100}
S.prototype.x1=function(){};S.prototype.x2=function(){};S.prototype.step=function(){this.pos+=this.k>5?1:-1;if(--this.left<=0){this.left=100;this.a++}return this.pos};
var s=new S();return function(n){var t=0;for(var i=0;i<n;i++){t+=s.step();}return t}})();`,
  },
  {
    name: 'bigscope', what: 'names resolved through a large module scope (the bundle IIFE)', n0: 300, n1: 3000,
    src: `var hlWork=(function(){${filler(150)}var q=0;function f(x){return x+m140+m100}return function(n){for(var i=0;i<n;i++){q=f(q)&65535;}return q}})();`,
  },
  {
    name: 'typed', what: 'typed array reads and writes (queues, rings)', n0: 500, n1: 5000,
    src: `var Q=new Int32Array(16);function hlWork(n){for(var i=0;i<n;i++){Q[i&15]=Q[(i+1)&15]+1;}return Q[0]}`,
  },
  {
    name: 'arrays', what: 'array push / splice / length (the link session buffers)', n0: 300, n1: 3000,
    src: `var A=[];function hlWork(n){for(var i=0;i<n;i++){A.push(i&255);if(A.length>8)A.splice(0,4);}return A.length}`,
  },
  {
    name: 'strings', what: 'charCodeAt / fromCharCode (serial data, frames)', n0: 300, n1: 3000,
    src: `var T="hookline-espruino-frame-bytes";function hlWork(n){var s=0,c;for(var i=0;i<n;i++){c=T.charCodeAt(i%29);s+=String.fromCharCode(c).length+c;}return s}`,
  },
  {
    name: 'objects', what: 'object literals (allocation, status records)', n0: 300, n1: 3000,
    src: `function hlWork(n){var s=0;for(var i=0;i<n;i++){var p={x:i,y:i+1,z:0};s+=p.x+p.y;}return s}`,
  },
  {
    name: 'skip', what: 'skipped code: early returns and untaken branches (lexed, not run)', n0: 200, n1: 2000,
    src: `function g(x){if(x>=0)return x+1;var a=x*2,b=a+3,c=b*b;if(c>100){a=b;b=c;c=a}else{a=c;b=a;c=b}return a+b+c}
function hlWork(n){var s=0;for(var i=0;i<n;i++){if(i<0){s=s*2+1;s=s|0;s+=i*3;s-=g(s);s=Math.max(s,0)}else s=g(s)&1023;}return s}`,
  },
  {
    name: 'closures', what: 'function expressions created per iteration', n0: 300, n1: 3000,
    src: `function hlWork(n){var s=0;for(var i=0;i<n;i++){var f=function(a){return a+i};s=f(s)&65535;}return s}`,
  },
  {
    name: 'switch', what: 'switch dispatch (frame and op types)', n0: 300, n1: 3000,
    src: `function hlWork(n){var s=0;for(var i=0;i<n;i++){switch(i%6){case 0:s+=1;break;case 1:s+=2;break;case 2:s^=3;break;case 3:s-=1;break;case 4:s=s&255;break;default:s++}}return s}`,
  },
  {
    name: 'pins', what: 'digitalWrite / digitalRead (HAL pins)', n0: 300, n1: 3000,
    src: `function hlWork(n){var s=0;pinMode(2,"output");for(var i=0;i<n;i++){digitalWrite(2,i&1);s+=digitalRead(2);}return s}`,
  },
  {
    name: 'timerset', what: 'setTimeout + clearTimeout without firing', n0: 100, n1: 1000,
    src: `function hl(){}function hlWork(n){for(var i=0;i<n;i++){var t=setTimeout(hl,1000);clearTimeout(t);}}`,
  },
  {
    name: 'timerchain', what: 'empty setTimeout chain (event-loop dispatch per callback)', n0: 100, n1: 1000, async: true,
    src: `var hlN=0,hlM=0;function hlF(){if(++hlN<hlM)setTimeout(hlF,0.125);else quit();}function hlWork(n){hlM=n;setTimeout(hlF,0.125);}`,
  },
  {
    name: 'interval', what: 'setInterval callback doing a little work (a main-loop tick)', n0: 100, n1: 1000, async: true,
    src: `var hlN=0,hlM=0,hlS=0,hlI;function hlT(){hlS=(hlS*3+hlN)&4095;for(var k=0;k<4;k++)hlS^=k;if(++hlN>=hlM){clearInterval(hlI);quit();}}function hlWork(n){hlM=n;hlI=setInterval(hlT,2);}`,
  },
];
