// Telemetry.reconfigure (sensors/telemetry.ts): the sampling period and the flush triggers
// changed while telemetry runs, as settings written on the platform do. A new interval counts
// from the last round (no burst, no gap); a new batch or maxDelay applies to what waits now; a
// new persistAfter applies to what waits for the flash now, and `auto` follows maxDelay.
import { MemoryPageStore } from "../core-fakes/page-stores.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function timedRig(config: Record<string, number>) {
  const rig = makeRig({ config });
  const times: number[] = [];
  rig.sensor.produce = (n) => {
    times.push(rig.clock.now());
    return { temperature: n };
  };
  return { ...rig, times };
}

suite("telemetry: reconfigure", () => {
  test("a shorter interval: the next round one new interval after the last, then the new spacing", async () => {
    const r = timedRig({ intervalMs: 10_000, batch: 100, bufferSize: 200 });
    const t0 = r.clock.now();
    r.telemetry.start();
    await r.clock.advance(500);
    equal(r.telemetry.reconfigure({ intervalMs: 1_000 }), undefined);
    await r.clock.advance(3_600);
    deepEqual(
      r.times.map((t) => t - t0),
      [0, 1_000, 2_000, 3_000, 4_000],
    );
    equal(r.telemetry.config.intervalMs, 1_000);
    r.telemetry.close();
  });

  test("a shorter interval whose next round has already passed samples once now, then a full new interval on", async () => {
    const r = timedRig({ intervalMs: 10_000, batch: 100, bufferSize: 200 });
    const t0 = r.clock.now();
    r.telemetry.start();
    await r.clock.advance(7_250);
    r.telemetry.reconfigure({ intervalMs: 1_000 });
    await r.clock.advance(2_000);
    deepEqual(
      r.times.map((t) => t - t0),
      [0, 7_250, 8_250, 9_250],
      "one round at once, none of the missed ones, and no round closer than the new interval",
    );
    r.telemetry.close();
  });

  test("a longer interval: no round until one new interval after the last", async () => {
    const r = timedRig({ intervalMs: 1_000, batch: 100, bufferSize: 200 });
    const t0 = r.clock.now();
    r.telemetry.start();
    await r.clock.advance(2_500);
    r.telemetry.reconfigure({ intervalMs: 5_000 });
    await r.clock.advance(10_000);
    deepEqual(
      r.times.map((t) => t - t0),
      [0, 1_000, 2_000, 7_000, 12_000],
    );
    r.telemetry.close();
  });

  test("before start the new interval is simply the interval", async () => {
    const r = timedRig({ intervalMs: 10_000 });
    r.telemetry.reconfigure({ intervalMs: 2_000 });
    const t0 = r.clock.now();
    r.telemetry.start();
    await r.clock.advance(4_000);
    deepEqual(
      r.times.map((t) => t - t0),
      [0, 2_000, 4_000],
    );
    r.telemetry.close();
  });

  test("a smaller batch sends the values already waiting; a shorter maxDelay flushes what is now overdue", async () => {
    const r = timedRig({ intervalMs: 1_000, batch: 20, maxDelayMs: 60_000, bufferSize: 100 });
    r.sink.autoAnswer = () => ({ kind: "stored" });
    r.telemetry.start();
    await r.clock.advance(4_500);
    equal(r.sink.calls.length, 0, "5 values wait for 20");
    r.telemetry.reconfigure({ batch: 5 });
    await r.clock.settle();
    equal(r.sink.calls.length, 1);
    equal(r.sink.last.values.length, 5);
    await r.clock.advance(2_000);
    equal(r.sink.calls.length, 1, "2 values wait for 5");
    r.telemetry.reconfigure({ maxDelayMs: 1_000 });
    await r.clock.settle();
    equal(r.sink.calls.length, 2, "the oldest waited over a second: due now");
    equal(r.sink.last.values.length, 2);
    await r.clock.advance(1_600);
    equal(r.sink.calls.length, 3, "then maxDelay after the next value");
    r.telemetry.close();
  });

  test("a longer maxDelay holds the values that would have gone", async () => {
    const r = timedRig({ intervalMs: 100_000, batch: 20, maxDelayMs: 5_000 });
    r.sink.autoAnswer = () => ({ kind: "stored" });
    r.telemetry.start();
    await r.clock.advance(3_000);
    r.telemetry.reconfigure({ maxDelayMs: 20_000 });
    await r.clock.advance(10_000);
    equal(r.sink.calls.length, 0);
    await r.clock.advance(7_000);
    equal(r.sink.calls.length, 1);
    r.telemetry.close();
  });

  test("persistAfter: auto follows maxDelay; a duration stays; auto again follows it once more", () => {
    const r = timedRig({ intervalMs: 1_000, maxDelayMs: 2_000 });
    equal(r.telemetry.config.persistAfterMs, 32_000, "auto at construction: maxDelay + 30 s");
    r.telemetry.reconfigure({ maxDelayMs: 5_000 });
    equal(r.telemetry.config.persistAfterMs, 35_000, "follows maxDelay");
    r.telemetry.reconfigure({ persistAfterMs: 8_000 });
    r.telemetry.reconfigure({ maxDelayMs: 10_000 });
    equal(r.telemetry.config.persistAfterMs, 8_000, "a duration does not follow");
    r.telemetry.reconfigure({ persistAfterMs: "auto" });
    equal(r.telemetry.config.persistAfterMs, 40_000);
    ok(r.telemetry.reconfigure({ persistAfterMs: -5 })?.includes("persistAfterMs"));
    equal(r.telemetry.config.persistAfterMs, 40_000, "a refused change changes nothing");
    r.telemetry.close();
  });

  test("a persistAfter given at construction does not follow maxDelay unless told it is auto", () => {
    const fixed = timedRig({ intervalMs: 1_000, maxDelayMs: 2_000, persistAfterMs: 32_000 });
    fixed.telemetry.reconfigure({ maxDelayMs: 5_000 });
    equal(fixed.telemetry.config.persistAfterMs, 32_000);
    fixed.telemetry.close();
  });

  test("a shorter persistAfter during an outage: what waited that long goes to flash now, not at the old time", async () => {
    const pages = new MemoryPageStore();
    const r = makeRig({ pages, config: { intervalMs: 1_000, batch: 5, maxDelayMs: 2_000, persistAfterMs: 60_000 } });
    r.sink.autoAnswer = () => ({ kind: "unavailable", reason: "offline" });
    r.telemetry.start();
    await r.clock.advance(20_000);
    equal(r.telemetry.counters.flashWrites, 0, "nothing waited 60 s yet");
    equal(r.telemetry.reconfigure({ persistAfterMs: 5_000 }), undefined);
    await r.clock.advance(100);
    ok(r.telemetry.counters.flashWrites > 0, "the new, shorter wait is over for the oldest values");
    ok(r.telemetry.counters.persisted >= 15, `persisted ${r.telemetry.counters.persisted}`);
    r.telemetry.close();
  });

  test("a change the checks refuse is reported and changes nothing; a closed telemetry refuses", () => {
    const r = timedRig({ intervalMs: 1_000, batch: 20, bufferSize: 50 });
    ok(r.telemetry.reconfigure({ batch: 51 })?.includes("batch"));
    ok(r.telemetry.reconfigure({ intervalMs: -1 })?.includes("intervalMs"));
    equal(r.telemetry.config.batch, 20);
    equal(r.telemetry.config.intervalMs, 1_000);
    r.telemetry.close();
    equal(r.telemetry.reconfigure({ batch: 5 }), "telemetry is closed");
  });
});
