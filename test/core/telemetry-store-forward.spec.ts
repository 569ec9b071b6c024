// Store and forward: values wait in a bounded buffer while writes fail, go out oldest first when
// they succeed again, leave the buffer only once stored, and overflow drops the oldest with the
// drop count reported on the reserved key (sensors/telemetry.ts).
import type { BatchValue } from "../../sensors/batch-sink.js";
import type { Telemetry } from "../../sensors/telemetry.js";
import { payloadSize } from "../core-fakes/telemetry-fakes.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const DROPPED = "telemetry.dropped";

function numbers(values: readonly BatchValue[]): number[] {
  return values.filter((v) => v.key !== DROPPED).map((v) => v.value as number);
}

function reports(values: readonly BatchValue[]): number[] {
  return values.filter((v) => v.key === DROPPED).map((v) => v.value as number);
}

function checkInvariant(telemetry: Telemetry): void {
  const c = telemetry.counters;
  equal(
    c.sampled,
    c.sent + c.buffered + c.dropped + c.rejected,
    `sampled = sent + buffered + dropped + rejected in ${JSON.stringify(c)}`,
  );
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

suite("telemetry: store and forward", () => {
  test("values wait while writes fail and go out oldest first, the pinned batch unchanged", async () => {
    // Batch-sized drain, so each write carries `batch` values (the drain at capacity: telemetry-drain.spec.ts).
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 5, bufferSize: 200, maxDelayMs: 10_000, drainAtCapacity: false },
    });
    let online = false;
    const delivered: number[] = [];
    sink.autoAnswer = (values) => {
      if (!online) return { kind: "unavailable", reason: "no network" };
      delivered.push(...numbers(values));
      return { kind: "stored" };
    };
    telemetry.start();
    await clock.advance(99_500);
    equal(telemetry.counters.sent, 0);
    equal(telemetry.counters.buffered, 100);
    equal(telemetry.counters.dropped, 0);
    ok(sink.calls.length > 1, "attempts were made while offline");
    for (const call of sink.calls)
      equal(call.values, sink.calls[0]!.values, "every attempt carries the very same batch");
    deepEqual(numbers(sink.calls[0]!.values), [0, 1, 2, 3, 4]);
    checkInvariant(telemetry);
    online = true;
    await clock.runUntil(() => delivered.length >= 100, 400_000);
    deepEqual(delivered.slice(0, 100), range(0, 100), "all of the backlog, oldest first");
    ok(sink.calls.every((c) => c.values.length <= 5));
    checkInvariant(telemetry);
    telemetry.close();
  });

  test("a value leaves the buffer only after its write was stored", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 2, maxDelayMs: 1e9 } });
    telemetry.start();
    await clock.advance(1000);
    telemetry.stop();
    equal(sink.calls.length, 1);
    equal(telemetry.counters.buffered, 2, "the batch in flight still counts as buffered");
    sink.calls[0]!.answer({ kind: "unanswered" });
    await clock.settle();
    equal(telemetry.counters.buffered, 2, "unanswered: kept");
    await clock.runUntil(() => sink.calls.length === 2);
    sink.calls[1]!.answer({ kind: "refused", code: "5.03", permanent: false });
    await clock.settle();
    equal(telemetry.counters.buffered, 2, "refused for now: kept");
    await clock.runUntil(() => sink.calls.length === 3);
    sink.calls[2]!.answer({ kind: "unavailable", reason: "no route" });
    await clock.settle();
    equal(telemetry.counters.buffered, 2, "not sent: kept");
    equal(telemetry.counters.sent, 0);
    await clock.runUntil(() => sink.calls.length === 4);
    deepEqual(numbers(sink.calls[3]!.values), [0, 1]);
    sink.calls[3]!.answer({ kind: "stored" });
    await clock.settle();
    equal(telemetry.counters.buffered, 0);
    equal(telemetry.counters.sent, 2);
    equal(telemetry.counters.writeFailures, 3);
    equal(telemetry.counters.batchesSent, 1);
    checkInvariant(telemetry);
    telemetry.close();
  });

  test("overflow drops the oldest waiting values and reports how many on the reserved key", async () => {
    const { clock, sink, telemetry, lines } = makeRig({
      config: { intervalMs: 1000, batch: 5, bufferSize: 10, maxDelayMs: 1e9 },
    });
    let online = false;
    sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "no network" });
    telemetry.start();
    await clock.advance(29_500);
    telemetry.stop();
    equal(telemetry.counters.sampled, 30);
    equal(telemetry.counters.buffered, 10, "never more than bufferSize");
    equal(telemetry.counters.dropped, 20);
    checkInvariant(telemetry);
    equal(
      lines.filter((l) => l.message.includes("buffer full")).length,
      1,
      "the overflow is logged once, not per value",
    );
    online = true;
    await clock.runUntil(() => telemetry.counters.buffered === 0);
    // The batch in flight (0–4) is pinned; of the rest only the newest (25–29) survive.
    const [first, second] = sink.calls.slice(-2);
    deepEqual(numbers(first!.values), [0, 1, 2, 3, 4]);
    deepEqual(reports(first!.values), [], "that batch was formed before anything was dropped");
    deepEqual(numbers(second!.values), [25, 26, 27, 28, 29]);
    deepEqual(reports(second!.values), [20]);
    equal(second!.values[second!.values.length - 1]!.key, DROPPED);
    equal(second!.values[second!.values.length - 1]!.datetime, undefined);
    for (const call of sink.calls) ok(payloadSize(call.values) <= 1024);
    // Reported once: later batches carry no report.
    telemetry.start();
    await clock.advance(10_000);
    ok(sink.calls.length >= 4);
    ok(sink.calls.slice(-2).every((c) => reports(c.values).length === 0));
    checkInvariant(telemetry);
    telemetry.close();
  });

  test("a batch that fills the whole buffer stays pinned; new values are the ones dropped", async () => {
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 3, bufferSize: 3, maxDelayMs: 1e9 },
    });
    let online = false;
    sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "no network" });
    telemetry.start();
    await clock.advance(9_500);
    equal(telemetry.counters.buffered, 3);
    equal(telemetry.counters.dropped, 7);
    online = true;
    await clock.runUntil(() => telemetry.counters.sent === 3);
    deepEqual(numbers(sink.last.values), [0, 1, 2]);
    checkInvariant(telemetry);
    telemetry.close();
  });

  test("drop reports add up to the drops: a report is kept until its batch is stored", async () => {
    const { clock, sink, telemetry } = makeRig({
      config: {
        intervalMs: 1000,
        batch: 3,
        bufferSize: 6,
        maxDelayMs: 5000,
        backoff: { initialMs: 1000, maxMs: 5000 },
      },
    });
    let online = false;
    let storedReports = 0;
    sink.autoAnswer = (values) => {
      if (!online) return { kind: "unavailable", reason: "offline" };
      storedReports += reports(values).reduce((a, b) => a + b, 0);
      return { kind: "stored" };
    };
    telemetry.start();
    for (let cycle = 0; cycle < 6; cycle++) {
      online = cycle % 2 === 1;
      await clock.advance(20_000);
      checkInvariant(telemetry);
      ok(telemetry.counters.buffered <= 6);
    }
    online = true;
    telemetry.stop();
    await clock.runUntil(() => telemetry.counters.buffered === 0, 100_000);
    // The last drops may still wait for a batch to travel with: the next values take them.
    telemetry.start();
    await clock.advance(10_000);
    equal(telemetry.counters.buffered < 3, true);
    ok(telemetry.counters.dropped > 0, "the scenario drops values");
    equal(storedReports, telemetry.counters.dropped, "every drop reported exactly once");
    telemetry.close();
  });

  test("memory stays bounded through a long outage: timers, calls, buffer", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 20, bufferSize: 50 } });
    sink.autoAnswer = () => ({ kind: "unanswered", retry: {} });
    telemetry.start();
    for (let minute = 0; minute < 30; minute++) {
      await clock.advance(60_000);
      ok(clock.pendingTimers <= 3, `${clock.pendingTimers} timers`);
      ok(telemetry.counters.buffered <= 50);
      equal(sink.pending, 0);
    }
    equal(telemetry.counters.sampled, 1801);
    equal(telemetry.counters.dropped, 1801 - 50);
    checkInvariant(telemetry);
    telemetry.close();
  });
});
