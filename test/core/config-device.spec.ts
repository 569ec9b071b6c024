// parseDeviceConfig: what a command line like
//   mcconfig -d -m -p esp32 sensors=sht3x,analog:34@light actuators=led:digital:2 interval=5s
// turns into, with the board's pins for what the entries leave out, and the clear stop for a bad
// value or settings that contradict each other.

import { DEFAULT_SETTINGS, parseDeviceConfig, SETTING_KEYS } from "../../device/config.js";
import { DEFAULT_TELEMETRY_CONFIG, MAX_BUFFER_SIZE } from "../../sensors/telemetry-config.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { rejected } from "./config-rejected.js";

suite("config device", () => {
  test("the defaults alone give a working configuration", () => {
    const config = parseDeviceConfig({});
    assert.equal(config.activationCode, undefined);
    assert.equal(config.productId, undefined);
    assert.equal(config.server.uri, "coap://coap.thethings.io:5683");
    assert.equal(config.server.isIpLiteral, false);
    assert.equal(config.telemetry.intervalMs, 10_000);
    assert.equal(config.telemetry.batch, 20);
    assert.equal(config.telemetry.maxDelayMs, 60_000);
    assert.equal(config.telemetry.bufferSize, 500);
    assert.equal(config.telemetry.droppedKey, DEFAULT_TELEMETRY_CONFIG.droppedKey);
    assert.equal(config.keepAliveMs, 30_000);
    assert.equal(config.reactivateOnAuthFailure, false);
    assert.deepEqual(
      config.sensors.map((s) => s.kind),
      ["sim"],
    );
    assert.deepEqual(config.actuators, []);
    assert.equal(config.logLevel, "info");
    assert.equal(config.memoryTraceMs, 0, "memory is off by default");
    assert.ok(Object.isFrozen(config), "the result is frozen");
    assert.ok(Object.isFrozen(DEFAULT_SETTINGS), "the defaults are frozen");
    assert.deepEqual(SETTING_KEYS, Object.keys(DEFAULT_SETTINGS));
  });

  test("command-line strings override every default; other keys are ignored", () => {
    const config = parseDeviceConfig({
      activationCode: "abc123",
      productId: "p-1",
      server: "coap://127.0.0.1:15683",
      interval: "500ms",
      batch: "5",
      maxDelay: "2m",
      bufferSize: "50",
      keepAlive: "45000",
      reactivateOnAuthFailure: "yes",
      sensors: "sim,sim-analog",
      actuators: "led:digital:2,fan:pwm:4",
      logLevel: "debug",
      memory: "30s",
      ssid: "home",
      password: "secret",
      sntp: "pool.ntp.org",
      file: { root: "/tmp" },
    });
    assert.equal(config.activationCode, "abc123");
    assert.equal(config.productId, "p-1");
    assert.deepEqual(config.server, {
      uri: "coap://127.0.0.1:15683",
      host: "127.0.0.1",
      port: 15683,
      isIpLiteral: true,
    });
    assert.equal(config.telemetry.intervalMs, 500);
    assert.equal(config.telemetry.batch, 5);
    assert.equal(config.telemetry.maxDelayMs, 120_000);
    assert.equal(config.telemetry.bufferSize, 50);
    assert.equal(config.keepAliveMs, 45_000);
    assert.equal(config.reactivateOnAuthFailure, true);
    assert.deepEqual(
      config.sensors.map((s) => s.kind),
      ["sim", "sim-analog"],
    );
    assert.deepEqual(
      config.actuators.map((a) => `${a.key}:${a.kind}:${a.pin}`),
      ["led:digital:2", "fan:pwm:4"],
    );
    assert.equal(config.logLevel, "debug");
    assert.equal(config.memoryTraceMs, 30_000);
  });

  test("JSON numbers and booleans from a manifest are accepted; undefined falls back to the default", () => {
    const config = parseDeviceConfig({
      batch: 10,
      bufferSize: 100,
      interval: 30_000,
      reactivateOnAuthFailure: true,
      keepAlive: undefined,
    });
    assert.equal(config.telemetry.batch, 10);
    assert.equal(config.telemetry.bufferSize, 100);
    assert.equal(config.telemetry.intervalMs, 30_000);
    assert.equal(config.reactivateOnAuthFailure, true);
    assert.equal(config.keepAliveMs, 30_000);
  });

  test("a bare duration is milliseconds, from the command line and from the manifest alike", () => {
    const typed = parseDeviceConfig({ interval: "500", maxDelay: "2000", keepAlive: "45000" });
    assert.equal(typed.telemetry.intervalMs, 500);
    assert.equal(typed.telemetry.maxDelayMs, 2_000);
    assert.equal(typed.keepAliveMs, 45_000);
    const json = parseDeviceConfig({ interval: 500, maxDelay: 2000, keepAlive: 45000 });
    assert.deepEqual([json.telemetry.intervalMs, json.telemetry.maxDelayMs, json.keepAliveMs], [500, 2_000, 45_000]);
    const units = parseDeviceConfig({ interval: "0.5s", maxDelay: "2s", keepAlive: "45s" });
    assert.deepEqual([units.telemetry.intervalMs, units.telemetry.maxDelayMs, units.keepAliveMs], [500, 2_000, 45_000]);
    // What used to mean seconds is now refused where milliseconds fall below the bound.
    rejected(() => parseDeviceConfig({ interval: 30 }), "interval", '"30"', "outside 100ms–24h");
    rejected(() => parseDeviceConfig({ keepAlive: "45" }), "keepAlive", '"45"', "outside 5s–1h");
  });

  test("entries that leave pins out take the board's; without a board the fallbacks", () => {
    const board = { ledPin: 13, i2c: { sda: 23, scl: 22 } };
    const onBoard = parseDeviceConfig({ sensors: "sht3x", actuators: "led:digital" }, board);
    assert.equal(onBoard.actuators[0]!.pin, 13);
    const [sht] = onBoard.sensors;
    assert.ok(sht !== undefined && sht.kind === "sht3x");
    assert.deepEqual([sht.sda, sht.scl, sht.address], [23, 22, 0x44]);
    const plain = parseDeviceConfig({ sensors: "sht3x", actuators: "led:digital" });
    const [plainSht] = plain.sensors;
    assert.ok(plainSht !== undefined && plainSht.kind === "sht3x");
    assert.deepEqual([plain.actuators[0]!.pin, plainSht.sda, plainSht.scl], [2, 21, 22]);
    assert.equal(parseDeviceConfig({ actuators: "led:digital:4" }, board).actuators[0]!.pin, 4, "an explicit pin wins");
  });

  test("the outbox and the clock: persistAfter follows maxDelay unless given, outboxSize, holdUnstamped", () => {
    const defaults = parseDeviceConfig({});
    assert.equal(defaults.telemetry.persistAfterMs, 90_000, "auto: maxDelay 60 s + 30 s");
    assert.equal(defaults.telemetry.outboxSize, 500);
    assert.equal(defaults.telemetry.holdUnstampedMs, 600_000);
    assert.equal(parseDeviceConfig({ maxDelay: "2m" }).telemetry.persistAfterMs, 150_000);
    assert.equal(parseDeviceConfig({ persistAfter: "AUTO", maxDelay: "10s" }).telemetry.persistAfterMs, 40_000);
    const given = parseDeviceConfig({ persistAfter: "5m", outboxSize: "0", holdUnstamped: "0" });
    assert.equal(given.telemetry.persistAfterMs, 300_000);
    assert.equal(given.telemetry.outboxSize, 0);
    assert.equal(given.telemetry.holdUnstampedMs, 0);
    assert.equal(parseDeviceConfig({ persistAfter: "2500" }).telemetry.persistAfterMs, 2_500, "a bare number is ms");
    assert.equal(parseDeviceConfig({ persistAfter: 2500 }).telemetry.persistAfterMs, 2_500, "a JSON number too");
    rejected(() => parseDeviceConfig({ persistAfter: "soon" }), "persistAfter", '"soon"');
    rejected(() => parseDeviceConfig({ persistAfter: "0" }), "persistAfter", "outside");
    rejected(() => parseDeviceConfig({ outboxSize: "-1" }), "outboxSize", "not a whole number");
    rejected(() => parseDeviceConfig({ outboxSize: "2000000" }), "outboxSize", "outside");
    rejected(() => parseDeviceConfig({ holdUnstamped: "2d" }), "holdUnstamped", "not a duration");
  });

  test("setupTimeout: a duration from a minute to a day, or off; 10 minutes by default", () => {
    assert.equal(parseDeviceConfig({}).setup.idleMs, 600_000);
    assert.equal(parseDeviceConfig({ setupTimeout: "2m" }).setup.idleMs, 120_000);
    assert.equal(parseDeviceConfig({ setupTimeout: "OFF" }).setup.idleMs, 0);
    assert.equal(parseDeviceConfig({ setupTimeout: "0" }).setup.idleMs, 0);
    rejected(() => parseDeviceConfig({ setupTimeout: "30s" }), "setupTimeout", '"30s"', "outside 1m–24h");
    rejected(() => parseDeviceConfig({ setupTimeout: "never" }), "setupTimeout", '"never"');
  });

  test("a prototype key is not a setting", () => {
    const values = Object.create({ batch: "bad" }) as Record<string, unknown>;
    assert.equal(parseDeviceConfig(values).telemetry.batch, 20);
  });

  test("each bad value stops startup naming its key", () => {
    rejected(() => parseDeviceConfig({ interval: "fast" }), "interval", '"fast"');
    rejected(() => parseDeviceConfig({ batch: "0" }), "batch", "outside");
    rejected(
      () => parseDeviceConfig({ bufferSize: String(MAX_BUFFER_SIZE + 1) }),
      "bufferSize",
      `outside 1–${MAX_BUFFER_SIZE}`,
    );
    rejected(() => parseDeviceConfig({ maxDelay: "0s" }), "maxDelay", "outside");
    rejected(() => parseDeviceConfig({ keepAlive: "1s" }), "keepAlive", "outside 5s–1h");
    rejected(
      () => parseDeviceConfig({ reactivateOnAuthFailure: "sometimes" }),
      "reactivateOnAuthFailure",
      "not a boolean",
    );
    rejected(() => parseDeviceConfig({ server: "coaps://coap.thethings.io" }), "server", "DTLS");
    rejected(() => parseDeviceConfig({ sensors: "bme280" }), "sensors", "unknown sensor kind");
    rejected(() => parseDeviceConfig({ actuators: "led" }), "actuators", "KEY:digital:PIN");
    rejected(() => parseDeviceConfig({ logLevel: "loud" }), "logLevel", "loud");
    rejected(() => parseDeviceConfig({ activationCode: "has space" }), "activationCode", "space");
  });

  test("settings that contradict each other", () => {
    rejected(() => parseDeviceConfig({ batch: "50", bufferSize: "20" }), "batch", "larger than bufferSize 20");
    rejected(
      () => parseDeviceConfig({ sensors: "sim", actuators: "temperature:digital:2" }),
      "actuators",
      "also written by sensor",
      '"sim"',
    );
    rejected(() => parseDeviceConfig({ sensors: "sim-analog@telemetry.dropped" }), "sensors", "reserved");
    rejected(
      () => parseDeviceConfig({ sensors: "", actuators: "telemetry.dropped:digital:2" }),
      "actuators",
      "reserved",
    );
  });

  test("an output on a sensor's pin is refused, however the pin was chosen", () => {
    // A board whose I2C default is on GPIO 2 and that names no LED (e.g. M5Stack AtomS3, SDA 2).
    rejected(
      () => parseDeviceConfig({ sensors: "sht3x", actuators: "led:digital" }, { i2c: { sda: 2, scl: 1 } }),
      "actuators",
      '"led:digital": pin 2 is also used by sensor "sht3x"',
    );
    rejected(() => parseDeviceConfig({ sensors: "sht3x", actuators: "fan:pwm:22" }), "actuators", "pin 22", '"sht3x"');
    rejected(
      () => parseDeviceConfig({ sensors: "analog:4@light", actuators: "relay:digital:4:low" }),
      "actuators",
      "pin 4",
      '"analog:4@light"',
    );
    assert.equal(
      parseDeviceConfig({ sensors: "sht3x,analog:34", actuators: "led:digital,fan:pwm:4" }).actuators.length,
      2,
      "separate pins are fine",
    );
    assert.equal(
      parseDeviceConfig({ sensors: "sim,sim-analog", actuators: "led:digital:2" }).actuators.length,
      1,
      "simulated sensors have no pins",
    );
  });
});
