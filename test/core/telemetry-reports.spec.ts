// The device's own reports (sensors/report-queue.ts through Telemetry.report): JSON objects that
// ride with the batches, one per key with the newest winning, each leaving only once stored.
import { encodeBatchPayload } from "../../sensors/batch-payload.js";
import type { BatchValue } from "../../sensors/batch-sink.js";
import { ReportQueue } from "../../sensors/report-queue.js";
import { makeRig, SOME_UTC } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const keys = (values: readonly BatchValue[]): string[] => values.map((v) => v.key);

function idleRig(config: Record<string, number> = {}) {
  // Sampling stopped at once: only the first round's value and the reports travel.
  const rig = makeRig({ config: { intervalMs: 1000, batch: 5, maxDelayMs: 60_000, ...config } });
  rig.telemetry.start();
  rig.telemetry.stop();
  return rig;
}

suite("telemetry: reports", () => {
  test("an urgent report makes a batch due at once, rides with the waiting values, carries the wall clock's second", async () => {
    const { clock, sink, telemetry } = idleRig();
    equal(sink.calls.length, 0, "one value waits for its batch");
    await clock.advance(1500);
    equal(telemetry.report("device.boot", { firmware: "0.1.0", outputs: "led:digital" }, { urgent: true }), undefined);
    await clock.settle();
    equal(sink.calls.length, 1, "sent at once");
    deepEqual(keys(sink.last.values), ["temperature", "device.boot"]);
    const report = sink.last.values[1]!;
    deepEqual(report.value, { firmware: "0.1.0", outputs: "led:digital" });
    equal(report.datetime, Math.floor((SOME_UTC + 1500) / 1000) * 1000);
    equal(telemetry.counters.reportsWaiting, 1, "waiting until stored");
    sink.last.answer({ kind: "stored" });
    await clock.settle();
    equal(telemetry.counters.reportsWaiting, 0);
    equal(telemetry.counters.reportsSent, 1);
    const c = telemetry.counters;
    equal(c.sampled, c.sent + c.buffered + c.dropped + c.rejected, "reports are not readings");
    telemetry.close();
  });

  test("a report that is not urgent rides with the next batch: at the latest maxDelay after it was made", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 100_000, batch: 5, maxDelayMs: 10_000 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(10_000);
    equal(sink.calls.length, 1, "the first value went after maxDelay");
    await clock.advance(1000);
    telemetry.report("device.health", { uptime: 11 });
    await clock.advance(9000);
    equal(sink.calls.length, 1, "the report waits for a batch");
    await clock.advance(1000);
    equal(sink.calls.length, 2, "…and goes maxDelay after it was made, alone if no value waits");
    deepEqual(keys(sink.last.values), ["device.health"]);
    telemetry.close();
  });

  test("the newest report per key wins; one made while its predecessor is in flight goes next", async () => {
    const { clock, sink, telemetry } = idleRig();
    telemetry.report("device.health", { uptime: 1 }, { urgent: true });
    await clock.settle();
    equal(sink.calls.length, 1);
    telemetry.report("device.health", { uptime: 2 }, { urgent: true });
    telemetry.report("device.health", { uptime: 3 }, { urgent: true });
    sink.last.answer({ kind: "stored" });
    await clock.settle();
    equal(sink.calls.length, 2, "the newer report goes in the next batch");
    deepEqual(
      sink.last.values.map((v) => v.value),
      [{ uptime: 3 }],
      "the one it replaced never went",
    );
    sink.last.answer({ kind: "stored" });
    await clock.settle();
    equal(telemetry.counters.reportsWaiting, 0);
    equal(telemetry.counters.reportsSent, 2);
    telemetry.close();
  });

  test("an unanswered batch keeps its reports; a permanent refusal gives them up", async () => {
    const { clock, sink, telemetry } = idleRig();
    telemetry.report("device.boot", { firmware: "0.1.0" }, { urgent: true });
    await clock.settle();
    sink.last.answer({ kind: "unanswered" });
    await clock.runUntil(() => sink.calls.length === 2);
    deepEqual(keys(sink.last.values), ["temperature", "device.boot"], "the same batch again");
    sink.last.answer({ kind: "refused", code: "4.00", permanent: true, message: "bad" });
    await clock.settle();
    equal(telemetry.counters.reportsWaiting, 0, "given up with its batch");
    equal(telemetry.counters.reportsSent, 0);
    telemetry.close();
  });

  test("reports and values share the payload limit", async () => {
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 100, batch: 200, bufferSize: 400, maxDelayMs: 60_000 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(5000);
    telemetry.report("device.settings", { interval: "100ms", note: "x".repeat(500) }, { urgent: true });
    await clock.settle();
    const withReport = sink.calls.find((call) => call.values.some((v) => v.key === "device.settings"));
    ok(withReport !== undefined, "the report went");
    ok(withReport.values.length > 1, "with values beside it");
    ok(encodeBatchPayload(withReport.values).length <= 1024, "within 1024 bytes");
    telemetry.close();
  });

  test("refused: a reading's key, the drop key, a bad key, non-plain JSON, too large, a fifth key", () => {
    const { telemetry } = idleRig();
    ok(telemetry.report("temperature", { a: 1 })?.includes("reading"));
    ok(telemetry.report("telemetry.dropped", { a: 1 })?.includes("reading"));
    ok(telemetry.report("bad key", { a: 1 })?.includes("thing key"));
    ok(telemetry.report("device.x", { a: Number.NaN }) !== undefined);
    ok(telemetry.report("device.x", { a: "y".repeat(900) }) !== undefined);
    for (const n of [1, 2, 3, 4]) equal(telemetry.report(`device.k${n}`, { n }), undefined);
    ok(telemetry.report("device.k5", { n: 5 })?.includes(String(ReportQueue.MAX_REPORTS)));
    equal(telemetry.report("device.k1", { n: 11 }), undefined, "an existing key is replaced, not refused");
    equal(telemetry.counters.reportsWaiting, ReportQueue.MAX_REPORTS);
    telemetry.close();
    ok(telemetry.report("device.k1", { n: 1 })?.includes("closed"));
  });

  test("a report is a private copy: changing the caller's object afterwards changes nothing", async () => {
    const { clock, sink, telemetry } = idleRig();
    const health = { uptime: 5 };
    telemetry.report("device.health", health, { urgent: true });
    health.uptime = 99;
    await clock.settle();
    deepEqual(sink.last.values.find((v) => v.key === "device.health")?.value, { uptime: 5 });
    telemetry.close();
  });
});
