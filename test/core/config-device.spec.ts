// parseDeviceConfig and the sensor/actuator lists: what a command line like
//   mcconfig -d -m -p esp32 sensors=sht3x,analog:34@light actuators=led:digital:2 interval=5s
// turns into, and the clear stop for a bad value or settings that contradict each other.
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConfigError, DEFAULT_SETTINGS, MAX_ACTUATORS, MAX_SENSORS, parseActuators, parseDeviceConfig, parseSensors, SETTING_KEYS, SHT3X_DEFAULTS } from "../../device/config.js";
import { DEFAULT_TELEMETRY_CONFIG, MAX_BUFFER_SIZE } from "../../sensors/telemetry-config.js";

function rejected(fn: () => unknown, key: string, ...fragments: string[]): void {
  const error = assert.throws(fn, (e) => e instanceof ConfigError, `ConfigError for ${key}`) as ConfigError;
  assert.equal(error.key, key, `the error names the key: ${error.message}`);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} includes ${JSON.stringify(fragment)}`);
}

suite("config sensors", () => {
  test("each kind with its readings and default keys", () => {
    const [sim, simAnalog, sht, analog] = parseSensors("sensors", "sim,sim-analog@knob,sht3x@room,analog:34");
    assert.deepEqual(sim, {
      kind: "sim",
      entry: "sim",
      readings: [
        { path: "temperature", key: "temperature", decimals: 2 },
        { path: "humidity", key: "humidity", decimals: 2 },
      ],
    });
    assert.deepEqual(simAnalog, { kind: "sim-analog", entry: "sim-analog@knob", readings: [{ path: "raw", key: "knob", decimals: 0 }] });
    assert.deepEqual(sht, {
      kind: "sht3x",
      entry: "sht3x@room",
      readings: [
        { path: "thermometer.temperature", key: "room.temperature", decimals: 2 },
        { path: "hygrometer.humidity", key: "room.humidity", decimals: 2 },
      ],
      sda: SHT3X_DEFAULTS.sda,
      scl: SHT3X_DEFAULTS.scl,
      address: 0x44,
    });
    assert.deepEqual(analog, { kind: "analog", entry: "analog:34", readings: [{ path: "raw", key: "analog", decimals: 0 }], pin: 34 });
  });

  test("SHT3x pins and address; spaces around entries; empty and none", () => {
    const [sht] = parseSensors("sensors", " sht3x:4:5:0x45 ");
    assert.ok(sht !== undefined && sht.kind === "sht3x");
    assert.equal(sht.sda, 4);
    assert.equal(sht.scl, 5);
    assert.equal(sht.address, 0x45);
    assert.deepEqual(parseSensors("sensors", ""), []);
    assert.deepEqual(parseSensors("sensors", "none"), []);
  });

  test("mistakes name the entry", () => {
    rejected(() => parseSensors("sensors", "sht31"), "sensors", '"sht31"', "unknown sensor kind");
    rejected(() => parseSensors("sensors", "analog"), "sensors", "analog:PIN");
    rejected(() => parseSensors("sensors", "analog:99"), "sensors", "not a GPIO number");
    rejected(() => parseSensors("sensors", "analog:x"), "sensors", "not a GPIO number");
    rejected(() => parseSensors("sensors", "sim:3"), "sensors", "takes no arguments");
    rejected(() => parseSensors("sensors", "sht3x:1:2:0x44:9"), "sensors", "sht3x[:sda:scl[:address]]");
    rejected(() => parseSensors("sensors", "sht3x:21:22:0x80"), "sensors", "outside 8–119");
    rejected(() => parseSensors("sensors", "sim,,sim-analog"), "sensors", "empty entry");
    rejected(() => parseSensors("sensors", "analog:34@bad key"), "sensors", "not a theThings.IO key");
    rejected(() => parseSensors("sensors", "sim@"), "sensors", "nothing after @");
    rejected(() => parseSensors("sensors", Array(MAX_SENSORS + 1).fill("sim").map((s, i) => `${s}@s${i}`).join(",")), "sensors", `at most ${MAX_SENSORS}`);
  });

  test("two sensors writing one key are refused, with the way out", () => {
    rejected(() => parseSensors("sensors", "analog:34,analog:35"), "sensors", '"analog:34" and "analog:35"', "analog", "@");
    rejected(() => parseSensors("sensors", "sim,sht3x"), "sensors", "temperature");
    assert.equal(parseSensors("sensors", "analog:34,analog:35@analog2").length, 2);
  });
});

suite("config actuators", () => {
  test("digital and pwm with their options", () => {
    assert.deepEqual(parseActuators("actuators", "led:digital:2,relay:digital:4:low,fan:pwm:5,pump:pwm:18:25000"), [
      { kind: "digital", entry: "led:digital:2", key: "led", pin: 2, activeLow: false },
      { kind: "digital", entry: "relay:digital:4:low", key: "relay", pin: 4, activeLow: true },
      { kind: "pwm", entry: "fan:pwm:5", key: "fan", pin: 5, hz: undefined },
      { kind: "pwm", entry: "pump:pwm:18:25000", key: "pump", pin: 18, hz: 25000 },
    ]);
    assert.deepEqual(parseActuators("actuators", ""), []);
  });

  test("mistakes name the entry", () => {
    rejected(() => parseActuators("actuators", "led"), "actuators", "KEY:digital:PIN");
    rejected(() => parseActuators("actuators", "led:digital"), "actuators", "KEY:digital:PIN");
    rejected(() => parseActuators("actuators", "led:servo:2"), "actuators", "unknown actuator kind", '"servo"');
    rejected(() => parseActuators("actuators", "led:digital:2:high"), "actuators", "only digital option is low");
    rejected(() => parseActuators("actuators", "fan:pwm:5:fast"), "actuators", "not a whole number");
    rejected(() => parseActuators("actuators", "led:digital:64"), "actuators", "not a GPIO number");
    rejected(() => parseActuators("actuators", "l d:digital:2"), "actuators", "not a theThings.IO key");
    rejected(() => parseActuators("actuators", "led:digital:2:low:x"), "actuators", "KEY:digital:PIN");
    rejected(() => parseActuators("actuators", "led:digital:2,led:pwm:4"), "actuators", '"led" is given twice');
    rejected(() => parseActuators("actuators", "led:digital:2,fan:pwm:2"), "actuators", "same pin");
    rejected(() => parseActuators("actuators", Array(MAX_ACTUATORS + 1).fill(0).map((_, i) => `a${i}:digital:${i}`).join(",")), "actuators", `at most ${MAX_ACTUATORS}`);
  });
});

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
    assert.deepEqual(config.sensors.map((s) => s.kind), ["sim"]);
    assert.deepEqual(config.actuators, []);
    assert.equal(config.logLevel, "info");
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
      keepAlive: "45",
      reactivateOnAuthFailure: "yes",
      sensors: "sim,sim-analog",
      actuators: "led:digital:2,fan:pwm:4",
      logLevel: "debug",
      ssid: "home",
      password: "secret",
      sntp: "pool.ntp.org",
      file: { root: "/tmp" },
    });
    assert.equal(config.activationCode, "abc123");
    assert.equal(config.productId, "p-1");
    assert.deepEqual(config.server, { uri: "coap://127.0.0.1:15683", host: "127.0.0.1", port: 15683, isIpLiteral: true });
    assert.equal(config.telemetry.intervalMs, 500);
    assert.equal(config.telemetry.batch, 5);
    assert.equal(config.telemetry.maxDelayMs, 120_000);
    assert.equal(config.telemetry.bufferSize, 50);
    assert.equal(config.keepAliveMs, 45_000);
    assert.equal(config.reactivateOnAuthFailure, true);
    assert.deepEqual(config.sensors.map((s) => s.kind), ["sim", "sim-analog"]);
    assert.deepEqual(config.actuators.map((a) => `${a.key}:${a.kind}:${a.pin}`), ["led:digital:2", "fan:pwm:4"]);
    assert.equal(config.logLevel, "debug");
  });

  test("JSON numbers and booleans from a manifest are accepted; undefined falls back to the default", () => {
    const config = parseDeviceConfig({ batch: 10, bufferSize: 100, interval: 30, reactivateOnAuthFailure: true, keepAlive: undefined });
    assert.equal(config.telemetry.batch, 10);
    assert.equal(config.telemetry.bufferSize, 100);
    assert.equal(config.telemetry.intervalMs, 30_000);
    assert.equal(config.reactivateOnAuthFailure, true);
    assert.equal(config.keepAliveMs, 30_000);
  });

  test("a prototype key is not a setting", () => {
    const values = Object.create({ batch: "bad" }) as Record<string, unknown>;
    assert.equal(parseDeviceConfig(values).telemetry.batch, 20);
  });

  test("each bad value stops startup naming its key", () => {
    rejected(() => parseDeviceConfig({ interval: "fast" }), "interval", '"fast"');
    rejected(() => parseDeviceConfig({ batch: "0" }), "batch", "outside");
    rejected(() => parseDeviceConfig({ bufferSize: String(MAX_BUFFER_SIZE + 1) }), "bufferSize", `outside 1–${MAX_BUFFER_SIZE}`);
    rejected(() => parseDeviceConfig({ maxDelay: "0s" }), "maxDelay", "outside");
    rejected(() => parseDeviceConfig({ keepAlive: "1s" }), "keepAlive", "outside 5s–1h");
    rejected(() => parseDeviceConfig({ reactivateOnAuthFailure: "sometimes" }), "reactivateOnAuthFailure", "not a boolean");
    rejected(() => parseDeviceConfig({ server: "coaps://coap.thethings.io" }), "server", "DTLS");
    rejected(() => parseDeviceConfig({ sensors: "bme280" }), "sensors", "unknown sensor kind");
    rejected(() => parseDeviceConfig({ actuators: "led:digital" }), "actuators", "KEY:digital:PIN");
    rejected(() => parseDeviceConfig({ logLevel: "loud" }), "logLevel", "loud");
    rejected(() => parseDeviceConfig({ activationCode: "has space" }), "activationCode", "space");
  });

  test("settings that contradict each other", () => {
    rejected(() => parseDeviceConfig({ batch: "50", bufferSize: "20" }), "batch", "larger than bufferSize 20");
    rejected(() => parseDeviceConfig({ sensors: "sim", actuators: "temperature:digital:2" }), "actuators", "also written by sensor", '"sim"');
    rejected(() => parseDeviceConfig({ sensors: "sim-analog@telemetry.dropped" }), "sensors", "reserved");
    rejected(() => parseDeviceConfig({ sensors: "", actuators: "telemetry.dropped:digital:2" }), "actuators", "reserved");
  });
});
