// When a batch goes out: `batch` values, the oldest `maxDelay` old, or the next value would not
// fit the 1024-byte payload; and one batch in flight at a time (sensors/telemetry.ts).
import type { BatchValue } from "../../sensors/batch-sink.js";
import { payloadSize } from "../core-fakes/telemetry-fakes.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function numbers(values: readonly BatchValue[]): number[] {
  return values.map((v) => v.value as number);
}

suite("telemetry: flush triggers", () => {
  test("a batch goes out as soon as it holds `batch` values, oldest first", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 3, maxDelayMs: 1e9 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(1000);
    equal(sink.calls.length, 0, "two values wait");
    await clock.advance(1000);
    equal(sink.calls.length, 1);
    equal(sink.calls[0]!.at, 7000, "sent at the third sample");
    deepEqual(numbers(sink.calls[0]!.values), [0, 1, 2]);
    await clock.advance(3000);
    deepEqual(numbers(sink.calls[1]!.values), [3, 4, 5]);
    equal(telemetry.counters.batchesSent, 2);
    telemetry.close();
  });

  test("a batch goes out when its oldest value is maxDelay old", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 100, maxDelayMs: 2500 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(2499);
    equal(sink.calls.length, 0);
    await clock.advance(1);
    equal(sink.calls.length, 1);
    equal(sink.calls[0]!.at, 5000 + 2500);
    deepEqual(numbers(sink.calls[0]!.values), [0, 1, 2]);
    // The next batch's oldest value was sampled at 8000: due at 10500.
    await clock.advance(2999);
    equal(sink.calls.length, 1);
    await clock.advance(1);
    equal(sink.calls.length, 2);
    equal(sink.calls[1]!.at, 10_500);
    deepEqual(numbers(sink.calls[1]!.values), [3, 4, 5]);
    telemetry.close();
  });

  test("a batch goes out when the next value would push the payload over 1024 bytes; none is larger", async () => {
    // Long keys and long numbers: a few dozen values fill a kilobyte; `batch` never triggers.
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 500, bufferSize: 1000, maxDelayMs: 1e9 },
      bindings: (sensor) => {
        sensor.produce = (n) => ({ a: { b: n + 0.123456789 * (n % 7) }, c: -n * 1e-7 });
        return [
          {
            sensor,
            readings: [
              { path: "a.b", key: "a-rather-long-key.for.the-first-reading" },
              { path: "c", key: "c" },
            ],
          },
        ];
      },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(299_000);
    ok(sink.calls.length >= 10, `${sink.calls.length} batches`);
    const delivered: BatchValue[] = [];
    sink.calls.forEach((call, i) => {
      ok(payloadSize(call.values) <= 1024, `batch ${i}: ${payloadSize(call.values)} bytes`);
      delivered.push(...call.values);
      const next = sink.calls[i + 1]?.values[0];
      if (next !== undefined)
        ok(payloadSize([...call.values, next]) > 1024, `batch ${i} went out while the next value still fitted`);
    });
    equal(delivered.length, telemetry.counters.sent);
    equal(telemetry.counters.sent + telemetry.counters.buffered, 600);
    // In order and complete: sample n gives a.b then c.
    delivered.forEach((v, i) => {
      const n = Math.floor(i / 2);
      equal(v.value, i % 2 === 0 ? n + 0.123456789 * (n % 7) : -n * 1e-7, `value ${i}`);
    });
    telemetry.close();
  });

  test("the smallest payload limit still carries the largest value and a drop report", async () => {
    const key = "k".repeat(64);
    const { clock, sink, telemetry } = makeRig({
      config: {
        intervalMs: 1000,
        batch: 4,
        bufferSize: 4,
        maxDelayMs: 1e9,
        maxPayloadBytes: 256,
        droppedKey: "d".repeat(64),
      },
      bindings: (sensor) => {
        // biome-ignore lint/correctness/noPrecisionLoss: the longest shortest-form number JSON can carry, on purpose
        sensor.produce = () => ({ v: -1.2345678901234567e-300 });
        return [{ sensor, readings: [{ path: "v", key }] }];
      },
    });
    let online = false;
    sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "offline" });
    telemetry.start();
    await clock.advance(60_000);
    ok(telemetry.counters.dropped > 50);
    online = true;
    await clock.advance(600_000);
    ok(telemetry.counters.sent > 100);
    for (const call of sink.calls) {
      ok(payloadSize(call.values) <= 256, `${payloadSize(call.values)} bytes`);
      ok(
        call.values.some((v) => v.key === key),
        "every batch carries a value",
      );
    }
    ok(
      sink.calls.some((c) => c.values.length === 2 && c.values[1]!.key === "d".repeat(64)),
      "a value and a report together",
    );
    telemetry.close();
  });

  test("one batch in flight at a time; the next goes when the first is answered", async () => {
    // Batch-sized drain: with the drain at capacity the backlog of four would go in one write.
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 2, maxDelayMs: 1e9, drainAtCapacity: false },
    });
    telemetry.start();
    await clock.advance(5000);
    equal(sink.calls.length, 1, "values 2–5 wait behind the batch in flight");
    deepEqual(numbers(sink.calls[0]!.values), [0, 1]);
    sink.calls[0]!.answer({ kind: "stored" });
    await clock.settle();
    equal(sink.calls.length, 2, "the backlog goes at once");
    deepEqual(numbers(sink.calls[1]!.values), [2, 3]);
    sink.calls[1]!.answer({ kind: "stored" });
    await clock.settle();
    deepEqual(numbers(sink.calls[2]!.values), [4, 5]);
    equal(sink.pending, 1);
    telemetry.close();
  });
});
