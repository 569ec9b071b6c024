// `npm run chaos`: 10,000 values from the device core to the local platform through a hostile
// loopback link (30% loss each way, 5% duplication, reordering, delay with jitter), two 60 s
// outages and a platform restart, with accelerated sampling so it ends within about five
// minutes. Prints what was sampled, acknowledged, stored, lost, duplicated and dropped, how long
// the subscription was down each time, and whether the command after each recovery arrived.
// Then the power-cut run (test/chaos/power-cut.ts): the PC runner through 30 % loss each way and a
// 15 s outage, killed with SIGKILL at 20 seeded moments and restarted on the same --state, checked
// value by value against persistAfter (about 90 s).
// Exits 1 on any failed check. Options: --seed N (default 1), --values N, --outage-ms N, --json,
// --trace FILE (every device event, device log line and platform event, in time order), --only
// classic|power-cut (one of the two runs), --kills N (power-cut kills, default 20).
import { parseArgs } from "node:util";
import { formatPowerCutReport, runPowerCutScenario } from "./power-cut.js";
import { formatReport } from "./report.js";
import { type ChaosScenario, runChaosScenario } from "./scenario.js";

const { values: args } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    values: { type: "string", default: "10000" },
    "outage-ms": { type: "string", default: "60000" },
    json: { type: "boolean", default: false },
    trace: { type: "string" },
    only: { type: "string" },
    kills: { type: "string", default: "20" },
  },
});
if (args.only !== undefined && args.only !== "classic" && args.only !== "power-cut") {
  console.error(`--only: classic or power-cut, got ${JSON.stringify(args.only)}`);
  process.exit(2);
}

function wholeNumber(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name}: a whole number, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

const started = Date.now();
const outageMs = wholeNumber("outage-ms", args["outage-ms"]!);
const scenario: ChaosScenario = {
  seed: wholeNumber("seed", args.seed!),
  values: wholeNumber("values", args.values!),
  // 50 values/s, 18–20 per datagram (the 1024-byte payload limit): about 200 s of sampling.
  intervalMs: 100,
  valuesPerSample: 5,
  batch: 20,
  // 40 s of sampling: each 60 s outage overflows it, so the drop accounting is exercised.
  bufferSize: 2000,
  keepAliveMs: 5_000,
  maxDelayMs: 1_000,
  // Loopback with a few ms of delay: a 50 ms ACK_TIMEOUT keeps throughput above the sampling
  // rate under 30% loss each way (one CON exchange fails all 5 transmissions in ~3.5% of cases).
  ackTimeoutMs: 50,
  faults: { loss: 0.3, duplicate: 0.05, reorder: 0.1, delayMs: 2, jitterMs: 10 },
  disruptions: [
    { kind: "outage", atMs: 20_000, durationMs: outageMs },
    { kind: "restart", atMs: 50_000 + outageMs, durationMs: 3_000 },
    { kind: "outage", atMs: 80_000 + outageMs, durationMs: outageMs },
  ],
  // Sampling takes 200 s; the two outages and the checks after each disruption fit in the rest.
  deadlineMs: 360_000 + 2 * (outageMs - 60_000),
  traceFile: args.trace,
  progress: (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`),
};

const failed: string[] = [];
if (args.only !== "power-cut") {
  const report = await runChaosScenario(scenario);
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report));
  if (report.failures.length > 0) failed.push("classic");
}
if (args.only !== "classic") {
  const kills = wholeNumber("kills", args.kills!);
  const report = await runPowerCutScenario({
    seed: scenario.seed,
    kills,
    // One kill every 4 s on average, the outage in the second quarter of the window.
    windowMs: kills * 4_000,
    intervalMs: 200,
    valuesPerSample: 5,
    batch: 10,
    maxDelayMs: 500,
    persistAfterMs: 2_000,
    keepAliveMs: 5_000,
    ackTimeoutMs: 100,
    faults: scenario.faults,
    outage: { atMs: kills * 1_000, durationMs: 15_000 },
    slackMs: 500,
    drainTimeoutMs: 60_000,
    progress: scenario.progress,
  });
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatPowerCutReport(report));
  if (report.failures.length > 0) failed.push("power-cut");
}
process.exitCode = failed.length === 0 ? 0 : 1;
