// device.health (device/health-report.ts): every healthInterval, uptime and the device's
// counters, the heap and RSSI where the target measures them; fields it cannot give are left
// out, not faked; 0 turns the reports off; a new interval counts from when it was set.
import { HealthReporter, type TargetHealth } from "../../device/health-report.js";
import type { JsonObjectValue } from "../../thethings/values.js";
import { RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";

function rig(intervalMs: number, target?: () => TargetHealth) {
  const clock = new FakeClock({ startAt: 123_456 });
  const reports: { at: number; value: JsonObjectValue }[] = [];
  const log = new RecordingLog();
  const counters = { retransmissions: 3, dropped: 1, buffered: 42 };
  const health = new HealthReporter({
    clock,
    log: log.sink,
    intervalMs,
    host: {
      healthCounters: () => counters,
      reportHealth: (value) => {
        reports.push({ at: clock.now(), value });
        return undefined;
      },
    },
    readTarget: target,
  });
  return { clock, reports, health, counters, log };
}

suite("device: the health report", () => {
  test("every interval: uptime in seconds since start and the counters; no heap or RSSI where the target has none", async () => {
    const r = rig(10_000);
    r.health.start();
    await r.clock.advance(25_000);
    deepEqual(
      r.reports.map((report) => report.value),
      [
        { uptime: 10, retransmissions: 3, dropped: 1, buffered: 42 },
        { uptime: 20, retransmissions: 3, dropped: 1, buffered: 42 },
      ],
    );
    r.counters.buffered = 0;
    await r.clock.advance(5_000);
    equal(r.reports[2]!.value.buffered, 0, "read when the report is made");
    r.health.close();
    await r.clock.advance(60_000);
    equal(r.reports.length, 3, "closed: no more");
  });

  test("the heap and RSSI the target measures are carried; nonsense from it is left out", async () => {
    let target: TargetHealth = { heap: 41_234, rssi: -67 };
    const r = rig(1_000, () => target);
    r.health.start();
    await r.clock.advance(1_000);
    deepEqual(r.reports[0]!.value, {
      uptime: 1,
      heap: 41_234,
      rssi: -67,
      retransmissions: 3,
      dropped: 1,
      buffered: 42,
    });
    for (const bad of [{ heap: Number.NaN, rssi: 12 }, { heap: -5, rssi: 1.5 }, { heap: 1.5 }, {}]) {
      target = bad as TargetHealth;
      await r.clock.advance(1_000);
      deepEqual(Object.keys(r.reports.at(-1)!.value), ["uptime", "retransmissions", "dropped", "buffered"]);
    }
    target = undefined as unknown as TargetHealth;
    await r.clock.advance(1_000);
    equal(r.reports.length, 6, "an adapter answering nothing still leaves a report");
    r.health.close();
  });

  test("a target whose figures throw still gets a report, without them", async () => {
    const r = rig(1_000, () => {
      throw new Error("instrumentation unavailable");
    });
    r.health.start();
    await r.clock.advance(1_000);
    deepEqual(Object.keys(r.reports[0]!.value), ["uptime", "retransmissions", "dropped", "buffered"]);
    r.health.close();
  });

  test("0 turns the reports off; a new interval counts from when it was set", async () => {
    const r = rig(0);
    r.health.start();
    await r.clock.advance(3_600_000);
    equal(r.reports.length, 0, "off from the start");
    r.health.setInterval(5_000);
    await r.clock.advance(12_000);
    deepEqual(
      r.reports.map((report) => report.value.uptime),
      [3_605, 3_610],
    );
    await r.clock.advance(1_000);
    r.health.setInterval(2_000);
    await r.clock.advance(4_500);
    deepEqual(
      r.reports.map((report) => report.value.uptime),
      [3_605, 3_610, 3_615, 3_617],
    );
    r.health.setInterval(0);
    await r.clock.advance(60_000);
    equal(r.reports.length, 4);
    r.health.close();
  });
});
