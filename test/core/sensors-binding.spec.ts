// Reading bindings: config checks and reading extraction (sensors/sensor-binding.ts).
import { compileBindings, extractReading, type SensorBinding } from "../../sensors/sensor-binding.js";
import { deepEqual, equal, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const sensor = { sample: () => ({}) };

function reading(path: string, extra: { scale?: number; decimals?: number } = {}) {
  const plan = compileBindings([{ sensor, readings: [{ path, key: "k", ...extra }] }]);
  return plan.bindings[0]!.readings[0]!;
}

suite("sensors: binding config", () => {
  test("keys are shared in first-use order and readings are counted", () => {
    const plan = compileBindings([
      {
        sensor,
        readings: [
          { path: "temperature", key: "temp" },
          { path: "humidity", key: "hum" },
        ],
      },
      { sensor, name: "second", readings: [{ path: "thermometer.temperature", key: "temp" }] },
    ]);
    deepEqual(plan.keys, ["temp", "hum"]);
    equal(plan.readingCount, 3);
    equal(plan.bindings[1]!.readings[0]!.keyIndex, 0);
    deepEqual(plan.bindings[1]!.readings[0]!.segments, ["thermometer", "temperature"]);
    equal(plan.bindings[0]!.readings[0]!.segments, "temperature");
    equal(plan.bindings[0]!.name, "sensor 0");
    equal(plan.bindings[1]!.name, "second");
  });

  test("keys outside [A-Za-z0-9._-] or longer than 64 are refused", () => {
    for (const key of ["", "a b", "tempé", "a/b", "x".repeat(65), 5 as unknown as string]) {
      throws(
        () => compileBindings([{ sensor, readings: [{ path: "t", key }] }]),
        (e) => e instanceof TypeError,
        JSON.stringify(key),
      );
    }
    compileBindings([
      {
        sensor,
        readings: [
          { path: "t", key: "A.z-0_9" },
          { path: "t", key: "x".repeat(64) },
        ],
      },
    ]);
  });

  test("malformed bindings are refused with a TypeError or RangeError", () => {
    const bad: unknown[] = [
      [{ sensor: {}, readings: [{ path: "t", key: "k" }] }],
      [{ sensor, readings: [] }],
      [{ sensor, readings: [{ path: "a..b", key: "k" }] }],
      [{ sensor, readings: [{ path: "", key: "k" }] }],
      [{ sensor, readings: [{ path: "t", key: "k", scale: Number.NaN }] }],
      [{ sensor, readings: [{ path: "t", key: "k", decimals: 1.5 }] }],
      [{ sensor, readings: [{ path: "t", key: "k", decimals: 11 }] }],
      [null],
      "not an array",
    ];
    for (const bindings of bad) {
      throws(
        () => compileBindings(bindings as SensorBinding[]),
        (e) => e instanceof TypeError || e instanceof RangeError,
        JSON.stringify(bindings),
      );
    }
  });
});

suite("sensors: reading extraction", () => {
  test("flat and nested paths", () => {
    equal(extractReading({ temperature: 21.5 }, reading("temperature")), 21.5);
    equal(
      extractReading(
        { thermometer: { temperature: -3 }, hygrometer: { humidity: 40 } },
        reading("thermometer.temperature"),
      ),
      -3,
    );
    equal(extractReading({ hygrometer: { humidity: 40 } }, reading("hygrometer.humidity")), 40);
  });

  test("scale and decimals", () => {
    equal(extractReading({ raw: 4095 }, reading("raw", { scale: 3.3 / 4095, decimals: 3 })), 3.3);
    equal(extractReading({ raw: 2048 }, reading("raw", { scale: 3.3 / 4095, decimals: 3 })), 1.65);
    equal(extractReading({ t: 21.534912109375 }, reading("t", { decimals: 2 })), 21.53);
    equal(extractReading({ t: 21.534912109375 }, reading("t", { decimals: 0 })), 22);
    equal(extractReading({ t: 21.534912109375 }, reading("t")), 21.534912109375);
  });

  test("missing, non-number, NaN and infinite readings give undefined", () => {
    const t = reading("a.b");
    const samples: unknown[] = [
      undefined,
      null,
      42,
      "text",
      {},
      { a: null },
      { a: 5 },
      { a: { b: "21.5" } },
      { a: { b: Number.NaN } },
      { a: { b: Number.POSITIVE_INFINITY } },
      { a: { b: Number.NEGATIVE_INFINITY } },
      { a: { b: true } },
      { a: { b: 10n } },
      { a: { b: [1] } },
      { a: { b: { valueOf: () => 3 } } },
      {
        a: {
          get b(): number {
            throw new Error("bus error");
          },
        },
      },
    ];
    samples.forEach((sample, i) => {
      equal(extractReading(sample, t), undefined, `sample ${i}`);
    });
  });

  test("a reading that overflows when scaled is not finite, so skipped", () => {
    equal(extractReading({ t: 1e308 }, reading("t", { scale: 1e10 })), undefined);
  });
});
