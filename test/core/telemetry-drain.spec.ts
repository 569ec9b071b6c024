// Draining a backlog at the datagram's capacity (sensors/uploader.ts): while more than one batch
// waits, each write carries as many values as fit the 1024-byte payload, oldest first, whatever
// `batch` is; once the backlog is gone `batch` and maxDelay decide again.
import type { BatchValue } from "../../sensors/batch-sink.js";
import { payloadSize } from "../core-fakes/telemetry-fakes.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function numbers(values: readonly BatchValue[]): number[] {
  return values.filter((v) => v.key === "temperature").map((v) => v.value as number);
}

async function backlogThenOnline(drainAtCapacity: boolean) {
  const rig = makeRig({ config: { intervalMs: 1000, batch: 5, maxDelayMs: 3000, drainAtCapacity } });
  let online = false;
  rig.sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "offline" });
  rig.telemetry.start();
  await rig.clock.advance(99_500);
  equal(rig.telemetry.counters.buffered, 100);
  const before = rig.sink.calls.length;
  online = true;
  rig.telemetry.retryNow();
  await rig.clock.advance(20_000);
  return { ...rig, writes: rig.sink.calls.slice(before) };
}

suite("telemetry: drain at capacity", () => {
  test("while more than one batch waits, each write is filled to the payload limit, oldest first", async () => {
    const { writes, telemetry } = await backlogThenOnline(true);
    const delivered = writes.flatMap((c) => numbers(c.values));
    deepEqual(delivered.slice(0, 100), [...Array(100).keys()]);
    // The first write is the batch pinned since the outage began (formed by maxDelay, re-sent as it was).
    equal(numbers(writes[0]!.values).length, 4);
    const draining = writes.slice(1).filter((c) => numbers(c.values)[0]! < 95);
    ok(draining.length >= 5 && draining.length <= 7, `${draining.length} writes for 100 values`);
    draining.forEach((call, i) => {
      ok(payloadSize(call.values) <= 1024);
      const next = writes[writes.indexOf(call) + 1]?.values[0];
      if (i < draining.length - 1 && next !== undefined)
        ok(
          payloadSize([...call.values, next]) > 1024,
          `write ${i} (${call.values.length} values) had room for one more`,
        );
    });
    ok(numbers(draining[0]!.values).length >= 16, `${numbers(draining[0]!.values).length} values in the first write`);
    // Drained: back to `batch`-sized writes every 5 s.
    const tail = writes.slice(-2);
    ok(tail.every((c) => numbers(c.values).length <= 5));
    telemetry.close();
  });

  test("the batch-sized drain (drainAtCapacity false) writes `batch` values at a time", async () => {
    const { writes, telemetry } = await backlogThenOnline(false);
    ok(writes.length >= 20);
    ok(writes.every((c) => numbers(c.values).length <= 5));
    deepEqual(writes.flatMap((c) => numbers(c.values)).slice(0, 100), [...Array(100).keys()]);
    telemetry.close();
  });

  test("one batch's worth waiting is not a backlog: it still waits for `batch` or maxDelay", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 5, maxDelayMs: 60_000 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(3_500);
    equal(sink.calls.length, 0);
    await clock.advance(1_000);
    equal(sink.calls.length, 1);
    equal(numbers(sink.calls[0]!.values).length, 5);
    telemetry.close();
  });
});
