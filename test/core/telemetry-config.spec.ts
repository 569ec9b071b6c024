// Telemetry settings: defaults and checks (sensors/telemetry-config.ts), and the constructor's
// own checks (sensors/telemetry.ts).
import { Telemetry } from "../../sensors/telemetry.js";
import {
  DEFAULT_TELEMETRY_CONFIG,
  resolveTelemetryConfig,
  type TelemetrySettings,
} from "../../sensors/telemetry-config.js";
import { FakeBatchSink, SettableWallClock } from "../core-fakes/telemetry-fakes.js";
import { deepEqual, equal, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom } from "../sim/seeded-random.js";

suite("telemetry: config", () => {
  test("defaults: 1024-byte payloads, the reserved drop key, no resend window of its own", () => {
    const config = resolveTelemetryConfig();
    deepEqual(config, DEFAULT_TELEMETRY_CONFIG);
    equal(config.maxPayloadBytes, 1024);
    equal(config.droppedKey, "telemetry.dropped");
    // RFC 7252 EXCHANGE_LIFETIME belongs to the endpoint (telemetry-resend-window.spec.ts).
    equal("exchangeLifetimeMs" in config, false);
  });

  test("settings override defaults, backoff field by field", () => {
    const config = resolveTelemetryConfig({ intervalMs: 500, batch: 5, bufferSize: 50, backoff: { maxMs: 60_000 } });
    equal(config.intervalMs, 500);
    equal(config.batch, 5);
    equal(config.bufferSize, 50);
    equal(config.backoff.maxMs, 60_000);
    equal(config.backoff.initialMs, DEFAULT_TELEMETRY_CONFIG.backoff.initialMs);
  });

  test("a resolved configuration is kept, not copied; the default backoff is shared", () => {
    const resolved = resolveTelemetryConfig({ intervalMs: 500, batch: 5, bufferSize: 50 });
    equal(resolved.backoff, DEFAULT_TELEMETRY_CONFIG.backoff);
    equal(resolveTelemetryConfig(resolved), resolved);
    equal(resolveTelemetryConfig(DEFAULT_TELEMETRY_CONFIG), DEFAULT_TELEMETRY_CONFIG);
    const custom = resolveTelemetryConfig({ backoff: { maxMs: 60_000 } });
    equal(resolveTelemetryConfig(custom), custom);
    // Not frozen, or not every field the same: a new, checked copy.
    const copy = resolveTelemetryConfig({ ...resolved });
    equal(copy === resolved, false);
    deepEqual(copy, resolved);
    equal(resolveTelemetryConfig({ ...resolved, batch: 6 }).batch, 6);
    equal(resolveTelemetryConfig(Object.freeze({ ...resolved, batch: 6 })) === resolved, false);
    // A null backoff (outside the types) still means the defaults, as before.
    const nullBackoff = resolveTelemetryConfig(
      Object.freeze({ ...resolved, backoff: null }) as unknown as TelemetrySettings,
    );
    deepEqual(nullBackoff.backoff, DEFAULT_TELEMETRY_CONFIG.backoff);
  });

  test("out-of-range settings throw", () => {
    const bad: TelemetrySettings[] = [
      { intervalMs: 0 },
      { intervalMs: Number.NaN },
      { batch: 0 },
      { batch: 2.5 },
      { batch: 11, bufferSize: 10 },
      { bufferSize: 0 },
      { bufferSize: 1_000_000 },
      { maxPayloadBytes: 100 },
      { maxDelayMs: -1 },
      { droppedKey: "bad key" },
      { intervalMs: "1000" as unknown as number },
    ];
    for (const settings of bad)
      throws(
        () => resolveTelemetryConfig(settings),
        (e) => e instanceof RangeError || e instanceof TypeError,
        JSON.stringify(settings),
      );
  });

  test("the constructor checks its ports, its bindings, the backoff and the reserved key", () => {
    const clock = new FakeClock();
    const ports = {
      sink: new FakeBatchSink(() => 0),
      clock,
      wallClock: new SettableWallClock(),
      random: new ConstantRandom(0),
    };
    const sensor = { sample: () => ({ t: 1 }) };
    const readings = [{ path: "t", key: "t" }];
    new Telemetry({ ...ports, bindings: [{ sensor, readings }] }).close();
    throws(
      () => new Telemetry({ ...ports, bindings: [{ sensor, readings: [{ path: "t", key: "telemetry.dropped" }] }] }),
      (e) => e instanceof TypeError,
    );
    throws(
      () => new Telemetry({ ...ports, bindings: [{ sensor, readings }], config: { droppedKey: "t" } }),
      (e) => e instanceof TypeError,
    );
    throws(
      () => new Telemetry({ ...ports, bindings: [{ sensor, readings }], config: { backoff: { multiplier: 0.5 } } }),
      (e) => e instanceof RangeError,
    );
    throws(
      () => new Telemetry({ ...ports, sink: {} as never, bindings: [{ sensor, readings }] }),
      (e) => e instanceof TypeError,
    );
    throws(
      () => new Telemetry({ ...ports, bindings: [{ sensor: {} as never, readings }] }),
      (e) => e instanceof TypeError,
    );
    equal(clock.pendingTimers, 0, "constructing sets no timer");
  });
});
