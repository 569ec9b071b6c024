// The chaos run of `npm run chaos`, shorter: 2,500 values from the device core through 30% loss
// each way, 5% duplication, reordering and jitter, two 12 s outages (longer than keepAlive +
// grace, so the subscription is lost each time) and a platform restart; one run, checked from
// several sides. A failure message carries the whole report with its seed; `npm run chaos --
// --seed N` replays the fault sequence (timing on a real clock still varies).
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { DEFAULT_GRACE_MS } from "../../thethings/subscription.js";
import { formatReport } from "../chaos/report.js";
import { type ChaosReport, type ChaosScenario, runChaosScenario } from "../chaos/scenario.js";

const KEEP_ALIVE_MS = 5_000;
const SCENARIO: ChaosScenario = {
  seed: Number(process.env.CHAOS_SEED ?? 7),
  values: 2_500,
  intervalMs: 100,
  valuesPerSample: 5,
  batch: 20,
  // 10 s of sampling: each 12 s outage overflows it.
  bufferSize: 500,
  keepAliveMs: KEEP_ALIVE_MS,
  maxDelayMs: 1_000,
  ackTimeoutMs: 50,
  faults: { loss: 0.3, duplicate: 0.05, reorder: 0.1, delayMs: 2, jitterMs: 10 },
  disruptions: [
    { kind: "outage", atMs: 3_000, durationMs: 12_000 },
    { kind: "restart", atMs: 28_000, durationMs: 2_000 },
    { kind: "outage", atMs: 40_000, durationMs: 12_000 },
  ],
  deadlineMs: 170_000,
};

let report: ChaosReport;
let shown = "";

before(
  async () => {
    report = await runChaosScenario(SCENARIO);
    shown = `\n${formatReport(report)}`;
  },
  { timeout: 200_000 },
);

test("every sampled value is stored exactly once, or reported dropped by the full buffer", () => {
  const { stats } = report;
  assert.equal(stats.sampled, SCENARIO.values, shown);
  assert.equal(stats.buffered, 0, `drained${shown}`);
  assert.ok(stats.dropped > 0, `the outages overflowed the buffer, so the drop accounting was exercised${shown}`);
  assert.equal(stats.sent + stats.dropped, stats.sampled, `acknowledged + dropped = sampled${shown}`);
  assert.equal(report.stored, stats.sent, `the platform holds every acknowledged value${shown}`);
  assert.equal(report.missing.length, stats.dropped, `nothing lost beyond the reported overflow${shown}`);
  assert.equal(report.dropReportsStored, stats.dropped, `the drop reports reached the platform${shown}`);
  assert.deepEqual(
    report.duplicated,
    [],
    `no value stored twice through loss, duplication, outages and the restart${shown}`,
  );
});

test("the link really was hostile", () => {
  for (const direction of [report.proxy.toServer, report.proxy.toDevice]) {
    assert.ok(
      direction.dropped > 0 && direction.duplicated > 0 && direction.reordered > 0 && direction.droppedByOutage > 0,
      shown,
    );
  }
  assert.ok(report.stats.retransmissions > 0, shown);
});

test("after each outage and the restart the subscription is back within keepAlive + grace", () => {
  assert.equal(report.disruptions.length, SCENARIO.disruptions.length, shown);
  for (const disruption of report.disruptions) {
    assert.notEqual(disruption.lostAfterMs, undefined, `the device noticed the ${disruption.kind}${shown}`);
    assert.ok(
      disruption.recoveryMs !== undefined && disruption.recoveryMs <= KEEP_ALIVE_MS + DEFAULT_GRACE_MS,
      `${disruption.kind}: back after ${disruption.recoveryMs} ms${shown}`,
    );
  }
});

test("a command written after each recovery reaches the output", () => {
  for (const disruption of report.disruptions) {
    assert.notEqual(disruption.commandLatencyMs, undefined, `${disruption.kind}: command not applied${shown}`);
  }
});

test("a command written while the device could not hear it is applied once the subscription is back (a failed catch-up read is tried again)", () => {
  for (const disruption of report.disruptions) {
    assert.notEqual(
      disruption.missedCommandAppliedMs,
      undefined,
      `${disruption.kind}: the command written during the gap was not applied${shown}`,
    );
  }
});
