// Faults around the loop: sensors that throw or return garbage, a sink that misbehaves, close()
// at awkward moments. None of them stops sampling (sensors/telemetry.ts).
import type { BatchOutcome } from "../../sensors/batch-sink.js";
import { ScriptedSensor } from "../core-fakes/telemetry-fakes.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

suite("telemetry: faulty sensors", () => {
  test("a sensor that throws is caught, counted and logged on change; the others keep sampling", async () => {
    const flaky = new ScriptedSensor((n) => {
      if (n >= 2 && n < 6) throw new Error("I2C NACK");
      return { temperature: 100 + n };
    });
    const { clock, sink, telemetry, lines } = makeRig({
      config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 },
      bindings: (steady) => [
        { sensor: flaky, name: "sht3x", readings: [{ path: "temperature", key: "flaky" }] },
        { sensor: steady, readings: [{ path: "temperature", key: "steady" }] },
      ],
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(9000);
    equal(flaky.samples, 10, "sampled every round, throwing or not");
    const c = telemetry.counters;
    equal(c.sampleErrors, 4);
    equal(c.sampled, 16);
    equal(c.sent, 16);
    deepEqual(
      sink.calls
        .flatMap((call) => call.values)
        .filter((v) => v.key === "flaky")
        .map((v) => v.value),
      [100, 101, 106, 107, 108, 109],
    );
    const about = lines.filter((l) => l.message.includes("sht3x"));
    equal(about.length, 2, "one line when it starts failing, one when it recovers");
    equal(about[0]!.level, "warn");
    ok(about[0]!.message.includes("I2C NACK"));
    equal(about[1]!.level, "info");
    telemetry.close();
  });

  test("missing, NaN, infinite and non-number readings are skipped and counted, never sent", async () => {
    const garbage: unknown[] = [
      { temperature: 1 },
      { temperature: Number.NaN },
      undefined,
      { temperature: "21.5" },
      { temperature: Number.POSITIVE_INFINITY },
      null,
      { temperature: { value: 3 } },
      "not an object",
      { temperature: 2 },
    ];
    const sensor = new ScriptedSensor((n) => garbage[n % garbage.length]);
    const rig = makeRig({
      config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 },
      bindings: () => [{ sensor, readings: [{ path: "temperature", key: "t" }] }],
    });
    rig.sink.autoAnswer = () => ({ kind: "stored" });
    rig.telemetry.start();
    await rig.clock.advance(8000);
    equal(sensor.samples, 9);
    equal(rig.telemetry.counters.skipped, 7);
    equal(rig.telemetry.counters.sampled, 2);
    deepEqual(
      rig.sink.calls.map((c) => c.values[0]!.value),
      [1, 2],
    );
    // Bad from round 2 to 8: logged when it turned bad and when it turned good, not each round.
    equal(rig.lines.filter((l) => l.message.includes("skipped")).length, 1);
    equal(rig.lines.filter((l) => l.message.includes("valid again")).length, 1);
    rig.telemetry.close();
  });

  test("one bad reading does not spoil the others of the same sample", async () => {
    const { clock, sink, telemetry } = makeRig({
      config: { intervalMs: 1000, batch: 2, maxDelayMs: 1e9 },
      bindings: (sensor) => {
        sensor.produce = () => ({
          thermometer: { temperature: 21.5 },
          hygrometer: { humidity: Number.NaN },
          barometer: { pressure: 101_325 },
        });
        return [
          {
            sensor,
            readings: [
              { path: "thermometer.temperature", key: "temperature" },
              { path: "hygrometer.humidity", key: "humidity" },
              { path: "barometer.pressure", key: "pressure", scale: 0.01, decimals: 1 },
            ],
          },
        ];
      },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.settle();
    deepEqual(
      sink.calls[0]!.values.map((v) => `${v.key}=${v.value}`),
      ["temperature=21.5", "pressure=1013.3"],
    );
    equal(telemetry.counters.skipped, 1);
    telemetry.close();
  });
});

suite("telemetry: misbehaving sink and shutdown", () => {
  test("a sink that throws, rejects or answers nonsense counts as a failed write and is retried", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 } });
    const answers: (() => Promise<BatchOutcome>)[] = [
      () => {
        throw new Error("sync bug");
      },
      () => Promise.reject(new Error("async bug")),
      () => Promise.resolve({ kind: "maybe" } as unknown as BatchOutcome),
      () => Promise.resolve(undefined as unknown as BatchOutcome),
    ];
    let attempt = 0;
    const original = sink.send.bind(sink);
    sink.send = (values, previous) => {
      const answer = answers[attempt++];
      return answer === undefined ? original(values, previous) : answer();
    };
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    telemetry.stop();
    await clock.runUntil(() => telemetry.counters.sent === 1, 120_000);
    equal(attempt, 5);
    equal(telemetry.counters.writeFailures, 4);
    telemetry.close();
  });

  test("close() clears every timer, ignores a late answer, and is safe twice", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 1 } });
    telemetry.start();
    await clock.settle();
    equal(sink.pending, 1);
    telemetry.close();
    telemetry.close();
    equal(clock.pendingTimers, 0);
    ok(!telemetry.running);
    sink.calls[0]!.answer({ kind: "unanswered", retry: {} });
    await clock.settle();
    equal(clock.pendingTimers, 0, "no retry armed after close");
    let threw = false;
    try {
      telemetry.start();
    } catch {
      threw = true;
    }
    ok(threw, "start() after close() is misuse");
  });
});
