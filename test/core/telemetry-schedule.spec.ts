// The polling loop: when it samples, and which values carry a datetime (sensors/telemetry.ts).
import type { Clock, TimerHandle } from "../../kernel/clock.js";
import { Telemetry } from "../../sensors/telemetry.js";
import { FakeBatchSink, isoCompact, ScriptedSensor, SettableWallClock } from "../core-fakes/telemetry-fakes.js";
import { makeRig, SOME_UTC } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom } from "../sim/seeded-random.js";

/** A clock whose timers fire `lateness()` ms after they are due, like a busy event loop. */
class LateClock implements Clock {
  readonly inner: FakeClock;
  lateness: () => number = () => 0;

  constructor(inner: FakeClock) {
    this.inner = inner;
  }

  now(): number {
    return this.inner.now();
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    return this.inner.setTimer(callback, delayMs + this.lateness());
  }

  clearTimer(handle: TimerHandle): void {
    this.inner.clearTimer(handle);
  }
}

function lateRig(): { clock: LateClock; times: number[]; telemetry: Telemetry } {
  const inner = new FakeClock({ startAt: 5_000 });
  const clock = new LateClock(inner);
  const times: number[] = [];
  const sensor = new ScriptedSensor(() => {
    times.push(inner.now());
    return { t: 1 };
  });
  const telemetry = new Telemetry({
    bindings: [{ sensor, readings: [{ path: "t", key: "t" }] }],
    sink: new FakeBatchSink(() => inner.now()),
    clock,
    wallClock: new SettableWallClock(),
    random: new ConstantRandom(0),
    config: { intervalMs: 1000, batch: 1000, bufferSize: 1000, maxDelayMs: 1e9 },
  });
  return { clock, times, telemetry };
}

suite("telemetry: polling schedule", () => {
  test("samples at start, then every interval", async () => {
    const { clock, sensor, telemetry } = makeRig({ config: { intervalMs: 1000 } });
    equal(sensor.samples, 0, "nothing before start()");
    telemetry.start();
    equal(sensor.samples, 1, "one sample at start");
    ok(telemetry.running);
    await clock.advance(999);
    equal(sensor.samples, 1);
    await clock.advance(1);
    equal(sensor.samples, 2);
    await clock.advance(10_000);
    equal(sensor.samples, 12);
    telemetry.start();
    equal(sensor.samples, 12, "start() while running does nothing");
    telemetry.close();
  });

  test("late timers do not add up: rounds stay on the start + k × interval grid", async () => {
    const { clock, times, telemetry } = lateRig();
    clock.lateness = () => 30;
    telemetry.start();
    await clock.inner.advance(4_000);
    deepEqual(times, [5000, 6030, 7030, 8030]);
    telemetry.close();
  });

  test("rounds missed by a very late timer are skipped, not bunched", async () => {
    const { clock, times, telemetry } = lateRig();
    let late = 2500;
    clock.lateness = () => {
      const l = late;
      late = 0;
      return l;
    };
    telemetry.start();
    await clock.inner.advance(5_000);
    deepEqual(times, [5000, 8500, 9000, 10000]);
    telemetry.close();
  });

  test("stop() ends sampling; start() begins a new grid from now", async () => {
    const { clock, sensor, telemetry } = makeRig({ config: { intervalMs: 1000 } });
    telemetry.start();
    await clock.advance(2500);
    telemetry.stop();
    ok(!telemetry.running);
    const taken = sensor.samples;
    await clock.advance(10_000);
    equal(sensor.samples, taken);
    telemetry.start();
    equal(sensor.samples, taken + 1);
    await clock.advance(1000);
    equal(sensor.samples, taken + 2);
    telemetry.close();
  });
});

// holdUnstampedMs 0: values sampled before the clock is set go at once, without a datetime (how
// they wait for it instead and get it back-filled: telemetry-backfill.spec.ts).
suite("telemetry: datetime", () => {
  test("values carry their UTC datetime only once the wall clock is set", async () => {
    const { clock, sink, wall, telemetry } = makeRig({
      utc: undefined,
      config: { intervalMs: 1000, batch: 1, holdUnstampedMs: 0 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(1000);
    wall.set(SOME_UTC + 400);
    await clock.advance(2000);
    const sent = sink.calls.map((c) => c.values[0]!);
    equal(sent.length, 4);
    equal(sent[0]!.datetime, undefined);
    equal(sent[1]!.datetime, undefined);
    ok(!("datetime" in sent[0]!), "no datetime field at all before the clock is set");
    // Set 400 ms into the second after SOME_UTC; the next round is 1 s later: seconds truncated.
    equal(sent[2]!.datetime, SOME_UTC + 1000);
    equal(sent[3]!.datetime, SOME_UTC + 2000);
    equal(isoCompact(sent[2]!.datetime!), "20240506070810");
    telemetry.close();
  });

  test("a wall clock reading 1970 (never set by SNTP) counts as not set", async () => {
    const { clock, sink, telemetry } = makeRig({ utc: 12_000, config: { batch: 1, holdUnstampedMs: 0 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.settle();
    equal(sink.calls.length, 1);
    equal(sink.calls[0]!.values[0]!.datetime, undefined);
    telemetry.close();
  });

  test("a wall clock that throws counts as not set and does not stop sampling", async () => {
    const { clock, sink, wall, sensor, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 1, holdUnstampedMs: 0 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    wall.utcNow = () => {
      throw new Error("rtc fault");
    };
    telemetry.start();
    await clock.advance(2000);
    equal(sensor.samples, 3);
    equal(sink.calls.length, 3);
    ok(sink.calls.every((c) => c.values[0]!.datetime === undefined));
    telemetry.close();
  });
});
