// `npm run bench:espruino-calibrate`: bench/espruino-cost/calibrate.ts (fits the Espruino cost model on the real interpreter).
import './espruino-cost/calibrate';
