// The whole device's heap on XS against the local platform (tools/device-memory.ts), for
// bench/RESULTS-memory.md: the steady state and the peaks (activation, the platform away and the
// backlog drained, a 100-value Block2 read) as the device's share of the heap, in xsnap's figures
// and as ESP32 bytes, beside the reading ring against the 16 KB budget, and divided by part.
// `npm run bench -- memory [--minutes N]` (this and xs-memory.bench.ts); 5 minutes by default,
// in real time. Exits 1 when the steady state beside the ring is over the budget.
import { parseArgs } from "node:util";
import {
  BUDGET_BYTES,
  describeDeviceMemory,
  measureDeviceMemory,
  ringBytes,
  steadyState,
} from "../tools/device-memory.js";
import { esp32Bytes } from "../tools/xs-census.js";

const { values } = parseArgs({ options: { minutes: { type: "string" } }, strict: false });
const minutes = typeof values.minutes === "string" ? Number(values.minutes) : 5;
if (!(minutes > 0)) throw new Error(`--minutes: a positive number, got ${String(values.minutes)}`);
const started = performance.now();
const report = await measureDeviceMemory({ minutes });
for (const line of describeDeviceMemory(report)) console.log(line);
console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = esp32Bytes(steadyState(report)) - ringBytes(report) <= BUDGET_BYTES ? 0 : 1;
